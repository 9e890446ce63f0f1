package io.llic.model.l3c;

import io.llic.prob.CdfTable;
import io.llic.prob.IntCdf;
import io.llic.prob.MixtureCdf;

/** What the tests of the l3c corrections feed them: a network's mixture, and the code length of a symbol. */
final class Mixtures {
    private Mixtures() {}

    /** A mixture of 5 equal components at {@code mean} with sigma {@code sigma} (pixel values), over 0..255. */
    static MixtureCdf network(double mean, double sigma) {
        MixtureCdf cdf = new MixtureCdf(5, CdfTable.LOGISTIC);
        long[] means = new long[5];
        long[] sigmas = new long[5];
        long[] logits = new long[5];
        java.util.Arrays.fill(means, Math.round(mean / 255 * (1 << 24)));
        java.util.Arrays.fill(sigmas, Math.round(sigma / 255 * (1 << 24)));
        cdf.set(means, 0, sigmas, 0, logits, 0, null);
        return cdf.range(0, 256);
    }

    /** The code length of {@code symbol} under {@code cdf}, in bits. */
    static double bits(IntCdf cdf, int symbol) {
        return -Math.log((double) cdf.freq(symbol) / IntCdf.TOTAL) / Math.log(2);
    }
}
