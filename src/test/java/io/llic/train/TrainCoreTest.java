package io.llic.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.CausalModel;
import io.llic.model.ModelException;
import io.llic.schedule.Schedules;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.nio.file.Path;
import io.llic.codec.Encoder;
import io.llic.model.LoadedModel;
import io.llic.runtime.Evaluators;
import io.llic.runtime.NetworkEvaluator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The training core on real training images, in one JVM: sampling, loss, gradients, Adam, checkpoints. */
class TrainCoreTest {
    private static List<TrainImage> images;
    private static LossModel loss;
    private static final CausalNet SMALL = new CausalNet(16, 2);

    @BeforeAll
    static void load() throws Exception {
        images = new ArrayList<>();
        for (String name : List.of("100075.png", "100080.png", "100098.png")) {
            RgbImage rgb = PngIo.read(Files.readAllBytes(TestData.shared().resolve("datasets/train/bsd200/" + name)));
            images.add(TrainImage.of(name, rgb).downsample(2));
        }
        loss = new LossModel(SMALL, 1);
    }

    @AfterAll
    static void close() {
        loss.close();
    }

    private static TrainConfig config(long steps) {
        return new TrainConfig("causal", List.of("bsd200"), List.of(2), SMALL.hidden(), SMALL.hiddenLayers(), 8, 6, 2,
                3e-3, "cosine", 1e-4, 2, steps, 7, 0, 0, 0, 2);
    }

