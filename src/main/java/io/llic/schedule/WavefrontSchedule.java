package io.llic.schedule;

/**
 * Wavefront schedule of Gumus and Kamisli (arXiv 2212.01185, decoder method 1): pixel (i, j) is
 * decoded at step {@code t = 3i + j}. The right-most context pixel of the row above, (i-1, j+2), is
 * decoded at step t-1, as is the left neighbour, so every pixel sees its full causal context and the
 * result is bit-for-bit that of sequential coding. Steps: W + 3(H-1); within a step, rows increase.
 *
 * <pre>
 *   0  1  2  3  4  5  6
 *   3  4  5  6  7  8  9
 *   6  7  8  9 10 11 12
 * </pre>
 */
public final class WavefrontSchedule implements Schedule {
    public static final String NAME = "wavefront";
    /** Lag between rows: (K + 1) / 2 for a K x K causal window, K = 5. */
    static final int LAG = 3;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int stepCount(int height, int width) {
        return width + LAG * (height - 1);
    }

    @Override
    public int maxPixelsPerStep(int height, int width) {
        return Math.min(height, (width + LAG - 1) / LAG);
    }

    @Override
    public int pixelsOfStep(int height, int width, int step, int[] out) {
        int firstRow = Math.max(0, Math.floorDiv(step - width + LAG, LAG)); // smallest i with step - 3i < width
        int lastRow = Math.min(height - 1, step / LAG);
        int n = 0;
        for (int i = firstRow; i <= lastRow; i++) {
            out[n++] = i * width + (step - LAG * i);
        }
        return n;
    }
}
