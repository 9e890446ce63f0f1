package io.llic.model.l3c;

import static io.llic.model.l3c.Mixtures.bits;
import static io.llic.model.l3c.Mixtures.network;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.prob.MixtureCdf;
import org.junit.jupiter.api.Test;

/** The l3c image scale's correction while coding learns what the network's mixtures miss. */
class L3CPlaneAdaptationTest {
    private static final int W = 24;
    private static final int H = 16;

    /**
     * The network says 100 with sigma 6 everywhere; the image is 105 everywhere. The predictor learns
     * the offset from the neighbours' errors and the spread classes narrow the sigma to their limit
     * (1/2): the last pixel costs what a logistic at 105 with sigma 3 gives it (about 3.6 bits), against
     * more than 4 under the network alone. The first pixel has nothing to learn from and is coded as the
     * network says.
     */
    @Test
    void aConstantOffsetIsLearnedFromTheNeighbours() {
        L3CPlaneAdaptation a = new L3CPlaneAdaptation(3, W, H, W, W * H);
        double plain = bits(network(100, 6), 105);
        assertTrue(plain > 4, "the network alone: " + plain);
        double last = 0;
        for (int p = 0; p < W * H; p++) {
            MixtureCdf cdf = network(100, 6);
            a.adjust(cdf, 0, p);
            double b = bits(cdf, 105);
            if (p == 0) {
                assertEquals(plain, b, 1e-9, "the first pixel knows nothing yet");
            }
            last = b;
            a.update(0, p, 105);
        }
        assertEquals(bits(network(105, 3), 105), last, 0.05, "the last pixel");
    }

    /**
     * G learns from R at the same pixel: R's errors are random (+-20) and G's equal R's. Once the weight
     * on R's error is learned, G's last quarter (of a 64 x 64 image) costs within 0.3 bits per pixel of a logistic centred on
     * the true value with the narrowest sigma the classes allow (6), far below the network's cost.
     */
    @Test
    void aLaterChannelLearnsFromTheErrorsOfAnEarlierOne() {
        final int N = 64 * 64;
        L3CPlaneAdaptation a = new L3CPlaneAdaptation(3, 64, 64, 64, N);
        java.util.Random random = new java.util.Random(3);
        int[] r = new int[N];
        for (int p = 0; p < N; p++) {
            r[p] = 128 + random.nextInt(41) - 20;
            a.adjust(network(128, 12), 0, p);
            a.update(0, p, r[p]);
        }
        double plain = 0;
        double corrected = 0;
        double ideal = 0;
        for (int p = 0; p < N; p++) {
            MixtureCdf cdf = network(128, 12);
            a.adjust(cdf, 1, p);
            if (p >= 3 * N / 4) {
                plain += bits(network(128, 12), r[p]);
                corrected += bits(cdf, r[p]);
                ideal += bits(network(r[p], 6), r[p]);
            }
            a.update(1, p, r[p]);
        }
        int n = N / 4;
        assertTrue(corrected < ideal + 0.3 * n && corrected < 0.85 * plain,
                "G's last quarter: " + corrected + " bits corrected, " + ideal + " ideal, " + plain + " under the network");
    }
}
