package io.llic.schedule;

/**
 * A decoding schedule: which pixels are decoded together at each step, in which order, and (for
 * approximate schedules) which causal neighbours stand in for ones not yet decoded. The encoder and
 * the decoder walk the same schedule object, so they cannot drift apart.
 *
 * <p>Within a step the stream holds all R values of the step's pixels (in {@link #pixelsOfStep}
 * order), then all G, then all B (ALGORITHMS.md A.5).
 */
public interface Schedule {
    /** The name written into the .llic header. */
    String name();

    int stepCount(int height, int width);

    /** Upper bound of the pixels of any one step. */
    int maxPixelsPerStep(int height, int width);

    /**
     * Writes the pixels of step {@code step} as linear indices {@code row * width + col} into
     * {@code out}, in coding order, and returns how many there are.
     */
    int pixelsOfStep(int height, int width, int step, int[] out);

    /**
     * Row offset actually read for causal tap {@code tap} (see {@link CausalTaps}); the canonical
     * offset for exact schedules.
     */
    default int readRow(int tap) {
        return CausalTaps.DR[tap];
    }

    /** Column offset actually read for causal tap {@code tap}. */
    default int readCol(int tap) {
        return CausalTaps.DC[tap];
    }

    /** True when every pixel sees its full causal context, so the result equals sequential coding. */
    default boolean exact() {
        return true;
    }
}
