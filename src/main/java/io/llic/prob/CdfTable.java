package io.llic.prob;

/**
 * The CDF of a standard mixture kernel (normal or logistic) as an integer table, so that every
 * machine computes identical values.
 *
 * <p>{@code TABLE[i] = round(F(z_i) * 2^30)} at {@code z_i = i / 1024 - range}. The normal table is
 * built at class load by integrating the density cell by cell with Simpson's rule; the logistic one
 * from {@code 1 / (1 + exp(-z))}. Both use strict double arithmetic and {@link StrictMath#exp} only,
 * and a running maximum makes them non-decreasing by construction. Lookups interpolate linearly in
 * integers between table points, so {@link #cdf} is a non-decreasing function of its argument,
 * exact and identical everywhere (the determinism contract, ARCHITECTURE.md). Interpolation error
 * is below 3e-8, far under the 2^-16 resolution of the coding CDFs.
 */
public final class CdfTable {
    /** Fractional bits of the argument z given to {@link #cdf}. */
    public static final int Z_FRACTION_BITS = 16;
    /** Fractional bits of the results: F is returned in units of 2^-30. */
    public static final int CDF_BITS = 30;
    private static final int CELL_BITS = 10; // table step 2^-10
    private static final int INTERP_BITS = Z_FRACTION_BITS - CELL_BITS;

    /** The standard normal CDF Phi over [-8, 8] (beyond, Phi is within 2^-30 of 0 or 1). */
    public static final CdfTable GAUSSIAN = new CdfTable(8, true);
    /** The standard logistic CDF 1 / (1 + e^-z) over [-22, 22]. */
    public static final CdfTable LOGISTIC = new CdfTable(22, false);

    private final int range;
    private final int cells;
    private final int[] table;

    private CdfTable(int range, boolean gaussian) {
        this.range = range;
        this.cells = 2 * range << CELL_BITS;
        this.table = gaussian ? integrateNormal() : logistic();
        table[0] = 0;
        table[cells] = 1 << CDF_BITS; // pin the ends exactly
        for (int i = 1; i <= cells; i++) {
            table[i] = Math.min(Math.max(table[i], table[i - 1]), 1 << CDF_BITS);
        }
    }

    private double z(int i) {
        return (double) i / (1 << CELL_BITS) - range;
    }

    private int[] integrateNormal() {
        int[] t = new int[cells + 1];
        double h = 1.0 / (1 << CELL_BITS);
        double norm = 1.0 / StrictMath.sqrt(2 * StrictMath.PI);
        double cumulative = 0;
        for (int i = 0; i < cells; i++) {
            double a = z(i);
            double cell = h / 6 * (density(a) + 4 * density(a + h / 2) + density(a + h)) * norm;
            cumulative += cell;
            t[i + 1] = (int) StrictMath.round(cumulative * (1 << CDF_BITS));
        }
        return t;
    }

    private static double density(double z) {
        return StrictMath.exp(-0.5 * z * z);
    }

    private int[] logistic() {
        int[] t = new int[cells + 1];
        for (int i = 0; i <= cells; i++) {
            t[i] = (int) StrictMath.round((1 << CDF_BITS) / (1 + StrictMath.exp(-z(i))));
        }
        return t;
    }

    /** F(z) in units of 2^-30, for z given in units of 2^-16. Non-decreasing in {@code zFixed}. */
    public long cdf(long zFixed) {
        long shifted = zFixed + ((long) range << Z_FRACTION_BITS);
        if (shifted <= 0) {
            return 0;
        }
        long cell = shifted >> INTERP_BITS;
        if (cell >= cells) {
            return 1L << CDF_BITS;
        }
        int i = (int) cell;
        long frac = shifted & ((1 << INTERP_BITS) - 1);
        return table[i] + (((table[i + 1] - table[i]) * frac) >> INTERP_BITS);
    }
}
