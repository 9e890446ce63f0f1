package io.llic.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    private static final int[][] SIZES = {{1, 1}, {1, 9}, {9, 1}, {2, 2}, {5, 9}, {17, 13}, {13, 40}, {64, 3}};

    /** Step at which each pixel is coded, checking each pixel appears exactly once. */
    private static int[] stepOf(Schedule s, int h, int w) {
        int[] step = new int[h * w];
        Arrays.fill(step, -1);
        int[] buf = new int[s.maxPixelsPerStep(h, w)];
        int prevRow = -1;
        for (int t = 0; t < s.stepCount(h, w); t++) {
            int n = s.pixelsOfStep(h, w, t, buf);
            // a wavefront over fewer than 3 columns has empty steps
            assertTrue(n >= (w < 3 && s instanceof WavefrontSchedule ? 0 : 1) && n <= buf.length,
                    s.name() + " step " + t + " has " + n + " pixels");
            prevRow = -1;
            for (int k = 0; k < n; k++) {
                int p = buf[k];
                assertEquals(-1, step[p], s.name() + ": pixel " + p + " coded twice");
                step[p] = t;
                assertTrue(p / w > prevRow || n == 1, "rows increase within a step");
                prevRow = p / w;
            }
        }
        for (int p = 0; p < step.length; p++) {
            assertTrue(step[p] >= 0, s.name() + ": pixel " + p + " never coded");
        }
        return step;
    }

    @Test
    void everyPixelOnceAndEveryContextReadyBeforeItsStep() {
        for (String name : Schedules.names()) {
            Schedule s = Schedules.byName(name);
            for (int[] hw : SIZES) {
                int h = hw[0];
                int w = hw[1];
                int[] step = stepOf(s, h, w);
                for (int p = 0; p < h * w; p++) {
                    int i = p / w;
                    int j = p % w;
                    for (int tap = 0; tap < CausalTaps.COUNT; tap++) {
                        int r = i + s.readRow(tap);
                        int c = j + s.readCol(tap);
                        if (r >= 0 && r < h && c >= 0 && c < w) {
                            assertTrue(step[r * w + c] < step[p], name + " " + h + "x" + w + ": pixel (" + i + "," + j
                                    + ") reads (" + r + "," + c + ") which is not decoded before its step");
                        }
                    }
                }
            }
        }
    }

    @Test
    void wavefrontIsThreeIPlusJ() {
        Schedule s = new WavefrontSchedule();
        int h = 11;
        int w = 23;
        int[] step = stepOf(s, h, w);
        for (int p = 0; p < h * w; p++) {
            assertEquals(3 * (p / w) + p % w, step[p]);
        }
        assertEquals(w + 3 * (h - 1), s.stepCount(h, w));
        assertTrue(s.exact());
    }

    @Test
    void diagonalIsIPlusJAndSubstitutesThreeTaps() {
        Schedule s = new DiagonalSchedule();
        int h = 7;
        int w = 12;
        int[] step = stepOf(s, h, w);
        for (int p = 0; p < h * w; p++) {
            assertEquals(p / w + p % w, step[p]);
        }
        int changed = 0;
        for (int tap = 0; tap < CausalTaps.COUNT; tap++) {
            if (s.readRow(tap) != CausalTaps.DR[tap] || s.readCol(tap) != CausalTaps.DC[tap]) {
                changed++;
                assertEquals(-2, s.readRow(tap));
                assertEquals(1, s.readCol(tap));
            }
        }
        assertEquals(3, changed);
        assertEquals(h + w - 1, s.stepCount(h, w));
    }

    @Test
    void unknownNameIsRefusedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedules.byName("zigzag"));
        assertTrue(e.getMessage().contains("wavefront"));
    }
}
