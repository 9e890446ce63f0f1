package io.llic.prob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

public class AdaptiveCdfTest {
    private static void checkValid(AdaptiveCdf cdf) {
        IntCdfChecks.valid(cdf, 7);
    }

    /**
     * What the counts may cost above a plane's order-0 entropy, in bits, for n symbols of 25: about
     * (25 - 1) / 2 log2(n), plus a margin for the 16-bit rounding.
     */
    public static double learningBits(int n) {
        return 12 * Math.log(n) / Math.log(2) + 16;
    }

    @Test
    void startsUniformAndStaysValidThroughHalving() {
        AdaptiveCdf cdf = new AdaptiveCdf(25);
        checkValid(cdf);
        for (int s = 0; s < 25; s++) {
            assertEquals(s * IntCdf.TOTAL / 25, cdf.start(s), "before any update the counts are equal");
        }
        // one symbol coded 100,000 times: the total passes 2^16 several times, the others keep count >= 1
        for (int i = 0; i < 100_000; i++) {
            cdf.update(3);
        }
        checkValid(cdf);
        assertTrue(cdf.freq(3) > IntCdf.TOTAL - 100, "the dominant symbol has " + cdf.freq(3));
        cdf.reset();
        for (int s = 0; s < 25; s++) {
            assertEquals(s * IntCdf.TOTAL / 25, cdf.start(s), "reset forgets the counts");
        }
    }

    /** The cost of a plane: its order-0 entropy plus at most about (symbols - 1) / 2 log2(n) bits. */
    @Test
    void costsTheEntropyPlusTheLearningCost() {
        Random r = new Random(5);
        int n = 6144;
        for (double[] p : new double[][] {{1}, {0.7, 0.2, 0.1}, {0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04,
                0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04}}) {
            int[] symbols = new int[n];
            int[] seen = new int[25];
            for (int i = 0; i < n; i++) {
                double u = r.nextDouble();
                int s = 0;
                while (s < p.length - 1 && u >= p[s]) {
                    u -= p[s++];
                }
                symbols[i] = (6 + s) % 25;
                seen[(6 + s) % 25]++;
            }
            double entropy = 0;
            for (int c : seen) {
                entropy += c == 0 ? 0 : -c * Math.log((double) c / n) / Math.log(2);
            }
            AdaptiveCdf cdf = new AdaptiveCdf(25);
            double bits = 0;
            for (int s : symbols) {
                bits += cdf.bits(s);
                cdf.update(s);
            }
            double learning = learningBits(n);
            assertTrue(bits >= entropy - 1, p.length + " symbols: " + bits + " bits below the entropy " + entropy);
            assertTrue(bits <= entropy + learning, p.length + " symbols: " + bits + " bits, entropy " + entropy);
            if (p.length == 1) {
                assertTrue(bits < 200, "a constant plane of " + n + " symbols took " + bits + " bits");
            }
        }
    }

    @Test
    void refusesAlphabetsItCannotKeepValid() {
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveCdf(0));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveCdf(IntCdf.TOTAL));
    }
}
