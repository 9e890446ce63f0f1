package io.llic.model.causal;

import io.llic.image.RgbImage;
import io.llic.prob.MixtureCdf;
import io.llic.schedule.CausalTaps;
import io.llic.schedule.Schedule;

/**
 * Model family {@code causal}: the 59K-parameter pixel model of Gumus and Kamisli (ALGORITHMS.md A).
 *
 * <p>Inputs (36 integers per pixel): the 12 causal taps of {@link CausalTaps}, each as R, G, B pixel
 * values 0..255 ({@code input[tap * 3 + c]}), zero outside the image. The 1/255 input scaling is
 * folded into the first layer's weights. Outputs (36 integers, units of 2^-24): means [0:9],
 * standard deviations [9:18], mixture logits [18:27], alpha [27:30], beta [30:33], gamma [33:36];
 * colour channel c, component m at {@code c * 3 + m} within each group.
 */
public final class CausalModel {
    public static final String FAMILY = "causal";
    public static final int MIXTURES = 3;
    public static final int INPUTS = CausalTaps.COUNT * 3;
    public static final int OUTPUTS = 12 * MIXTURES;
    static final int MEAN = 0;
    static final int SIGMA = 9;
    static final int LOGIT = 18;
    static final int ALPHA = 27;
    static final int BETA = 30;
    static final int GAMMA = 33;

    private CausalModel() {}

    /**
     * Writes the network inputs of {@code count} pixels (linear indices {@code pixels[first..]}) into
     * {@code out} from {@code out[offset]} on, 36 per pixel, reading the taps the schedule says to read.
     */
    public static void contexts(RgbImage image, Schedule schedule, int[] pixels, int first, int count, long[] out,
                                int offset) {
        int width = image.width();
        int height = image.height();
        byte[] s = image.samples();
        int[] readRow = new int[CausalTaps.COUNT];
        int[] readCol = new int[CausalTaps.COUNT];
        for (int t = 0; t < CausalTaps.COUNT; t++) {
            readRow[t] = schedule.readRow(t);
            readCol[t] = schedule.readCol(t);
        }
        for (int p = 0; p < count; p++) {
            int index = pixels[first + p];
            int row = index / width;
            int col = index - row * width;
            int o = offset + p * INPUTS;
            for (int t = 0; t < CausalTaps.COUNT; t++) {
                int r = row + readRow[t];
                int c = col + readCol[t];
                if (r < 0 || c < 0 || c >= width || r >= height) {
                    out[o] = 0;
                    out[o + 1] = 0;
                    out[o + 2] = 0;
                } else {
                    int k = (r * width + c) * 3;
                    out[o] = s[k] & 0xFF;
                    out[o + 1] = s[k + 1] & 0xFF;
                    out[o + 2] = s[k + 2] & 0xFF;
                }
                o += 3;
            }
        }
    }

    /**
     * Per-thread helper that loads the coding distribution of one channel of one pixel from the
     * network outputs; R and G are the true values of the pixel (used for channel coupling).
     */
    public static final class Distribution {
        private final MixtureCdf cdf = new MixtureCdf(MIXTURES);
        private final long[] coupling = new long[MIXTURES];

        /** The CDF of channel {@code c} of the pixel whose 36 outputs start at {@code out[off]}. */
        public MixtureCdf channel(long[] out, int off, int c, int red, int green) {
            long[] couplingSum = null;
            if (c == 1) {
                for (int m = 0; m < MIXTURES; m++) {
                    coupling[m] = out[off + ALPHA + m] * red;
                }
                couplingSum = coupling;
            } else if (c == 2) {
                for (int m = 0; m < MIXTURES; m++) {
                    coupling[m] = out[off + BETA + m] * red + out[off + GAMMA + m] * green;
                }
                couplingSum = coupling;
            }
            int k = c * MIXTURES;
            cdf.set(out, off + MEAN + k, out, off + SIGMA + k, out, off + LOGIT + k, couplingSum);
            return cdf;
        }
    }
}
