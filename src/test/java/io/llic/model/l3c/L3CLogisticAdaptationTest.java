package io.llic.model.l3c;

import static io.llic.model.l3c.Mixtures.bits;
import static io.llic.model.l3c.Mixtures.network;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.prob.CdfTable;
import io.llic.prob.IntCdf;
import io.llic.prob.MixtureCdf;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Schedule l3c-logistic's correction: a single logistic whose centre and spread are learned while coding. */
class L3CLogisticAdaptationTest {
    /**
     * The network says 100 with sigma 6 everywhere; the image is 105 everywhere. The first pixel knows
     * nothing and costs about what the network gives it (the class's prior is the network's spread); once
     * the predictor has learned the offset and the classes have seen residuals near 0, the logistic
     * narrows: the last row (of 64 x 64) costs under 1.5 bits per pixel. The mixture's correction
     * ({@link L3CPlaneAdaptation}) stops at half the network's sigma (about 3.6 bits here).
     */
    @Test
    void aConstantOffsetIsLearnedAndTheSpreadNarrowsBelowTheNetworks() {
        int w = 64;
        int h = 64;
        L3CLogisticAdaptation a = new L3CLogisticAdaptation(256, 3, w, h, w, w * h);
        double plain = bits(network(100, 6), 105);
        assertTrue(plain > 4, "the network alone: " + plain);
        double last = 0;
        for (int p = 0; p < w * h; p++) {
            double b = bits(a.correct(network(100, 6), 0, p), 105);
            if (p == 0) {
                assertEquals(plain, b, 0.1, "the first pixel knows nothing yet");
            }
            if (p >= w * (h - 1)) {
                last += b / w;
            }
            a.update(0, p, 105);
        }
        assertTrue(last < 1.5, "the last row: " + last + " bits per pixel");
    }

    /**
     * G equals R at every pixel, R random (+-20) around the network's 128: once the weight on R's error at
     * the same position is learned, G's last quarter (of a 64 x 64 image) costs under 3.5 bits per pixel
     * (what is left is the learning's own noise over 23 taps), against more than 5 under the network,
     * which is what G would cost without the tap on R.
     */
    @Test
    void aLaterChannelLearnsFromTheErrorsOfAnEarlierOne() {
        int n = 64 * 64;
        L3CLogisticAdaptation a = new L3CLogisticAdaptation(256, 3, 64, 64, 64, n);
        Random random = new Random(3);
        int[] r = new int[n];
        for (int p = 0; p < n; p++) {
            r[p] = 128 + random.nextInt(41) - 20;
            a.correct(network(128, 12), 0, p);
            a.update(0, p, r[p]);
        }
        double plain = 0;
        double corrected = 0;
        for (int p = 0; p < n; p++) {
            IntCdf cdf = a.correct(network(128, 12), 1, p);
            if (p >= 3 * n / 4) {
                plain += bits(network(128, 12), r[p]);
                corrected += bits(cdf, r[p]);
            }
            a.update(1, p, r[p]);
        }
        int quarter = n / 4;
        assertTrue(plain / quarter > 5, "the network: " + plain / quarter);
        assertTrue(corrected / quarter < 3.5, "G given R: " + corrected / quarter + " bits per pixel");
    }

