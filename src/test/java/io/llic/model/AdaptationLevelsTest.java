package io.llic.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The context quantisers of the adaptation stage: their edges are part of the format. */
class AdaptationLevelsTest {
    @Test
    void spreadBucketsAreHalfOctaves() {
        assertEquals(0, Adaptation.bucket(0));
        assertEquals(0, Adaptation.bucket(32));        // 2^5: 0.125 pixel values
        assertEquals(1, Adaptation.bucket(46));        // >= 2^5 * sqrt(2)
        assertEquals(2, Adaptation.bucket(64));
        assertEquals(6, Adaptation.bucket(256));       // one pixel value
        assertEquals(15, Adaptation.bucket(1L << 20));
        int last = 0;
        for (long s = 1; s < 1 << 16; s++) {
            int b = Adaptation.bucket(s);
            assertTrue(b >= last && b <= last + 1, "bucket of " + s);
            last = b;
        }
    }

    @Test
    void errorAndEnergyLevelsFollowTheirEdges() {
        long s = 100;
        assertEquals(3, Adaptation.errorLevel(0, s));
        assertEquals(3, Adaptation.errorLevel(25, s));   // 4e = s
        assertEquals(4, Adaptation.errorLevel(26, s));
        assertEquals(2, Adaptation.errorLevel(-26, s));
        assertEquals(0, Adaptation.errorLevel(-151, s)); // 4e < -6s
        assertEquals(6, Adaptation.errorLevel(151, s));
        assertEquals(0, Adaptation.energyLevel(0, s));
        assertEquals(1, Adaptation.energyLevel(50, s));  // 4m = 2s
        assertEquals(7, Adaptation.energyLevel(600, s)); // 4m = 24s
        for (long e = -1000; e < 1000; e++) {
            assertTrue(Adaptation.errorLevel(e, s) <= Adaptation.errorLevel(e + 1, s));
            if (e >= 0) {
                assertTrue(Adaptation.energyLevel(e, s) <= Adaptation.energyLevel(e + 1, s));
            }
        }
    }
}
