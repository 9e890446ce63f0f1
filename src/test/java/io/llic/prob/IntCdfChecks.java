package io.llic.prob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What every {@link IntCdf} must be: a 16-bit distribution whose {@code symbolFor} inverts {@code start}. */
final class IntCdfChecks {
    private IntCdfChecks() {}

    /** Checks the table, and {@code symbolFor} at every {@code targetStep}-th target. */
    static void valid(IntCdf cdf, int targetStep) {
        assertEquals(0, cdf.start(0));
        assertEquals(IntCdf.TOTAL, cdf.start(cdf.symbols()));
        for (int s = 0; s < cdf.symbols(); s++) {
            assertTrue(cdf.freq(s) >= 1, "symbol " + s + " has frequency " + cdf.freq(s));
        }
        for (int target = 0; target < IntCdf.TOTAL; target += targetStep) {
            int s = cdf.symbolFor(target);
            assertTrue(cdf.start(s) <= target && target < cdf.start(s + 1), "target " + target);
            assertEquals(cdf.start(s), cdf.foundStart());
            assertEquals(cdf.freq(s), cdf.foundFreq());
        }
    }
}
