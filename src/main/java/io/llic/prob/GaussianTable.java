package io.llic.prob;

/**
 * The standard normal CDF as an integer table, so that every machine computes identical values.
 *
 * <p>{@code PHI[i] = round(Phi(z_i) * 2^30)} at {@code z_i = i / 1024 - 8}. The table is built once,
 * at class load, by integrating the normal density cell by cell with Simpson's rule in strict
 * double arithmetic and {@link StrictMath#exp}; a running sum makes it non-decreasing by
 * construction. Lookups interpolate linearly in integers between table points, so {@link #phi} is
 * a non-decreasing function of its argument, exact and identical everywhere (the determinism
 * contract, ARCHITECTURE.md). Interpolation error is below 3e-8, far under the 2^-16 resolution of
 * the coding CDFs.
 */
public final class GaussianTable {
    /** Fractional bits of the argument z given to {@link #phi}. */
    public static final int Z_FRACTION_BITS = 16;
    /** Fractional bits of the results: Phi is returned in units of 2^-30. */
    public static final int PHI_BITS = 30;
    private static final int CELL_BITS = 10; // table step 2^-10
    private static final int Z_RANGE = 8;    // the table covers [-8, 8]
    private static final int CELLS = 2 * Z_RANGE << CELL_BITS;
    private static final int INTERP_BITS = Z_FRACTION_BITS - CELL_BITS;
    private static final int[] PHI = build();

    private GaussianTable() {}

    private static int[] build() {
        int[] table = new int[CELLS + 1];
        double h = 1.0 / (1 << CELL_BITS);
        double norm = 1.0 / StrictMath.sqrt(2 * StrictMath.PI);
        double cumulative = 0;
        table[0] = 0;
        for (int i = 0; i < CELLS; i++) {
            double a = i * h - Z_RANGE;
            double b = a + h;
            double m = a + h / 2;
            double cell = h / 6 * (density(a) + 4 * density(m) + density(b)) * norm;
            cumulative += cell;
            table[i + 1] = (int) StrictMath.round(cumulative * (1 << PHI_BITS));
        }
        // Phi(-8) and 1 - Phi(8) are below 2^-30: pin the end exactly at 1.
        table[CELLS] = 1 << PHI_BITS;
        for (int i = 1; i <= CELLS; i++) {
            table[i] = Math.min(Math.max(table[i], table[i - 1]), 1 << PHI_BITS);
        }
        return table;
    }

    private static double density(double z) {
        return StrictMath.exp(-0.5 * z * z);
    }

    /** Phi(z) in units of 2^-30, for z given in units of 2^-16. Non-decreasing in {@code zFixed}. */
    public static long phi(long zFixed) {
        long shifted = zFixed + ((long) Z_RANGE << Z_FRACTION_BITS);
        if (shifted <= 0) {
            return 0;
        }
        long cell = shifted >> INTERP_BITS;
        if (cell >= CELLS) {
            return 1L << PHI_BITS;
        }
        int i = (int) cell;
        long frac = shifted & ((1 << INTERP_BITS) - 1);
        return PHI[i] + (((PHI[i + 1] - PHI[i]) * frac) >> INTERP_BITS);
    }
}
