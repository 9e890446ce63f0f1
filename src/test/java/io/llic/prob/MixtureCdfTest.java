package io.llic.prob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class MixtureCdfTest {
    private static final long ONE = 1L << MixtureCdf.PARAM_FRACTION_BITS;

    @Test
    void gaussianTableMatchesKnownValues() {
        double[][] known = {{0, 0.5}, {1, 0.8413447460685429}, {-1, 0.15865525393145707}, {2, 0.9772498680518208},
                {-3, 0.0013498980316301}, {0.5, 0.6914624612740131}};
        for (double[] k : known) {
            double phi = CdfTable.GAUSSIAN.cdf(Math.round(k[0] * (1 << CdfTable.Z_FRACTION_BITS)))
                    / (double) (1L << CdfTable.CDF_BITS);
            assertEquals(k[1], phi, 1e-7, "Phi(" + k[0] + ")");
        }
    }

    @Test
    void expTableMatchesExpAndNeverIncreases() {
        long prev = Long.MAX_VALUE;
        for (long d = 0; d < 30L << 24; d += 12_345) {
            long v = ExpTable.expNegative(d);
            assertTrue(v <= prev, "exp increases at " + d);
            assertEquals(Math.exp(-(double) d / (1 << 24)), v / (double) (1 << 30), 2e-7, "exp(-" + d + ")");
            prev = v;
        }
        assertEquals(1L << 30, ExpTable.expNegative(0));
    }

    @Test
    void logisticTableMatchesKnownValues() {
        for (double z : new double[] {0, 1, -3, 5.5, -12}) {
            double f = CdfTable.LOGISTIC.cdf(Math.round(z * (1 << CdfTable.Z_FRACTION_BITS)))
                    / (double) (1L << CdfTable.CDF_BITS);
            assertEquals(1 / (1 + Math.exp(-z)), f, 1e-7, "sigmoid(" + z + ")");
        }
    }

    @Test
    void tablesAreMonotone() {
        for (CdfTable t : new CdfTable[] {CdfTable.GAUSSIAN, CdfTable.LOGISTIC}) {
            long prev = -1;
            for (long z = -25L << 16; z <= 25L << 16; z += 7) {
                long v = t.cdf(z);
                assertTrue(v >= prev, "CDF decreases at " + z);
                prev = v;
            }
            assertEquals(0, t.cdf(Long.MIN_VALUE / 4));
            assertEquals(1L << 30, t.cdf(Long.MAX_VALUE / 4));
        }
    }

    private static void checkValid(MixtureCdf cdf) {
        assertEquals(256, cdf.symbols());
        assertEquals(0, cdf.cdf(0));
        assertEquals(MixtureCdf.TOTAL, cdf.cdf(256));
        IntCdfChecks.valid(cdf, 97);
    }

    @Test
    void everyFrequencyIsPositiveEvenForExtremeParameters() {
        extremeParameters(new MixtureCdf(3));
        extremeParameters(new MixtureCdf(3, CdfTable.LOGISTIC));
    }

    @Test
    void logisticMixtureMatchesAFloatingPointLogisticCdf() {
        MixtureCdf cdf = new MixtureCdf(3, CdfTable.LOGISTIC);
        long mu = Math.round(80.7 / 255 * ONE);
        long scale = Math.round(3.2 / 255 * ONE);
        long[] p = {mu, mu, mu, scale, scale, scale, 0, 0, 0};
        cdf.set(p, 0, p, 3, p, 6, null);
        for (int k = 1; k < 256; k++) {
            double f = 1 / (1 + Math.exp(-(k - 0.5 - mu * 255.0 / ONE) / (scale * 255.0 / ONE)));
            long expected = Math.round(f * (65536 - 256)) + k;
            assertTrue(Math.abs(cdf.cdf(k) - expected) <= 1, "cdf(" + k + ") = " + cdf.cdf(k) + " vs " + expected);
        }
    }

    private static void extremeParameters(MixtureCdf cdf) {
        long[][] cases = {
                {0, 0, 0, 0, 0, 0, 0, 0, 0},                            // sigma at its lower bound, means at 0
                {ONE, ONE, ONE, 0, 0, 0, 0, 0, 0},                      // means at 255
                {-(1L << 31), 1L << 31, 0, -5, -5, -5, 0, 0, 0},        // means far outside, negative sigmas
                {ONE / 2, ONE / 3, ONE / 4, 1L << 31, 1L << 31, 1L << 31, 0, 0, 0}, // huge sigmas
                {ONE / 2, ONE / 2, ONE / 2, 10, 10, 10, 1L << 31, -(1L << 31), 0}, // one-hot weights
        };
        for (long[] c : cases) {
            cdf.set(c, 0, c, 3, c, 6, null);
            checkValid(cdf);
        }
        Random r = new Random(3);
        long[] p = new long[9];
        long[] coupling = new long[3];
        for (int i = 0; i < 2000; i++) {
            for (int k = 0; k < 9; k++) {
                p[k] = (long) (r.nextGaussian() * ONE * (k < 3 ? 1 : k < 6 ? 0.05 : 4));
            }
            for (int k = 0; k < 3; k++) {
                coupling[k] = (long) (r.nextGaussian() * ONE * 255);
            }
            cdf.set(p, 0, p, 3, p, 6, i % 2 == 0 ? null : coupling);
            checkValid(cdf);
        }
    }

    @Test
    void matchesAFloatingPointMixtureCdf() {
        // one component, mean 100.3, sigma 2.5 (pixel units): compare with the float rule of ALGORITHMS.md A.3
        MixtureCdf cdf = new MixtureCdf(3);
        double mean = 100.3;
        double sigma = 2.5;
        long mu = Math.round(mean / 255 * ONE);
        long sd = Math.round(sigma / 255 * ONE);
        long[] p = {mu, mu, mu, sd, sd, sd, 0, 0, 0};
        cdf.set(p, 0, p, 3, p, 6, null);
        double exactMean = mu * 255.0 / ONE;
        double exactSigma = sd * 255.0 / ONE;
        for (int k = 1; k < 256; k++) {
            double f = phi((k - 0.5 - exactMean) / exactSigma);
            long expected = Math.round(f * (65536 - 256)) + k;
            assertTrue(Math.abs(cdf.cdf(k) - expected) <= 1, "cdf(" + k + ") = " + cdf.cdf(k) + " vs " + expected);
        }
    }

    @Test
    void adjustMovesTheMeanScalesTheSpreadAndKeepsEveryFrequency() {
        MixtureCdf cdf = new MixtureCdf(3);
        long mu = Math.round(100.0 / 255 * ONE);
        long sd = Math.round(4.0 / 255 * ONE);
        long[] p = {mu, mu, mu, sd, sd, sd, 0, 0, 0};
        cdf.set(p, 0, p, 3, p, 6, null);
        assertEquals(100 * 256, cdf.meanQ8(), 2);
        assertEquals(4 * 256, cdf.spreadQ8(), 2);
        int[] before = new int[257];
        for (int k = 0; k <= 256; k++) {
            before[k] = cdf.cdf(k);
        }
        cdf.adjust(0, 1 << 12); // the identity
        for (int k = 0; k <= 256; k++) {
            assertEquals(before[k], cdf.cdf(k));
        }
        cdf.adjust(10 * 256, 2 << 12); // +10 values, twice the spread
        assertEquals(110 * 256, cdf.meanQ8(), 2);
        assertEquals(8 * 256, cdf.spreadQ8(), 4);
        int mode = 0;
        for (int s = 0; s < 256; s++) {
            mode = cdf.freq(s) > cdf.freq(mode) ? s : mode;
        }
        assertTrue(Math.abs(mode - 110) <= 1, "mode at " + mode);
        checkValid(cdf);
        // the largest corrections on extreme parameters still give a valid table
        long[][] cases = {{0, 0, 0, 0, 0, 0, 0, 0, 0}, {ONE, ONE, ONE, 1L << 31, 1L << 31, 1L << 31, 0, 0, 0}};
        for (long[] c : cases) {
            for (long shift : new long[] {-MixtureCdf.MAX_SHIFT_Q8, MixtureCdf.MAX_SHIFT_Q8}) {
                for (long scale : new long[] {1, MixtureCdf.MAX_SCALE_Q12}) {
                    cdf.set(c, 0, c, 3, c, 6, null);
                    cdf.adjust(shift, scale);
                    checkValid(cdf);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> cdf.adjust(MixtureCdf.MAX_SHIFT_Q8 + 1, 4096));
        assertThrows(IllegalArgumentException.class, () -> cdf.adjust(0, MixtureCdf.MAX_SCALE_Q12 + 1));
    }

    @Test
    void couplingShiftsTheMean() {
        MixtureCdf cdf = new MixtureCdf(3);
        long[] p = {ONE / 4, ONE / 4, ONE / 4, ONE / 255, ONE / 255, ONE / 255, 0, 0, 0};
        long shift = 100 * ONE; // +100 pixel levels
        cdf.set(p, 0, p, 3, p, 6, new long[] {shift, shift, shift});
        int best = 0;
        for (int s = 0; s < 256; s++) {
            if (cdf.freq(s) > cdf.freq(best)) {
                best = s;
            }
        }
        assertTrue(Math.abs(best - (255 / 4.0 + 100)) <= 1, "mode at " + best);
    }

    private static double phi(double z) {
        // erfc by its continued fraction / series is overkill here; a Simpson integral suffices for a test
        if (z <= -12) {
            return 0;
        }
        if (z >= 12) {
            return 1;
        }
        double a = -12;
        int n = 200_000;
        double h = (z - a) / n;
        double s = 0;
        for (int i = 0; i <= n; i++) {
            double x = a + i * h;
            double w = (i == 0 || i == n) ? 1 : (i % 2 == 1 ? 4 : 2);
            s += w * Math.exp(-x * x / 2);
        }
        return s * h / 3 / Math.sqrt(2 * Math.PI);
    }

    /**
     * A 511-value chroma range: a valid 16-bit table whose mass sits where the mean is (value -40 in
     * pixel units), and range(0, 256) is exactly the default pixel table.
     */
    /**
     * The decoder's search starts at the mixture mean and gallops: every symbol must be found from
     * both ends of its interval, for narrow and wide mixtures, means inside and far outside the range,
     * pixel and chroma alphabets.
     */
    @Test
    void symbolForFindsEverySymbolFromBothEndsOfItsInterval() {
        Random r = new Random(11);
        MixtureCdf cdf = new MixtureCdf(5);
        long[] p = new long[15];
        for (int i = 0; i < 300; i++) {
            for (int k = 0; k < 15; k++) {
                double sigma = i % 3 == 0 ? 0.002 : i % 3 == 1 ? 0.03 : 0.3;
                p[k] = (long) (k < 5 ? (r.nextDouble() * 3 - 1) * ONE : k < 10 ? r.nextDouble() * sigma * ONE
                        : r.nextGaussian() * ONE * 3);
            }
            cdf.set(p, 0, p, 5, p, 10, null);
            int[][] ranges = {{0, 256}, {-255, 511}, {-30, 61}, {100, 2}, {-255, 3}};
            int[] range = ranges[i % ranges.length];
            cdf.range(range[0], range[1]);
            for (int s = 0; s < cdf.symbols(); s++) {
                int from = cdf.start(s);
                int to = cdf.start(s + 1) - 1;
                assertEquals(s, cdf.symbolFor(from), "case " + i + ", symbol " + s + " from its start");
                assertEquals(from, cdf.foundStart());
                assertEquals(to - from + 1, cdf.foundFreq());
                assertEquals(s, cdf.symbolFor(to), "case " + i + ", symbol " + s + " from its end");
            }
        }
    }

    @Test
    void otherRangesGiveValidTablesCentredOnTheMean() {
        long[] mean = {-40 * ONE / 255};
        long[] sigma = {3 * ONE / 255};
        long[] logit = {0};
        MixtureCdf cdf = new MixtureCdf(1);
        cdf.set(mean, 0, sigma, 0, logit, 0, null);
        cdf.range(-255, 511);
        assertEquals(511, cdf.symbols());
        assertEquals(0, cdf.start(0));
        assertEquals(MixtureCdf.TOTAL, cdf.start(511));
        int best = 0;
        for (int k = 0; k < 511; k++) {
            assertTrue(cdf.freq(k) >= 1, "freq of " + k);
            if (cdf.freq(k) > cdf.freq(best)) {
                best = k;
            }
        }
        assertEquals(-40, best - 255, 1);
        for (int t = 0; t < MixtureCdf.TOTAL; t += 331) {
            int k = cdf.symbolFor(t);
            assertTrue(cdf.start(k) <= t && t < cdf.start(k + 1));
        }
        MixtureCdf pixel = new MixtureCdf(1);
        long[] mid = {ONE / 2};
        pixel.set(mid, 0, sigma, 0, logit, 0, null);
        int[] before = new int[257];
        for (int k = 0; k <= 256; k++) {
            before[k] = pixel.start(k);
        }
        pixel.range(0, 256);
        for (int k = 0; k <= 256; k++) {
            assertEquals(before[k], pixel.start(k));
        }
        assertThrows(IllegalArgumentException.class, () -> pixel.range(0, 1));
    }

    @Test
    void uniformCdfFindsEverySymbol() {
        for (int n : new int[] {2, 3, 256, 511, 65536}) {
            UniformCdf u = new UniformCdf(n);
            assertEquals(0, u.start(0));
            assertEquals(MixtureCdf.TOTAL, u.start(n));
            for (int t = 0; t < MixtureCdf.TOTAL; t += 97) {
                int k = u.symbolFor(t);
                assertTrue(u.foundStart() <= t && t < u.foundStart() + u.foundFreq(), n + " " + t);
                assertEquals(u.start(k), u.foundStart());
                assertTrue(u.foundFreq() >= 1);
            }
        }
    }
}