    @Test
    void contextsAreTheCodecsContexts() {
        TrainImage im = images.get(0);
        RgbImage rgb = new RgbImage(im.width(), im.height(), im.samples());
        Batch rows = CropSampler.rows(im, 3, 2);
        int[] pixels = new int[rows.pixels()];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = 3 * im.width() + i;
        }
        long[] expected = new long[pixels.length * CausalModel.INPUTS];
        CausalModel.contexts(rgb, Schedules.byName("sequential"), pixels, 0, pixels.length, expected);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i] / 255f, rows.inputs()[i], 1e-7, "input " + i);
        }
        for (int p = 0; p < pixels.length; p++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(rgb.get(3 + p / im.width(), p % im.width(), c), rows.targets()[p * 3 + c]);
            }
        }
    }

    @Test
    void cropsArePureFunctionsOfSeedStepAndShard() {
        CropSampler s = new CropSampler(images, 8);
        Batch a = s.sample(7, 3, 1, 4);
        Batch b = new CropSampler(images, 8).sample(7, 3, 1, 4);
        assertArrayEquals(a.inputs(), b.inputs());
        assertArrayEquals(a.targets(), b.targets());
        assertNotEquals(java.util.Arrays.hashCode(a.targets()), java.util.Arrays.hashCode(s.sample(7, 4, 1, 4).targets()));
        assertNotEquals(java.util.Arrays.hashCode(a.targets()), java.util.Arrays.hashCode(s.sample(7, 3, 0, 4).targets()));
        assertThrows(IllegalArgumentException.class, () -> new CropSampler(images, 10_000));
    }

    /** The float loss, recomputed independently in double precision from the network's definition. */
    @Test
    void lossIsTheMixtureCodeLength() {
        double[] params = SMALL.init(3);
        Batch b = new CropSampler(images, 4).sample(1, 1, 0, 2);
        double expected = 0;
        for (int p = 0; p < b.pixels(); p++) {
            float[] raw = java.util.Arrays.copyOfRange(b.inputs(), p * CausalModel.INPUTS, (p + 1) * CausalModel.INPUTS);
            float[] features = new float[CausalNet.FEATURES];
            CausalNet.features(raw, 1, features);
            double[] h = new double[CausalNet.FEATURES];
            for (int i = 0; i < h.length; i++) {
                h[i] = features[i];
            }
            for (int l = 0; l < SMALL.layers(); l++) {
                double[] o = new double[SMALL.out(l)];
                for (int j = 0; j < o.length; j++) {
                    double acc = params[SMALL.biasOffset(l) + j];
                    for (int i = 0; i < SMALL.in(l); i++) {
                        acc += params[SMALL.weightOffset(l) + j * SMALL.in(l) + i] * h[i];
                    }
                    o[j] = l < SMALL.layers() - 1 && acc < 0 ? acc * CausalNet.LEAKY_SLOPE : acc;
                }
                h = o;
            }
            int[] v = {b.targets()[p * 3], b.targets()[p * 3 + 1], b.targets()[p * 3 + 2]};
            for (int c = 0; c < 3; c++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int m = 0; m < 3; m++) {
                    max = Math.max(max, h[18 + c * 3 + m]);
                }
                double z = 0;
                for (int m = 0; m < 3; m++) {
                    z += Math.exp(h[18 + c * 3 + m] - max);
                }
                double prob = 0;
                for (int m = 0; m < 3; m++) {
                    double mu = h[c * 3 + m];
                    if (c == 1) {
                        mu += h[27 + m] * v[0] / 255.0;
                    } else if (c == 2) {
                        mu += h[30 + m] * v[0] / 255.0 + h[33 + m] * v[1] / 255.0;
                    }
                    double sigma = Math.max(h[9 + c * 3 + m], CausalNet.SIGMA_MIN);
                    double x = v[c] / 255.0;
                    double up = v[c] == 255 ? 1 : phi((x + 0.5 / 255 - mu) / sigma);
                    double lo = v[c] == 0 ? 0 : phi((x - 0.5 / 255 - mu) / sigma);
                    prob += Math.exp(h[18 + c * 3 + m] - max) / z * (up - lo);
                }
                expected += -Math.log(Math.max(prob, LossModel.P_MIN)) / Math.log(2);
            }
        }
        LossModel.Result r = loss.evaluate(params, b, 1, false);
        assertEquals(expected, r.bits(), expected * 2e-4);
        assertEquals(3L * b.pixels(), r.subpixels());
    }

    private static double phi(double u) {
        // Abramowitz-Stegun 7.1.26 is too coarse; integrate the erf series instead (|u| is small here)
        return 0.5 * (1 + erf(u / Math.sqrt(2)));
    }

    private static double erf(double x) {
        if (Math.abs(x) > 6) {
            return Math.signum(x);
        }
        // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)), fine for |x| <= 3; continued fraction beyond
        if (Math.abs(x) <= 3) {
            double sum = 0;
            double term = x;
            for (int n = 0; n < 200; n++) {
                sum += term / (2 * n + 1);
                term *= -x * x / (n + 1);
            }
            return 2 / Math.sqrt(Math.PI) * sum;
        }
        double t = Math.abs(x);
        double cf = 0;
        for (int k = 60; k >= 1; k--) {
            cf = k / 2.0 / (t + cf);
        }
        double erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + cf);
        return Math.signum(x) * (1 - erfc);
    }

    @Test
    void shardGradientsAddUpToTheWholeBatchGradient() {
        double[] params = SMALL.init(5);
        CropSampler s = new CropSampler(images, 8);
        Batch a = s.sample(1, 1, 0, 3);
        Batch b = s.sample(1, 1, 1, 3);
        double w = 1.0 / (3.0 * (a.pixels() + b.pixels()));
        GradientSum sharded = GradientSum.of(loss.evaluate(params, a, w, true)).add(GradientSum.of(loss.evaluate(params, b, w, true)));
        LossModel.Result whole = loss.evaluate(params, Batch.concat(a, b), w, true);
        double[] g = sharded.gradient();
        double norm = 0;
        for (double x : whole.gradient()) {
            norm = Math.max(norm, Math.abs(x));
        }
        assertTrue(norm > 0);
        for (int i = 0; i < g.length; i++) {
            assertEquals(whole.gradient()[i], g[i], 1e-4 * norm + 1e-9, "parameter " + i);
        }
        assertEquals(whole.bits(), sharded.bits(), whole.bits() * 1e-5);
        // fixed-point sums do not depend on the order of combination
        GradientSum x = GradientSum.of(loss.evaluate(params, a, w, true));
        GradientSum y = GradientSum.of(loss.evaluate(params, b, w, true));
        GradientSum z = GradientSum.of(loss.evaluate(params, s.sample(1, 2, 0, 2), w, true));
        double[] left = new GradientSum(0).add(x).add(y).add(z).gradient();
        GradientSum x2 = GradientSum.of(loss.evaluate(params, a, w, true));
        GradientSum y2 = GradientSum.of(loss.evaluate(params, b, w, true));
        GradientSum z2 = GradientSum.of(loss.evaluate(params, s.sample(1, 2, 0, 2), w, true));
        double[] right = z2.add(new GradientSum(0).add(y2).add(x2)).gradient();
        assertArrayEquals(left, right);
    }

    /** In-JVM backend: every shard's crops through one loss model, summed in fixed point. */
    private static Trainer.Backend backend(TrainConfig config) {
        CropSampler s0 = new CropSampler(images.subList(0, 2), config.crop());
        CropSampler s1 = new CropSampler(images.subList(2, 3), config.crop());
        double w = 1.0 / (3.0 * config.batch() * config.crop() * config.crop());
        return new Trainer.Backend() {
            @Override
            public GradientSum gradient(double[] params, long step) {
                return GradientSum.of(loss.evaluate(params, s0.sample(config.seed(), step, 0, config.cropsOfShard(0)), w, true))
                        .add(GradientSum.of(loss.evaluate(params, s1.sample(config.seed(), step, 1, config.cropsOfShard(1)), w, true)));
            }

            @Override
            public GradientSum validate(double[] params) {
                return GradientSum.of(loss.evaluate(params, s1.sample(config.seed(), -1, 1, 4), 0, false));
            }
        };
    }

    @Test
    void aShortRunLowersTheLoss() {
        TrainConfig config = config(60);
        Trainer.Outcome o = new Trainer(backend(config), c -> { }).run(Trainer.start(config), Trainer.Budget.none());
        assertTrue(o.finished());
        Trainer.Backend b = backend(config);
        double before = b.validate(Trainer.start(config).params()).bitsPerSubpixel();
        double after = b.validate(o.last().params()).bitsPerSubpixel();
        assertTrue(after < before - 0.5, "validation bits per sub-pixel " + before + " -> " + after);
    }

    @Test
    void resumingFromACheckpointContinuesExactly() throws ModelException {
        TrainConfig config = config(8);
        List<Checkpoint> saved = new ArrayList<>();
        Checkpoint straight = new Trainer(backend(config), saved::add).run(Trainer.start(config), Trainer.Budget.none()).last();
        assertEquals(List.of(2L, 4L, 6L, 8L), saved.stream().map(Checkpoint::step).toList());

        List<Checkpoint> first = new ArrayList<>();
        Trainer.Outcome stopped = new Trainer(backend(config), first::add).run(Trainer.start(config), new Trainer.Budget(0, 5, 30));
        assertEquals(5, stopped.last().step());
        // the stopped run's last checkpoint goes through bytes, as it would between sessions
        Checkpoint reloaded = Checkpoint.fromBytes(stopped.last().toBytes(), "test");
        Checkpoint resumed = new Trainer(backend(config), c -> { }).run(reloaded, Trainer.Budget.none()).last();
        assertEquals(8, resumed.step());
        assertArrayEquals(straight.params(), resumed.params());
        assertArrayEquals(straight.m(), resumed.m());
        assertArrayEquals(straight.v(), resumed.v());
    }

    @Test
    void damagedCheckpointsAreRefused() {
        TrainConfig config = config(4);
        byte[] bytes = Trainer.start(config).toBytes();
        Checkpoint back = assertDoesNotThrow(bytes);
        assertEquals(config, back.config());
        for (int i : new int[] {0, 20, bytes.length / 2, bytes.length - 1}) {
            byte[] bad = bytes.clone();
            bad[i] ^= 0x10;
            ModelException e = assertThrows(ModelException.class, () -> Checkpoint.fromBytes(bad, "x.ckpt"));
            assertTrue(e.getMessage().startsWith("x.ckpt: "), e.getMessage());
        }
        assertThrows(ModelException.class, () -> Checkpoint.fromBytes(java.util.Arrays.copyOf(bytes, 100), "x.ckpt"));
    }

    private static Checkpoint assertDoesNotThrow(byte[] bytes) {
        try {
            return Checkpoint.fromBytes(bytes, "ok");
        } catch (ModelException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void exportedNetworkCodesWhatTheFloatNetworkPredicts(@TempDir Path dir) throws IOException {
        // after a short training run, the codec's code length with the fixed-point export (features
        // folded into layer 0) matches the float network's on a whole image
        TrainConfig config = config(40);
        Checkpoint c = new Trainer(backend(config), x -> { }).run(Trainer.start(config), Trainer.Budget.none()).last();
        LoadedModel model = LoadedModel.write(dir, "t", SMALL.export(c.params()), Map.of());
        TrainImage im = images.get(2);
        double floatBits = 0;
        for (int r = 0; r < im.height(); r += 20) {
            floatBits += loss.evaluate(c.params(), CropSampler.rows(im, r, Math.min(20, im.height() - r)), 0, false).bits();
        }
        try (NetworkEvaluator ev = Evaluators.create(Evaluators.JAVA, model.net(), "cpu", 1)) {
            Encoder.Result r = new Encoder(model, ev, false).encode(new RgbImage(im.width(), im.height(), im.samples()),
                    Schedules.byName("wavefront"), null);
            // the integer CDF gives every value at least 1/65536 where the float likelihood is floored
            // at 1e-9, so a young model codes slightly better than its float loss, never worse
            assertTrue(r.stats().predictedBits() < floatBits * 1.002, r.stats().predictedBits() + " vs " + floatBits);
            assertTrue(r.stats().predictedBits() > floatBits * 0.98, r.stats().predictedBits() + " vs " + floatBits);
        }
    }

    @Test
    void learningRateSchedules() {
        TrainConfig c = config(102);
        assertEquals(1.5e-3, c.learningRate(1), 1e-12);
        assertEquals(3e-3, c.learningRate(2), 1e-12);
        assertEquals(1e-4, c.learningRate(102), 1e-12);
        assertEquals((3e-3 + 1e-4) / 2, c.learningRate(52), 1e-12);
        TrainConfig linear = new TrainConfig("causal", List.of("x"), List.of(1), 16, 2, 8, 6, 2, 3e-3, "linear", 1e-4, 2,
                102, 7, 0, 0, 0, 2);
        assertEquals(3e-3 - (3e-3 - 1e-4) * 0.25, linear.learningRate(27), 1e-12);
        TrainConfig constant = new TrainConfig("causal", List.of("x"), List.of(1), 16, 2, 8, 6, 2, 3e-3, "constant", 1e-4,
                2, 102, 7, 0, 0, 0, 2);
        assertEquals(3e-3, constant.learningRate(90), 1e-12);
        assertEquals(3e-3, config(0).learningRate(50), 1e-12, "before a --minutes run fixes its length: the peak");
    }

    @Test
    void downsamplingAveragesBlocks() {
        byte[] s = new byte[4 * 2 * 3];
        for (int i = 0; i < s.length; i++) {
            s[i] = (byte) (i * 10);
        }
        TrainImage im = new TrainImage("x", 4, 2, s).downsample(2);
        assertEquals(2, im.width());
        assertEquals(1, im.height());
        // pixel (0,0) channel 0 averages samples 0, 3, 12, 15 (x10) = (0+30+120+150)/4 = 75
        assertEquals(75, im.samples()[0] & 0xFF);
        assertEquals(im, im.downsample(1));
    }
}
