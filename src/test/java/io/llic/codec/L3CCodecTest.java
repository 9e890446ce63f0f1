package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.format.LlicFile;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.l3c.L3CPlan;
import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The l3c family through the shared codec: plane steps, padding, latents, streams, damage. */
class L3CCodecTest {
    @TempDir
    static Path dir;
    static LoadedModel model;

    @BeforeAll
    static void setUp() throws IOException {
        model = TestData.randomL3CModel(dir.resolve("l3c"), 5, 6);
    }

    /** A Kodak crop whose size is not a multiple of 8: exact on both engines, 1 and 2 threads, any batch. */
    @Test
    void aKodakCropRoundTripsEverywhere() throws Exception {
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim23.png")));
        RgbImage crop = kodim.crop(101, 203, 45, 27);
        byte[] file = RoundTrips.everywhere(model, crop, "l3c");
        LlicFile parsed = LlicFile.parse(file);
        assertEquals(18, parsed.chunks().size(), "one stream per (scale, channel): 3 x 5 latents, R, G, B");
        assertEquals("l3c", LlicFile.readHeader(file).schedule());
        // the latents really vary, so decoding them wrongly would change D's inputs and the image: E1's
        // symbols on the padded crop (48 x 32) take many levels
        long[] x = new long[3 * 48 * 32];
        for (int r = 0; r < 27; r++) {
            for (int c = 0; c < 45; c++) {
                for (int ch = 0; ch < 3; ch++) {
                    x[(ch * 32 + r) * 48 + c] = crop.get(r, c, ch);
                }
            }
        }
        long[] e1 = new io.llic.runtime.JavaConvEvaluator(model.convNets().get(io.llic.model.l3c.L3CStructure.E1))
                .evaluate(x, 32, 48);
        int plane = 16 * 24;
        long levels = java.util.Arrays.stream(e1, 6 * plane, e1.length).map(io.llic.model.l3c.L3CStructure::symbol)
                .distinct().count();
        assertTrue(levels >= 5, "z1 takes " + levels + " levels");
    }

    /**
     * l3c-adaptive (the family's default) codes z3 with counts learned as it goes and everything else as
     * l3c does: the 13 streams after z3's five are the same bytes. With the pyramid start, z3's channels 3
     * and 4 are constant on any image, and all five on a flat one: such a stream shrinks from 256 log2(25)
     * bits (uniform) to about 12 log2(256) bits; the others cost at most the counts' learning cost more than the
     * uniform prior. Exact everywhere.
     */
    @Test
    void theAdaptiveScheduleSparesAConstantZ3AndChangesNothingElse() throws Exception {
        LoadedModel pyramid = TestData.l3cModel(dir.resolve("pyramid"), 8, 5, true);
        RgbImage flat = new RgbImage(128, 128);
        java.util.Arrays.fill(flat.samples(), (byte) 90);
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim05.png"))).crop(300, 100, 160, 128);
        for (RgbImage image : List.of(flat, kodim)) {
            byte[] adaptive = RoundTrips.everywhere(pyramid, image, "l3c-adaptive");
            assertEquals("l3c-adaptive", LlicFile.readHeader(adaptive).schedule());
            List<byte[]> a = LlicFile.parse(adaptive).chunks();
            List<byte[]> u = LlicFile.parse(RoundTrips.everywhere(pyramid, image, "l3c")).chunks();
            assertEquals(18, a.size());
            for (int k = 5; k < 18; k++) {
                assertTrue(java.util.Arrays.equals(a.get(k), u.get(k)), "stream " + k + " differs");
            }
            int symbols = (image.width() / 8) * (image.height() / 8);
            double learning = io.llic.prob.AdaptiveCdfTest.learningBits(symbols);
            for (int c = 0; c < 5; c++) {
                double uniformBytes = symbols * Math.log(25) / Math.log(2) / 8;
                assertEquals(uniformBytes, u.get(c).length, 0.02 * uniformBytes + 10, "uniform z3 channel " + c);
                assertTrue(a.get(c).length <= u.get(c).length + learning / 8, "z3 channel " + c + ": adaptive "
                        + a.get(c).length + " bytes, uniform " + u.get(c).length);
                if (image == flat || c >= 3) {
                    assertTrue(a.get(c).length < 20, "constant z3 channel " + c + " took " + a.get(c).length + " bytes");
                }
            }
        }
    }

