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

    /** Below 2^53 before the activation, but the leaky ReLU's product with the slope numerator is not. */
    @Test
    void refusesALeakyLayerWhoseSlopeProductCouldPass2To53() throws Exception {
        long w = 1L << 37; // worst sum 2^37 * 2^13 = 2^50 < 2^53; times 655 > 2^53
        FixedPointLayer leaky = new FixedPointLayer(1, 1, new long[] {w}, new long[] {0}, 0, true, 1);
        ModelException e = assertThrows(ModelException.class, () -> new FixedPointNet(1L << 13, List.of(leaky)));
        assertTrue(e.getMessage().contains("leaky"), e.getMessage());
        // the same layer without the activation, or with a shift that brings it down, is accepted
        new FixedPointNet(1L << 13, List.of(new FixedPointLayer(1, 1, new long[] {w}, new long[] {0}, 0, false, 1)));
        new FixedPointNet(1L << 13, List.of(new FixedPointLayer(1, 1, new long[] {w}, new long[] {0}, 10, true, 1)));
    }

    @Test
    void inputsBeyondTheBoundAreRefused() throws Exception {
        FixedPointNet net = TestData.randomNet(7, 8);
        long[] in = new long[2 * net.inputs()];
        in[net.inputs() + 5] = net.inputBound();
        net.checkInputs(in, 2);
        in[net.inputs() + 5] = net.inputBound() + 1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.checkInputs(in, 2));
        assertTrue(e.getMessage().contains("row 1, column 5"), e.getMessage());
        in[net.inputs() + 5] = -net.inputBound() - 1;
        assertThrows(IllegalArgumentException.class, () -> net.checkInputs(in, 2));
    }

    /** A causal model whose outputs could overflow the CDF arithmetic is refused when loaded. */
    @Test
    void refusesOutputClipsTheCdfArithmeticCannotTake(@TempDir Path dir) throws Exception {
        FixedPointNet net = TestData.randomNet(8, 8);
        List<FixedPointLayer> layers = new java.util.ArrayList<>(net.layers());
        FixedPointLayer last = layers.get(layers.size() - 1);
        long[] tiny = new long[last.weights().length];
        java.util.Arrays.fill(tiny, 1);
        for (long clip : new long[] {io.llic.prob.MixtureCdf.MAX_PARAM, io.llic.prob.MixtureCdf.MAX_PARAM + 1}) {
            layers.set(layers.size() - 1, new FixedPointLayer(last.in(), last.out(), tiny, last.bias(), last.shift(), false, clip));
            LoadedModel m = LoadedModel.of(dir, "clip", new FixedPointNet(net.inputBound(), layers), null, Map.of());
            LoadedModel.ModelBytes files = m.toFiles();
            if (clip == io.llic.prob.MixtureCdf.MAX_PARAM) {
                LoadedModel.fromBytes(dir, files.manifest(), files.weights());
            } else {
                ModelException e = assertThrows(ModelException.class,
                        () -> LoadedModel.fromBytes(dir, files.manifest(), files.weights()));
                assertTrue(e.getMessage().contains("output clip"), e.getMessage());
            }
        }
    }

    /** Grouped nets are written as LLICFXP2 and read back exactly; dense nets keep LLICFXP1. */
    @Test
    void groupedNetsSerialiseWithTheirOwnMagic() throws Exception {
        FixedPointNet grouped = TestData.randomGroupedNet(3, 48, 8, 60);
        byte[] bytes = grouped.toBytes();
        assertEquals("LLICFXP2", new String(bytes, 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
        FixedPointNet back = FixedPointNet.fromBytes(bytes, "test");
        assertArrayEquals(bytes, back.toBytes());
        assertEquals(4, back.layers().get(1).groups());
        assertEquals(1, back.layers().get(0).groups());
        assertEquals(48 * 32 + 32 * 8 + 32 * 60 / 4, back.layers().stream().mapToLong(FixedPointLayer::multiplyAccumulates).sum());
        assertEquals("LLICFXP1", new String(TestData.randomNet(3, 8).toBytes(), 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
        // a group count that does not divide the layer is damage, reported as such
        byte[] bad = bytes.clone();
        int firstGroups = 8 + 4 + 4 + 4 + 4 + 4; // magic, bound, count, in, out, shift
        bad[firstGroups + 3] = 5;
        ModelException e = assertThrows(ModelException.class, () -> FixedPointNet.fromBytes(bad, "bad"));
        assertTrue(e.getMessage().contains("groups"), e.getMessage());
    }
}
