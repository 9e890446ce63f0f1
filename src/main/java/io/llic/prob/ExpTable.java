package io.llic.prob;

/**
 * {@code exp(-d)} for {@code d >= 0} as an integer table with integer interpolation, for the softmax
 * of mixture weights: identical on every machine and JVM, and cheaper than {@link StrictMath#exp}.
 * Entries are {@code round(exp(-i / 1024) * 2^30)} for {@code i / 1024} in [0, 24]; beyond 24 the
 * value is below 2^-30 and returned as 0. Linear interpolation errs by less than 1.2e-7.
 */
final class ExpTable {
    /** Fraction bits of the argument (the network's output units). */
    static final int ARG_FRACTION_BITS = MixtureCdf.PARAM_FRACTION_BITS;
    static final int VALUE_BITS = 30;
    private static final int CELL_BITS = 10;
    private static final int RANGE = 24;
    private static final int CELLS = RANGE << CELL_BITS;
    private static final int INTERP_BITS = ARG_FRACTION_BITS - CELL_BITS;
    private static final int[] TABLE = build();

    private ExpTable() {}

    private static int[] build() {
        int[] t = new int[CELLS + 1];
        for (int i = 0; i <= CELLS; i++) {
            t[i] = (int) StrictMath.round(StrictMath.exp(-(double) i / (1 << CELL_BITS)) * (1 << VALUE_BITS));
        }
        t[CELLS] = 0;
        return t;
    }

    /** exp(-d / 2^24) in units of 2^-30, for d >= 0 in units of 2^-24; non-increasing in d. */
    static long expNegative(long d) {
        long cell = d >> INTERP_BITS;
        if (cell >= CELLS) {
            return 0;
        }
        int i = (int) cell;
        long frac = d & ((1L << INTERP_BITS) - 1);
        return TABLE[i] - (((TABLE[i] - TABLE[i + 1]) * frac) >> INTERP_BITS);
    }
}
