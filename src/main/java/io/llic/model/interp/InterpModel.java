package io.llic.model.interp;

import io.llic.schedule.Polyphase;

/**
 * Family {@code interp}: LLICTI's interpolation across scales (Kamisli, arXiv 2212.13243;
 * ALGORITHMS.md B). Three band networks, shared by all scales, each predict one sub-image of a level
 * from the sub-images already known, in YCoCg-R.
 *
 * <p>Inputs of a band network: the samples of its context windows (B.3) in window order, rows outer,
 * columns inner, each as Y (0..255), Co, Cg (-255..255); the offsets (Y - 127)/255, Co/255, Cg/255
 * are folded into layer 0. A window read outside a sub-image replicates its border; a sub-image that
 * does not exist (tiny images) reads (127, 0, 0), i.e. zero after scaling.
 * <pre>
 *   band 0 predicts x11 from x00 rows i-1..i+2, cols j-1..j+2                              48 inputs
 *   band 1 predicts x01 from x00 rows i-1..i+1, cols j-1..j+2; x11 rows i-2..i+1, cols j-1..j+1   72
 *   band 2 predicts x10 from x00 rows i-1..i+2, cols j-1..j+1; x11 rows i-1..i+1, cols j-2..j+1;
 *                            x01 rows i-1..i+2, cols j-2..j+1                                     120
 * </pre>
 * Outputs (60 integers, units of 2^-24, four groups of 15: separate sub-networks per distribution
 * parameter, B.4): sigma [0:15], mu [15:30], mixture logits [30:45] (channel c, component m at
 * {@code c * 5 + m}), then coupling a [45:50], b [50:55], d [55:60]: the Co means move by
 * {@code a_m (Y - 127)}, the Cg means by {@code b_m (Y - 127) + d_m Co} (true values of the sample).
 * Y's mean is {@code 127 + 255 mu}. Mixture weights are a softmax of the logits, as in the causal
 * family (the paper normalises clipped weights instead).
 */
public final class InterpModel {
    public static final String FAMILY = "interp";
    public static final int LEVELS = 5;
    public static final int MIXTURES = 5;
    public static final int OUTPUTS = 60;
    public static final int GROUPS = 4;
    public static final int SIGMA = 0;
    public static final int MEAN = 15;
    public static final int LOGIT = 30;
    public static final int COUPLING_A = 45;
    public static final int COUPLING_B = 50;
    public static final int COUPLING_D = 55;
    /** Y value whose scaled input is zero: what a missing sub-image reads. */
    public static final int Y_ZERO = 127;

    /** The sub-image each band predicts. */
    public static final int[] TARGET = {Polyphase.X11, Polyphase.X01, Polyphase.X10};

    /** Context windows per band: {kind, first row, last row, first col, last col} relative to (i, j). */
    static final int[][][] WINDOWS = {
            {{Polyphase.X00, -1, 2, -1, 2}},
            {{Polyphase.X00, -1, 1, -1, 2}, {Polyphase.X11, -2, 1, -1, 1}},
            {{Polyphase.X00, -1, 2, -1, 1}, {Polyphase.X11, -1, 1, -2, 1}, {Polyphase.X01, -1, 2, -2, 1}},
    };

    private InterpModel() {}

    /** Inputs of band {@code band}'s network: 3 per window sample. */
    public static int inputs(int band) {
        int n = 0;
        for (int[] w : WINDOWS[band]) {
            n += (w[2] - w[1] + 1) * (w[4] - w[3] + 1);
        }
        return 3 * n;
    }

    /**
     * Writes band {@code band}'s inputs for sample (i, j) at {@code level} into {@code out[o..]},
     * reading the planes. With {@code transposed}, the windows are read with rows and columns swapped
     * (the checkerboard schedule predicts x10 with band 1's network: x10 of the image is x01 of its
     * transpose). Returns the next offset.
     */
    public static int gather(Polyphase split, short[] y, short[] co, short[] cg, int band, int level, int i, int j,
                      boolean transposed, long[] out, int o) {
        int width = split.width();
        int s = Polyphase.stride(level);
        for (int[] w : WINDOWS[band]) {
            int kind = w[0];
            // Polyphase.clampedPixel, with the sub-image's size and offsets taken once per window
            int rows = split.rows(level, kind);
            int cols = split.cols(level, kind);
            int base = Polyphase.rowOffset(level, kind) * width + Polyphase.colOffset(level, kind);
            for (int dr = w[1]; dr <= w[2]; dr++) {
                for (int dc = w[3]; dc <= w[4]; dc++) {
                    if (rows == 0 || cols == 0) {
                        out[o] = Y_ZERO;
                        out[o + 1] = 0;
                        out[o + 2] = 0;
                    } else {
                        int a = transposed ? i + dc : i + dr;
                        int b = transposed ? j + dr : j + dc;
                        a = a < 0 ? 0 : a >= rows ? rows - 1 : a;
                        b = b < 0 ? 0 : b >= cols ? cols - 1 : b;
                        int p = base + a * s * width + b * s;
                        out[o] = y[p];
                        out[o + 1] = co[p];
                        out[o + 2] = cg[p];
                    }
                    o += 3;
                }
            }
        }
        return o;
    }
}
