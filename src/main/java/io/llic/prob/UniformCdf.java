package io.llic.prob;

/**
 * The uniform distribution over {@code n} symbols in 16 bits: {@code start(s) = floor(s * 2^16 / n)}.
 * For values stored as they are (the coarsest scale of an interpolation model, its colour ranges,
 * L3C's coarsest auxiliary plane): about log2(n) bits each.
 */
public final class UniformCdf implements IntCdf {
    private final int n;
    private int foundStart;
    private int foundFreq;

    public UniformCdf(int n) {
        if (n < 1 || n > TOTAL) {
            throw new IllegalArgumentException("a uniform 16-bit distribution takes 1.." + TOTAL + " symbols, not " + n);
        }
        this.n = n;
    }

    @Override
    public int symbols() {
        return n;
    }

    @Override
    public int start(int symbol) {
        return (int) (((long) symbol << PRECISION_BITS) / n);
    }

    @Override
    public int symbolFor(int target) {
        int s = (int) (((long) target * n) >> PRECISION_BITS);
        while (s + 1 < n && start(s + 1) <= target) {
            s++;
        }
        while (s > 0 && start(s) > target) {
            s--;
        }
        foundStart = start(s);
        foundFreq = start(s + 1) - foundStart;
        return s;
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
