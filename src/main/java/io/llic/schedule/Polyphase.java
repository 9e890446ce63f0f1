package io.llic.schedule;

/**
 * The "lazy wavelet" split of LLICTI (Kamisli, arXiv 2212.13243; ALGORITHMS.md B.2): at level L
 * (stride s = 2^(L+1), offset o = s/2) the image's samples at rows and columns that are multiples
 * of s/2 form four sub-images,
 * <pre>
 *   x00 = x[0::s, 0::s]    x01 = x[0::s, o::s]          x00 x01 x00 x01      (level 0: s = 2)
 *   x10 = x[o::s, 0::s]    x11 = x[o::s, o::s]          x10 x11 x10 x11
 *                                                       x00 x01 x00 x01
 * </pre>
 * so level L's four sub-images are the 2x2 polyphase split of level L-1's x00. The coarsest x00 (at
 * level {@code levels - 1}) is stored as it is; every other sample belongs to exactly one x01, x10 or
 * x11 of one level. Odd sizes need no padding here: a sub-image simply has one row or column fewer
 * (or none at all in a tiny image), and window reads are clamped into it (replication, as the
 * paper's padding).
 *
 * <p>Sub-image samples are named by their full-resolution pixel index {@code row * width + col}.
 */
public final class Polyphase {
    /** Sub-image kinds: the position of the sample within its 2x2 cell of level L-1's x00. */
    public static final int X00 = 0;
    public static final int X01 = 1;
    public static final int X10 = 2;
    public static final int X11 = 3;

    private final int width;
    private final int height;
    private final int levels;

    public Polyphase(int width, int height, int levels) {
        if (width < 1 || height < 1 || levels < 1 || levels > 16) {
            throw new IllegalArgumentException("bad polyphase split: " + width + "x" + height + ", " + levels + " levels");
        }
        this.width = width;
        this.height = height;
        this.levels = levels;
    }

    public int levels() {
        return levels;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Stride s = 2^(level+1) of the level's sub-images in full-resolution pixels. */
    public static int stride(int level) {
        return 2 << level;
    }

    /** Row offset of sub-image {@code kind} at {@code level}. */
    public static int rowOffset(int level, int kind) {
        return kind == X10 || kind == X11 ? stride(level) / 2 : 0;
    }

    /** Column offset of sub-image {@code kind} at {@code level}. */
    public static int colOffset(int level, int kind) {
        return kind == X01 || kind == X11 ? stride(level) / 2 : 0;
    }

    /** Rows of sub-image {@code kind} at {@code level} (0 when the image is too small to have any). */
    public int rows(int level, int kind) {
        return count(height, rowOffset(level, kind), stride(level));
    }

    /** Columns of sub-image {@code kind} at {@code level}. */
    public int cols(int level, int kind) {
        return count(width, colOffset(level, kind), stride(level));
    }

    public int samples(int level, int kind) {
        return rows(level, kind) * cols(level, kind);
    }

    private static int count(int size, int offset, int stride) {
        return size <= offset ? 0 : (size - offset + stride - 1) / stride;
    }

    /** Full-resolution pixel index of sample (i, j) of sub-image {@code kind} at {@code level}. */
    public int pixel(int level, int kind, int i, int j) {
        int s = stride(level);
        return (rowOffset(level, kind) + i * s) * width + colOffset(level, kind) + j * s;
    }

    /**
     * Full-resolution pixel index of sample (i, j) clamped into sub-image {@code kind} (replication at
     * the borders), or -1 when the sub-image is empty.
     */
    public int clampedPixel(int level, int kind, int i, int j) {
        int r = rows(level, kind);
        int c = cols(level, kind);
        if (r == 0 || c == 0) {
            return -1;
        }
        return pixel(level, kind, Math.max(0, Math.min(r - 1, i)), Math.max(0, Math.min(c - 1, j)));
    }

    /** Writes the pixel indices of sub-image {@code kind} at {@code level}, in raster order, from {@code out[from]}; returns the count. */
    public int pixels(int level, int kind, int[] out, int from) {
        int r = rows(level, kind);
        int c = cols(level, kind);
        int n = from;
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                out[n++] = pixel(level, kind, i, j);
            }
        }
        return n - from;
    }
}
