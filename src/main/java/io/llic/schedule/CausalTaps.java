package io.llic.schedule;

/**
 * The 12 causal neighbours of the 5x5 PixelCNN type-A mask (ALGORITHMS.md A.1), in the order the
 * network reads them: the two rows above (columns j-2..j+2), then the two pixels to the left.
 *
 * <pre>
 *   x x x x x      row i-2
 *   x x x x x      row i-1
 *   x x o . .      row i   (o = the pixel being coded)
 * </pre>
 */
public final class CausalTaps {
    public static final int COUNT = 12;
    /** Row offsets of the taps. */
    public static final int[] DR = {-2, -2, -2, -2, -2, -1, -1, -1, -1, -1, 0, 0};
    /** Column offsets of the taps. */
    public static final int[] DC = {-2, -1, 0, 1, 2, -2, -1, 0, 1, 2, -2, -1};

    private CausalTaps() {}

    /** Index of the tap at (dr, dc), or -1. */
    public static int indexOf(int dr, int dc) {
        for (int t = 0; t < COUNT; t++) {
            if (DR[t] == dr && DC[t] == dc) {
                return t;
            }
        }
        return -1;
    }
}
