package io.llic.schedule;

/**
 * One pixel per step, in raster order: the reference schedule (ALGORITHMS.md A.5, run type "S").
 *
 * <pre>
 *   0 1 2 3
 *   4 5 6 7      step = i * W + j
 *   8 9 ...
 * </pre>
 */
public final class SequentialSchedule implements Schedule {
    public static final String NAME = "sequential";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int stepCount(int height, int width) {
        return height * width;
    }

    @Override
    public int maxPixelsPerStep(int height, int width) {
        return 1;
    }

    @Override
    public int pixelsOfStep(int height, int width, int step, int[] out) {
        out[0] = step;
        return 1;
    }
}
