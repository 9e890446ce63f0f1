package io.llic.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PolyphaseTest {
    /** Every pixel belongs to exactly one coded sub-image or to the coarsest x00, for odd and tiny sizes too. */
    @Test
    void everyPixelIsCoveredExactlyOnce() {
        int[][] sizes = {{768, 512}, {31, 17}, {33, 65}, {1, 1}, {1, 7}, {5, 1}, {64, 64}, {97, 3}};
        for (int[] wh : sizes) {
            Polyphase p = new Polyphase(wh[0], wh[1], 5);
            int[] seen = new int[wh[0] * wh[1]];
            int[] buf = new int[wh[0] * wh[1]];
            for (int level = 0; level < 5; level++) {
                for (int kind : new int[] {Polyphase.X01, Polyphase.X10, Polyphase.X11}) {
                    int n = p.pixels(level, kind, buf, 0);
                    assertEquals(p.samples(level, kind), n);
                    for (int i = 0; i < n; i++) {
                        seen[buf[i]]++;
                    }
                }
            }
            int n = p.pixels(4, Polyphase.X00, buf, 0);
            for (int i = 0; i < n; i++) {
                seen[buf[i]]++;
            }
            for (int i = 0; i < seen.length; i++) {
                assertEquals(1, seen[i], wh[0] + "x" + wh[1] + " pixel " + i);
            }
        }
    }

    /** The definition of ALGORITHMS.md B.2 by slicing: x01 at level 1 of an 11x6 image is x[0::4, 2::4]. */
    @Test
    void subImagesAreTheStatedSlices() {
        Polyphase p = new Polyphase(11, 6, 5);
        assertEquals(2, p.rows(1, Polyphase.X01)); // rows 0, 4
        assertEquals(3, p.cols(1, Polyphase.X01)); // cols 2, 6, 10
        assertEquals(4 * 11 + 10, p.pixel(1, Polyphase.X01, 1, 2));
        assertEquals(1, p.rows(1, Polyphase.X11)); // rows 2 (6 is outside)
        assertEquals(3 * 11 + 3, p.pixel(0, Polyphase.X11, 1, 1));
        // clamped reads replicate the last row/column; an empty sub-image has no pixel
        assertEquals(p.pixel(1, Polyphase.X11, 0, 2), p.clampedPixel(1, Polyphase.X11, 5, 9));
        assertEquals(p.pixel(1, Polyphase.X11, 0, 0), p.clampedPixel(1, Polyphase.X11, -1, -3));
        assertEquals(-1, new Polyphase(1, 1, 5).clampedPixel(0, Polyphase.X11, 0, 0));
        assertTrue(new Polyphase(1, 1, 5).samples(0, Polyphase.X01) == 0);
    }
}
