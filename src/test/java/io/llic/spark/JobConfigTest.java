package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @TempDir
    static java.nio.file.Path dir;

    @Test
    void tileSizeDefaultsToTheEncodersAndSmallTilesAreRefused() throws Exception {
        io.llic.model.LoadedModel l3c = io.llic.TestData.randomL3CModel(dir.resolve("l3c"), 5, 4);
        io.llic.model.LoadedModel causal = io.llic.TestData.randomModel(dir.resolve("causal"), 3);
        String[] base = {"--input", "in", "--output", "out"};
        assertEquals(io.llic.codec.Encoder.MODEL_TILE, CompressJob.Config.parse(base).tile());
        assertEquals(0, CompressJob.Config.parse(new String[] {"--input", "in", "--output", "out", "--tile", "0"}).tile());
        assertEquals(512, CompressJob.Config.parse(new String[] {"--input", "in", "--output", "out", "--tile", "512"}).tile());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CompressJob.Config.parse(
                new String[] {"--input", "in", "--output", "out", "--tile", "10"}));
        assertTrue(e.getMessage().contains("--tile"), e.getMessage());
        // what no --tile means is resolved with the model (l3c 1024, causal 2048) before the run is named and
        // its manifest written; a run key names every side but 2048, so the ids of earlier runs stay
        assertEquals(1024, CompressJob.Config.parse(base).resolved(l3c).tile());
        assertEquals(2048, CompressJob.Config.parse(base).resolved(causal).tile());
        assertEquals(700, CompressJob.Config.parse(new String[] {"--input", "in", "--output", "out", "--tile", "700"})
                .resolved(l3c).tile());
        assertEquals("", CompressJob.tileKey(2048));
        assertEquals("|tile=1024", CompressJob.tileKey(1024));
        // the model's default is what no --tile means; it cannot be typed
        assertThrows(IllegalArgumentException.class, () -> CompressJob.Config.parse(
                new String[] {"--input", "in", "--output", "out", "--tile", "-1"}));
    }
}