    /**
     * l3c-logistic (the family's default) codes every symbol of z3, z2, z1 and the image under a single
     * logistic learned while coding: exact on both engines, any thread count and batch, on a crop whose
     * size is not a multiple of 8 and across tiles (coded on parallel threads too); with the released
     * llic-l3c-3 it spends at least 3% less than l3c-predictive on a Kodak crop's image, on its z1 and on
     * its z3 (which l3c-predictive codes by adaptive counts), and less on its z2.
     */
    @Test
    void theLogisticScheduleSpendsLessThanThePredictiveOne() throws Exception {
        assertEquals("l3c-logistic", model.family().defaultSchedule());
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim03.png")));
        LoadedModel pyramid = TestData.l3cModel(dir.resolve("pyramid-l"), 8, 5, true);
        byte[] logistic = RoundTrips.everywhere(pyramid, kodim.crop(200, 300, 131, 83), "l3c-logistic");
        assertEquals("l3c-logistic", LlicFile.readHeader(logistic).schedule());
        LoadedModel released = LoadedModel.load(Path.of("models/l3c-3"));
        List<NetworkEvaluator> ev = RoundTrips.evaluators(released, true, 2);
        try {
            RgbImage larger = kodim.crop(100, 200, 256, 192);
            Encoder.Result learned = new Encoder(released, ev, false).encode(larger, "l3c-logistic", null);
            Encoder.Result mixture = new Encoder(released, ev, false).encode(larger, "l3c-predictive", null);
            for (int[] plane : new int[][] {{15, 18}, {10, 15}, {0, 5}}) {
                long now = bytes(learned.file(), plane[0], plane[1]);
                long before = bytes(mixture.file(), plane[0], plane[1]);
                assertTrue(now < 0.97 * before, "streams " + plane[0] + ".." + plane[1] + ": " + now + " bytes, " + before
                        + " along l3c-predictive");
            }
            assertTrue(bytes(learned.file(), 5, 10) < bytes(mixture.file(), 5, 10), "z2");
            assertTrue(new Decoder(released, ev, 1000).decode(learned.file()).image().samePixels(larger));
            tilesOnParallelThreadsGiveTheSameFile(released, ev, larger, "l3c-logistic");
        } finally {
            RoundTrips.close(ev);
        }
    }

    /**
     * l3c-predictive (the family's default before l3c-logistic) codes z3 as l3c-adaptive does (the same 5 streams) and
     * corrects the mixtures of z2, z1 and the image by what the symbols already coded in their plane
     * tell: exact on both engines, any thread count and batch, on a crop whose size is not a multiple of
     * 8 and across tiles; with the released llic-l3c-3 it spends at least 8% less than l3c-adaptive on a
     * Kodak crop's image, on its z1 and on its z2 (a correction that learned nothing, or the wrong sign,
     * would not).
     */
    @Test
    void thePredictiveScheduleCorrectsTheImageAndKeepsTheLatents() throws Exception {
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim03.png")));
        RgbImage crop = kodim.crop(200, 300, 131, 83);
        LoadedModel pyramid = TestData.l3cModel(dir.resolve("pyramid-p"), 8, 5, true);
        byte[] predictive = RoundTrips.everywhere(pyramid, crop, "l3c-predictive");
        assertEquals("l3c-predictive", LlicFile.readHeader(predictive).schedule());
        List<byte[]> p = LlicFile.parse(predictive).chunks();
        List<byte[]> a = LlicFile.parse(RoundTrips.everywhere(pyramid, crop, "l3c-adaptive")).chunks();
        for (int k = 0; k < 5; k++) {
            assertTrue(java.util.Arrays.equals(a.get(k), p.get(k)), "z3 stream " + k + " differs");
        }
        LoadedModel released = LoadedModel.load(Path.of("models/l3c-3"));
        List<NetworkEvaluator> ev = RoundTrips.evaluators(released, true, 2);
        try {
            RgbImage larger = kodim.crop(100, 200, 256, 192);
            Encoder.Result withCorrection = new Encoder(released, ev, false).encode(larger, "l3c-predictive", null);
            Encoder.Result without = new Encoder(released, ev, false).encode(larger, "l3c-adaptive", null);
            long image = bytes(withCorrection.file(), 15, 18);
            long plain = bytes(without.file(), 15, 18);
            assertTrue(image < 0.92 * plain, "image streams: " + image + " bytes corrected, " + plain + " not");
            for (int[] plane : new int[][] {{5, 10}, {10, 15}}) {
                long corrected = bytes(withCorrection.file(), plane[0], plane[1]);
                long uncorrected = bytes(without.file(), plane[0], plane[1]);
                assertTrue(corrected < 0.92 * uncorrected, (plane[0] == 5 ? "z2: " : "z1: ") + corrected
                        + " bytes corrected, " + uncorrected + " not");
            }
            assertTrue(new Decoder(released, ev, 1000).decode(withCorrection.file()).image().samePixels(larger));
            tilesOnParallelThreadsGiveTheSameFile(released, ev, larger, "l3c-predictive");
        } finally {
            RoundTrips.close(ev);
        }
    }

