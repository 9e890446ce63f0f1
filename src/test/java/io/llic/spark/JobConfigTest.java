package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Job options that can be checked before Spark starts are checked then. */
class JobConfigTest {
    @Test
    void aScheduleNoFamilyHasIsRefusedWhenParsing() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CompressJob.Config.parse(
                new String[] {"--input", "in", "--output", "out", "--schedule", "zigzag"}));
        assertTrue(e.getMessage().contains("zigzag") && e.getMessage().contains("checkerboard"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EvalJob.Config.parse(
                new String[] {"--input", "in", "--output", "out", "--schedule", "zigzag"}));
        // any family's schedule passes here; the model's family decides once it is loaded
        assertEquals("checkerboard", CompressJob.Config.parse(
                new String[] {"--input", "in", "--output", "out", "--schedule", "checkerboard"}).schedule());
        assertNull(CompressJob.Config.parse(new String[] {"--input", "in", "--output", "out"}).schedule());
    }

    @Test
    void tileSizeDefaultsToTheEncodersAndSmallTilesAreRefused() {
        String[] base = {"--input", "in", "--output", "out"};
        assertEquals(io.llic.codec.Encoder.MODEL_TILE, CompressJob.Config.parse(base).tile());
        assertEquals(0, CompressJob.Config.parse(new String[] {"--input", "in", "--output", "out", "--tile", "0"}).tile());
        assertEquals(512, CompressJob.Config.parse(new String[] {"--input", "in", "--output", "out", "--tile", "512"}).tile());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CompressJob.Config.parse(
                new String[] {"--input", "in", "--output", "out", "--tile", "10"}));
        assertTrue(e.getMessage().contains("--tile"), e.getMessage());
        // the model's default is what no --tile means; it cannot be typed
        assertThrows(IllegalArgumentException.class, () -> CompressJob.Config.parse(
                new String[] {"--input", "in", "--output", "out", "--tile", "-1"}));
    }
}