    /**
     * The spread follows the neighbours' error energy: the left half of each row is noise (+-30), the
     * right half a flat 128 with +-1 of noise, the network the same (128, sigma 12) everywhere. Energy
     * classes give the flat half a narrow logistic (under 3 bits per pixel; log2 3 = 1.58 is the floor),
     * while one class per block position and octave would spread both halves' mean |residual| (about 8)
     * over it: a logistic of scale 5.8, about 4.5 bits for each of the flat half's values.
     */
    @Test
    void theSpreadFollowsTheNeighboursErrorEnergy() {
        int w = 64;
        int h = 64;
        L3CLogisticAdaptation a = new L3CLogisticAdaptation(256, 3, w, h, w, w * h);
        Random random = new Random(5);
        double flat = 0;
        double noisy = 0;
        int flatCount = 0;
        int noisyCount = 0;
        for (int p = 0; p < w * h; p++) {
            int col = p % w;
            int v = col < w / 2 ? 128 + random.nextInt(61) - 30 : 127 + random.nextInt(3);
            double b = bits(a.correct(network(128, 12), 0, p), v);
            if (p >= w * h / 2) {
                if (col >= w / 2 + 3) {
                    flat += b;
                    flatCount++;
                } else if (col < w / 2) {
                    noisy += b;
                    noisyCount++;
                }
            }
            a.update(0, p, v);
        }
        assertTrue(noisy / noisyCount > 5, "the noisy half: " + noisy / noisyCount);
        assertTrue(flat / flatCount < 3, "the flat half: " + flat / flatCount + " bits per pixel");
    }

    /**
     * The value predictor, blended in where it has erred less: the image is a flat 100, the network's
     * mean wanders at random between 80 and 120 (sigma 6). The network's errors are then as random as its
     * mean, so the error predictor cannot forecast them; the neighbours' values against this pixel's mean
     * can (each is exactly the error to come). The last row (of 64 x 64) costs under 1.5 bits per pixel;
     * without the value predictor it would cost what the network's wandering leaves (more than 4).
     */
    @Test
    void theNeighboursValuesCorrectANetworkThatWanders() {
        int w = 64;
        int h = 64;
        L3CLogisticAdaptation a = new L3CLogisticAdaptation(256, 3, w, h, w, w * h);
        Random random = new Random(11);
        double last = 0;
        for (int p = 0; p < w * h; p++) {
            double b = bits(a.correct(network(80 + 40 * random.nextDouble(), 6), 0, p), 100);
            if (p >= w * (h - 1)) {
                last += b / w;
            }
            a.update(0, p, 100);
        }
        assertTrue(last < 1.5, "the last row: " + last + " bits per pixel");
    }

    /** Energy levels are half-octaves of 1 + energy / 256, from 0 to 15. */
    @Test
    void energyLevelsAreHalfOctaves() {
        assertEquals(0, L3CLogisticAdaptation.level(0));
        assertEquals(0, L3CLogisticAdaptation.level(105));  // 361 / 256 < sqrt 2
        assertEquals(1, L3CLogisticAdaptation.level(107));  // 363 / 256 > sqrt 2
        assertEquals(2, L3CLogisticAdaptation.level(256));
        assertEquals(3, L3CLogisticAdaptation.level(470));  // 726 / 256 > 2 sqrt 2
        assertEquals(15, L3CLogisticAdaptation.level(1L << 30));
    }

    /** A latent plane (25 levels) is coded under a logistic over its own alphabet. */
    @Test
    void latentPlanesUseTheirAlphabet() {
        L3CLogisticAdaptation a = new L3CLogisticAdaptation(L3CStructure.LEVELS, L3CStructure.Z, 8, 8, 8, 64);
        MixtureCdf net = new MixtureCdf(5, CdfTable.LOGISTIC);
        long[] means = new long[5];
        long[] sigmas = new long[5];
        java.util.Arrays.fill(means, Math.round(12.0 / 255 * (1 << 24)));
        java.util.Arrays.fill(sigmas, Math.round(2.0 / 255 * (1 << 24)));
        net.set(means, 0, sigmas, 0, new long[5], 0, null);
        net.range(0, L3CStructure.LEVELS);
        IntCdf cdf = a.correct(net, 0, 0);
        assertEquals(L3CStructure.LEVELS, cdf.symbols());
        assertEquals(IntCdf.TOTAL, cdf.start(L3CStructure.LEVELS));
        assertTrue(cdf.freq(12) > cdf.freq(11) && cdf.freq(12) > cdf.freq(13), "centred on the network's mean");
    }
}