    /**
     * A model with the checkerboard context (network C1) codes the image in two halves, the second under
     * C1, which reads the first half's pixels: exact on both engines, any thread count and batch, along
     * every schedule, on a crop whose size is not a multiple of 8 and across tiles. Started from a model
     * without it ({@link io.llic.model.l3c.L3CStructure#withContext}), C1 gives D1's mixtures: the
     * latents' streams are the same bytes and the image's hold the same symbols under the same
     * distributions, in another order (sizes within a few bytes). With C1's pixel convolution at zero
     * the image costs otherwise than with it random: C1 is given the first half's pixels.
     */
    @Test
    void theCheckerboardContextCodesTheSecondHalfUnderC1() throws Exception {
        LoadedModel context = TestData.l3cModel(dir.resolve("context"), 5, 8, true, true);
        assertEquals(7, context.convNets().size());
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim23.png")));
        RgbImage crop = kodim.crop(101, 203, 45, 27);
        for (String schedule : L3CPlan.SCHEDULES) {
            assertEquals(18, LlicFile.parse(RoundTrips.everywhere(context, crop, schedule)).chunks().size(), schedule);
        }
        RgbImage image = TestData.syntheticImage(150, 70, 3);
        assertEquals(3 * 2 * 18, LlicFile.parse(RoundTrips.everywhere(context, image, "l3c-predictive", 64)).chunks().size());

        io.llic.model.l3c.L3CStructure plain = new io.llic.model.l3c.L3CStructure(8, 1);
        io.llic.model.l3c.L3CStructure checker = new io.llic.model.l3c.L3CStructure(8, 1, true);
        double[] base = plain.pyramid(7);
        double[] same = checker.withContext(base);
        LoadedModel a = TestData.l3cModel(dir.resolve("plain"), 7, plain, base, "plain");
        LoadedModel b = TestData.l3cModel(dir.resolve("same"), 7, checker, same, "with C1 as D1");
        double[] seeing = same.clone();
        java.util.Random r = new java.util.Random(3);
        int at = checker.offset(io.llic.model.l3c.L3CStructure.C1);
        for (int i = 0; i < 3 * 8 * 25; i++) {
            seeing[at + i] = 0.05 * r.nextGaussian();  // C1's convolution of the first half's pixels
        }
        LoadedModel c = TestData.l3cModel(dir.resolve("seeing"), 7, checker, seeing, "C1 seeing pixels");
        RgbImage larger = kodim.crop(100, 200, 96, 64);
        List<byte[]> pa = LlicFile.parse(RoundTrips.everywhere(a, larger, "l3c")).chunks();
        List<byte[]> pb = LlicFile.parse(RoundTrips.everywhere(b, larger, "l3c")).chunks();
        List<byte[]> pc = LlicFile.parse(RoundTrips.everywhere(c, larger, "l3c")).chunks();
        for (int k = 0; k < 15; k++) {
            assertTrue(java.util.Arrays.equals(pa.get(k), pb.get(k)), "latent stream " + k);
        }
        for (int k = 15; k < 18; k++) {
            assertEquals(pa.get(k).length, pb.get(k).length, 4, "image stream " + k + ": the same symbols and distributions");
            assertTrue(Math.abs(pc.get(k).length - pb.get(k).length) > 8, "image stream " + k + ": " + pc.get(k).length
                    + " bytes when C1 sees the first half, " + pb.get(k).length + " when it does not");
        }
    }

    /** Bytes of streams {@code from} (inclusive) to {@code to} (exclusive): z3 0-4, z2 5-9, z1 10-14, R, G, B 15-17. */
    /**
     * Each tile learns on its own, so the image coded in 64 x 64 tiles on two threads gives the same file
     * as on one, and that file decodes on two threads.
     */
    private static void tilesOnParallelThreadsGiveTheSameFile(LoadedModel model, List<NetworkEvaluator> ev, RgbImage image,
                                                             String schedule) throws Exception {
        byte[] tiled = new Encoder(model, ev, false).tiled(64).encode(image, schedule, null).file();
        List<NetworkEvaluator> more = RoundTrips.evaluators(model, false, 1);
        try {
            byte[] parallel = new Encoder(model, ev, false).tiled(64).parallelTiles(List.of(more))
                    .encode(image, schedule, null).file();
            assertTrue(java.util.Arrays.equals(tiled, parallel), schedule + ": tiles coded in parallel");
            assertTrue(new Decoder(model, ev, 1000).parallelTiles(List.of(more)).decode(tiled).image()
                    .samePixels(image), schedule);
        } finally {
            RoundTrips.close(more);
        }
    }

