package io.llic.entropy;

import java.util.Arrays;

/**
 * A static table of integer symbol frequencies with a total of exactly {@code 2^precisionBits}, every
 * frequency at least 1. Used by tests, the benchmark, and anywhere a fixed distribution is coded.
 */
public final class FrequencyTable {
    private final int precisionBits;
    private final int[] cumulative; // cumulative[s] = start of symbol s; cumulative[n] = total

    private FrequencyTable(int precisionBits, int[] cumulative) {
        this.precisionBits = precisionBits;
        this.cumulative = cumulative;
    }

    /**
     * Quantises non-negative weights to frequencies: each symbol gets 1, and the rest of the total is
     * shared in proportion to the weights (largest remainders first, ties to the lower symbol).
     */
    public static FrequencyTable fromWeights(double[] weights, int precisionBits) {
        int n = weights.length;
        long total = 1L << precisionBits;
        if (n == 0 || n > total) {
            throw new IllegalArgumentException(n + " symbols do not fit a total of " + total);
        }
        double sum = 0;
        for (double w : weights) {
            if (!(w >= 0) || Double.isInfinite(w)) {
                throw new IllegalArgumentException("weights must be finite and >= 0");
            }
            sum += w;
        }
        long spare = total - n;
        long[] freq = new long[n];
        double[] remainder = new double[n];
        long given = 0;
        for (int s = 0; s < n; s++) {
            double share = sum > 0 ? weights[s] / sum * spare : (double) spare / n;
            long whole = (long) Math.floor(share);
            freq[s] = 1 + whole;
            remainder[s] = share - whole;
            given += whole;
        }
        Integer[] order = new Integer[n];
        for (int s = 0; s < n; s++) {
            order[s] = s;
        }
        Arrays.sort(order, (a, b) -> Double.compare(remainder[b], remainder[a]));
        for (int k = 0; given < spare; k = (k + 1) % n, given++) {
            freq[order[k]]++;
        }
        int[] cum = new int[n + 1];
        for (int s = 0; s < n; s++) {
            cum[s + 1] = (int) (cum[s] + freq[s]);
        }
        return new FrequencyTable(precisionBits, cum);
    }

    public int precisionBits() {
        return precisionBits;
    }

    public int symbolCount() {
        return cumulative.length - 1;
    }

    public int start(int symbol) {
        return cumulative[symbol];
    }

    public int freq(int symbol) {
        return cumulative[symbol + 1] - cumulative[symbol];
    }

    /** The symbol whose interval contains {@code target} (binary search). */
    public int symbolFor(int target) {
        int lo = 0;
        int hi = cumulative.length - 1;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] <= target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Ideal code length of a symbol in bits. */
    public double bits(int symbol) {
        return precisionBits - StrictMath.log(freq(symbol)) / StrictMath.log(2);
    }
}
