package io.llic.model.l3c;

/**
 * The normalised LMS the l3c family's corrections while coding learn with ({@link L3CPlaneAdaptation},
 * {@link L3CLogisticAdaptation}): Q16 weights clamped to +-16, a forecast {@code sum(w f) >> 16}, and after
 * each symbol {@code w += floor((r f) 2^(16 - step) / (2^16 + |f|^2))}. Integers only; part of the format.
 */
final class Nlms {
    /** Octaves of the network's spread that select a weight set. */
    static final int OCTAVES = 16;
    private static final long NORM_FLOOR = 1L << 16;
    private static final long WEIGHT_LIMIT = 16L << 16;

    private Nlms() {}

    /** {@code sum(w f) >> 16} over the {@code n} taps and the weights from {@code set}. */
    static long forecast(long[] weights, int set, long[] taps, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += weights[set + i] * taps[i];
        }
        return sum >> 16;
    }

    /** One normalised step of the weights from {@code set} towards the {@code residual} left by their forecast. */
    static void learn(long[] weights, int set, long[] taps, int n, long residual, int stepShift) {
        long norm = NORM_FLOOR;
        for (int i = 0; i < n; i++) {
            norm += taps[i] * taps[i];
        }
        for (int i = 0; i < n; i++) {
            long w = weights[set + i] + Math.floorDiv((residual * taps[i]) << (16 - stepShift), norm);
            weights[set + i] = Math.max(-WEIGHT_LIMIT, Math.min(WEIGHT_LIMIT, w));
        }
    }

    /** The octave of a spread (2^-8 units): 0 up to 32, then one per doubling, at most 15. */
    static int octave(long spreadQ8) {
        return Math.max(0, Math.min(OCTAVES - 1, 63 - Long.numberOfLeadingZeros(Math.max(1, spreadQ8)) - 4));
    }
}