    private static long bytes(byte[] file, int from, int to) throws Exception {
        List<byte[]> chunks = LlicFile.parse(file).chunks();
        long n = 0;
        for (int k = from; k < to; k++) {
            n += chunks.get(k).length;
        }
        return n;
    }

    @Test
    void tinyAndThinImagesRoundTrip() throws Exception {
        for (int[] wh : new int[][] {{1, 1}, {8, 8}, {9, 3}, {33, 1}, {1, 17}}) {
            RgbImage image = TestData.syntheticImage(wh[0], wh[1], 7);
            List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
            try {
                for (String schedule : List.of("l3c", "l3c-predictive", "l3c-logistic")) {
                    byte[] file = new Encoder(model, ev, false).encode(image, schedule, null).file();
                    assertTrue(new Decoder(model, ev, 5).decode(file).image().samePixels(image),
                            wh[0] + "x" + wh[1] + " " + schedule);
                }
            } finally {
                RoundTrips.close(ev);
            }
        }
    }

    /**
     * Without a tile setting an l3c model tiles at 1024 (its plan holds about 1 KB per tile pixel),
     * a causal model at 2048; an explicit setting wins.
     */
    @Test
    void theFamilysDefaultTileBoundsItsMemory() throws Exception {
        RgbImage wide = new RgbImage(1100, 40);
        RgbImage fits = new RgbImage(1024, 40);
        List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
        try {
            assertEquals(1024, new Encoder(model, ev, false).tileSizeFor(wide));
            assertEquals(0, new Encoder(model, ev, false).tileSizeFor(fits));
            assertEquals(0, new Encoder(model, ev, false).tiled(0).tileSizeFor(wide));
            assertEquals(0, new Encoder(model, ev, false).tiled(2048).tileSizeFor(wide));
            assertEquals(512, new Encoder(model, ev, false).tiled(512).tileSizeFor(wide));
        } finally {
            RoundTrips.close(ev);
        }
        LoadedModel causal = TestData.randomModel(dir.resolve("causal"), 3);
        assertEquals(2048, Encoder.resolveTile(Encoder.MODEL_TILE, causal));
        assertEquals(1024, Encoder.resolveTile(Encoder.MODEL_TILE, model));
        assertEquals(700, Encoder.resolveTile(700, model));
    }

    /** Tiles: each tile padded and coded on its own (l3c-adaptive: with its own z3 counts). */
    @Test
    void tiledImagesRoundTrip() throws Exception {
        RgbImage image = TestData.syntheticImage(150, 70, 3);
        for (String schedule : L3CPlan.SCHEDULES) {
            byte[] file = RoundTrips.everywhere(model, image, schedule, 64);
            assertEquals(3 * 2 * 18, LlicFile.parse(file).chunks().size(), schedule);
        }
    }

    @Test
    void damageIsACleanError() throws Exception {
        RgbImage image = TestData.syntheticImage(24, 16, 9);
        List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
        try {
            byte[] file = new Encoder(model, ev, false).encode(image, "l3c", null).file();
            byte[] cut = java.util.Arrays.copyOf(file, file.length - 9);
            assertThrows(IOException.class, () -> new Decoder(model, ev, 64).decode(cut));
            assertThrows(IllegalArgumentException.class, () -> new Encoder(model, ev, false).encode(image, "wavefront", null));
        } finally {
            RoundTrips.close(ev);
        }
    }

    /** A weights file whose networks do not form an l3c structure is refused when loaded. */
    @Test
    void aWrongModelIsRefused() throws Exception {
        LoadedModel other = TestData.randomL3CModel(dir.resolve("other"), 6, 4);
        List<io.llic.model.FixedPointConvNet> mixed = new java.util.ArrayList<>(model.convNets());
        mixed.set(io.llic.model.l3c.L3CStructure.D2, other.convNets().get(io.llic.model.l3c.L3CStructure.D2));
        ModelException e = assertThrows(ModelException.class, () -> new io.llic.model.l3c.L3CFamily().checkConv(mixed, "mixed"));
        assertTrue(e.getMessage().contains("D2"), e.getMessage());
    }
}
