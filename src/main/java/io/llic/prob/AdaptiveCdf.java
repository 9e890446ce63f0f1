package io.llic.prob;

/**
 * A distribution learned from the symbols coded so far, in integers: every symbol starts with count 1
 * and gains {@link #INCREMENT} each time it is coded (the Krichevsky-Trofimov estimator, counts
 * doubled: a symbol seen k times of n has probability (2k + 1) / (2n + symbols)). Its cost over a whole
 * plane is the plane's order-0 entropy plus at most about (symbols - 1) / 2 * log2(n) bits: a constant
 * plane of n symbols costs about that much, where a uniform distribution costs n log2(symbols).
 * {@code start(s) = floor(C(s) * 2^16 / total)} with C the cumulative counts: every symbol keeps a
 * frequency of at least 1 as long as the total stays at most 2^16, so when an update would pass it,
 * every count is halved first (rounding up, so none reaches 0); the bound above holds until then (about
 * 32,000 symbols of 25: a z3 channel of an l3c tile up to about 1,400 pixels wide and tall), after which
 * the counts favour recent symbols. Encoder and decoder make the same
 * {@link #update} calls in the same order, so they hold the same table.
 */
public final class AdaptiveCdf implements IntCdf {
    /** What coding a symbol adds to its count (the initial count is 1). */
    public static final int INCREMENT = 2;
    private final int[] counts;
    private final int[] starts;
    private int total;
    private int foundStart;
    private int foundFreq;

    public AdaptiveCdf(int symbols) {
        if (symbols < 1 || symbols > TOTAL / 2) {
            throw new IllegalArgumentException("an adaptive 16-bit distribution takes 1.." + TOTAL / 2 + " symbols, not "
                    + symbols);
        }
        counts = new int[symbols];
        starts = new int[symbols + 1];
        reset();
    }

    /** Forgets what was coded: every symbol back to count 1. */
    public void reset() {
        java.util.Arrays.fill(counts, 1);
        total = counts.length;
        rebuild();
    }

    /** Counts {@code symbol} as coded once more. */
    public void update(int symbol) {
        if (total + INCREMENT > TOTAL) {
            total = 0;
            for (int s = 0; s < counts.length; s++) {
                counts[s] = (counts[s] + 1) >> 1;
                total += counts[s];
            }
        }
        counts[symbol] += INCREMENT;
        total += INCREMENT;
        rebuild();
    }

    private void rebuild() {
        long cumulative = 0;
        for (int s = 0; s < counts.length; s++) {
            starts[s] = (int) ((cumulative << PRECISION_BITS) / total);
            cumulative += counts[s];
        }
        starts[counts.length] = TOTAL;
    }

    @Override
    public int symbols() {
        return counts.length;
    }

    @Override
    public int start(int symbol) {
        return starts[symbol];
    }

    @Override
    public int symbolFor(int target) {
        int lo = 0;
        int hi = counts.length - 1;
        while (lo < hi) { // the last symbol whose start is <= target
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= target) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        foundStart = starts[lo];
        foundFreq = starts[lo + 1] - foundStart;
        return lo;
    }

    @Override
    public int foundStart() {
        return foundStart;
    }

    @Override
    public int foundFreq() {
        return foundFreq;
    }
}
