package io.llic.image;

/**
 * The reversible YCoCg-R colour transform by integer lifting (Malvar and Sullivan, JVT-I014r3;
 * ALGORITHMS.md B.1), as LLICTI codes its images. {@code >>} is an arithmetic shift, i.e. floor
 * division by 2, so the inverse is exact for every input:
 * <pre>
 *   forward                 inverse
 *   Co = R - B              t = Y - (Cg >> 1)
 *   t  = B + (Co >> 1)      G = Cg + t
 *   Cg = G - t              B = t - (Co >> 1)
 *   Y  = t + (Cg >> 1)      R = B + Co
 * </pre>
 * For 8-bit RGB, Y lies in [0, 255] and Co, Cg in [-255, 255] (9 bits: 511 symbols).
 */
public final class YCoCgR {
    public static final int Y_MIN = 0;
    public static final int Y_MAX = 255;
    public static final int CHROMA_MIN = -255;
    public static final int CHROMA_MAX = 255;

    private YCoCgR() {}

    /** Planes of an image in YCoCg-R: {@code y[i], co[i], cg[i]} for pixel {@code i = row * width + col}. */
    public record Planes(int width, int height, short[] y, short[] co, short[] cg) {
        public Planes {
            int n = width * height;
            if (y.length != n || co.length != n || cg.length != n) {
                throw new IllegalArgumentException("planes of " + width + "x" + height + " need " + n + " samples each");
            }
        }

        public Planes(int width, int height) {
            this(width, height, new short[width * height], new short[width * height], new short[width * height]);
        }
    }

    /** The Y, Co, Cg values of one RGB pixel, packed as {@code {y, co, cg}}. */
    public static int[] forward(int r, int g, int b) {
        int co = r - b;
        int t = b + (co >> 1);
        int cg = g - t;
        return new int[] {t + (cg >> 1), co, cg};
    }

    /** The R, G, B values of one pixel, packed as {@code {r, g, b}}. */
    public static int[] inverse(int y, int co, int cg) {
        int t = y - (cg >> 1);
        int g = cg + t;
        int b = t - (co >> 1);
        return new int[] {b + co, g, b};
    }

    /** The whole image in YCoCg-R. */
    public static Planes forward(RgbImage image) {
        Planes p = new Planes(image.width(), image.height());
        byte[] s = image.samples();
        for (int i = 0, k = 0; i < p.y().length; i++, k += 3) {
            int r = s[k] & 0xFF;
            int g = s[k + 1] & 0xFF;
            int b = s[k + 2] & 0xFF;
            int co = r - b;
            int t = b + (co >> 1);
            int cg = g - t;
            p.y()[i] = (short) (t + (cg >> 1));
            p.co()[i] = (short) co;
            p.cg()[i] = (short) cg;
        }
        return p;
    }

    /**
     * The RGB image of YCoCg-R planes. Planes that did not come from an 8-bit image (a corrupt
     * stream) give values outside 0..255: they are refused, never wrapped.
     */
    public static RgbImage inverse(Planes p) {
        RgbImage image = new RgbImage(p.width(), p.height());
        byte[] s = image.samples();
        for (int i = 0, k = 0; i < p.y().length; i++, k += 3) {
            int cg = p.cg()[i];
            int co = p.co()[i];
            int t = p.y()[i] - (cg >> 1);
            int g = cg + t;
            int b = t - (co >> 1);
            int r = b + co;
            if ((r | g | b) < 0 || r > 255 || g > 255 || b > 255) {
                throw new IllegalArgumentException("YCoCg-R sample " + i + " (" + p.y()[i] + ", " + co + ", " + cg
                        + ") is not an 8-bit RGB pixel");
            }
            s[k] = (byte) r;
            s[k + 1] = (byte) g;
            s[k + 2] = (byte) b;
        }
        return image;
    }
}
