package io.llic.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FixedPointNetTest {

    @Test
    void finishFloorsShiftsLeaksAndClips() {
        FixedPointLayer l = new FixedPointLayer(1, 1, new long[] {1}, new long[] {0}, 4, true, 1000);
        assertEquals(3, l.finish(48 + 15));            // floor(63 / 16)
        assertEquals(-1, l.finish(-16 * 5));            // floor(-5 * 655 / 65536) = floor(-0.05) = -1
        assertEquals(-7, l.finish(-16 * 700));          // floor(-700 * 655 / 65536) = floor(-6.99..) = -7
        assertEquals(1000, l.finish(16 * 5000));        // clipped
        FixedPointLayer linear = new FixedPointLayer(1, 1, new long[] {1}, new long[] {0}, 0, false, 1000);
        assertEquals(-1000, linear.finish(-5000));
    }

    @Test
    void serialisesExactly(@TempDir Path dir) throws Exception {
        FixedPointNet net = TestData.randomNet(5, 8);
        LoadedModel written = LoadedModel.write(dir, "m", net, Map.of("source", "test"));
        LoadedModel read = LoadedModel.load(dir);
        assertArrayEquals(written.sha256(), read.sha256());
        assertArrayEquals(net.toBytes(), read.net().toBytes());
        assertEquals("m", read.id());
    }

    @Test
    void refusesALayerWhosePartialSumsCouldPass2To53() {
        long big = 1L << 40;
        FixedPointLayer l = new FixedPointLayer(2, 1, new long[] {big, big}, new long[] {0}, 0, false, 1);
        ModelException e = assertThrows(ModelException.class, () -> new FixedPointNet(1L << 13, List.of(l)));
        assertTrue(e.getMessage().contains("2^53"), e.getMessage());
    }

    @Test
    void refusesDamagedOrForeignWeights(@TempDir Path dir) throws Exception {
        LoadedModel.write(dir, "m", TestData.randomNet(6, 8), Map.of());
        byte[] w = Files.readAllBytes(dir.resolve(LoadedModel.WEIGHTS));
        w[100] ^= 1;
        Files.write(dir.resolve(LoadedModel.WEIGHTS), w);
        ModelException e = assertThrows(ModelException.class, () -> LoadedModel.load(dir));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        assertThrows(ModelException.class, () -> LoadedModel.load(dir.resolve("nope")));
    }
}
