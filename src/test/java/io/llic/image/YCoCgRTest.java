package io.llic.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class YCoCgRTest {
    /** All 2^24 RGB triples: the inverse is exact and the ranges are those of ALGORITHMS.md B.1. */
    @Test
    void everyRgbTripleRoundTripsWithinTheStatedRanges() {
        int minY = Integer.MAX_VALUE, maxY = Integer.MIN_VALUE, minC = Integer.MAX_VALUE, maxC = Integer.MIN_VALUE;
        for (int r = 0; r < 256; r++) {
            for (int g = 0; g < 256; g++) {
                for (int b = 0; b < 256; b++) {
                    int[] ycc = YCoCgR.forward(r, g, b);
                    int[] rgb = YCoCgR.inverse(ycc[0], ycc[1], ycc[2]);
                    if (rgb[0] != r || rgb[1] != g || rgb[2] != b) {
                        throw new AssertionError("(" + r + "," + g + "," + b + ") came back as " + java.util.Arrays.toString(rgb));
                    }
                    minY = Math.min(minY, ycc[0]);
                    maxY = Math.max(maxY, ycc[0]);
                    minC = Math.min(minC, Math.min(ycc[1], ycc[2]));
                    maxC = Math.max(maxC, Math.max(ycc[1], ycc[2]));
                }
            }
        }
        assertEquals(YCoCgR.Y_MIN, minY);
        assertEquals(YCoCgR.Y_MAX, maxY);
        assertEquals(YCoCgR.CHROMA_MIN, minC);
        assertEquals(YCoCgR.CHROMA_MAX, maxC);
    }

    /** Values worked by hand from the lifting steps, with odd chroma (floor, not round-half-even). */
    @Test
    void knownValues() {
        // R=200, G=100, B=51: Co=149, t=51+74=125, Cg=-25, Y=125+(-13)=112
        assertArrayEquals(new int[] {112, 149, -25}, YCoCgR.forward(200, 100, 51));
        // R=0, G=255, B=255: Co=-255, t=255-128=127, Cg=128, Y=127+64=191
        assertArrayEquals(new int[] {191, -255, 128}, YCoCgR.forward(0, 255, 255));
        assertArrayEquals(new int[] {0, 0, 0}, YCoCgR.forward(0, 0, 0));
    }

    @Test
    void aKodakImageRoundTripsThroughPlanes() throws Exception {
        Path kodim = TestData.kodak().resolve("kodim23.png");
        RgbImage image = PngIo.read(Files.readAllBytes(kodim));
        YCoCgR.Planes planes = YCoCgR.forward(image);
        int[] first = YCoCgR.forward(image.samples()[0] & 0xFF, image.samples()[1] & 0xFF, image.samples()[2] & 0xFF);
        assertEquals(first[0], planes.y()[0]);
        assertEquals(first[1], planes.co()[0]);
        assertEquals(first[2], planes.cg()[0]);
        assertTrue(YCoCgR.inverse(planes).samePixels(image));
    }

    @Test
    void planesThatAreNoRgbImageAreRefused() {
        YCoCgR.Planes p = new YCoCgR.Planes(2, 1);
        p.y()[1] = 255;
        p.co()[1] = 255; // Y = 255, Co = 255, Cg = 0 gives B = 128 and R = B + Co = 383
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> YCoCgR.inverse(p));
        assertTrue(e.getMessage().contains("sample 1"), e.getMessage());
    }
}
