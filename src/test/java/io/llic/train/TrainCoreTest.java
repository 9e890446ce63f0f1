package io.llic.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.causal.CausalModel;
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
        return small("cosine").steps(steps).build();
    }

    /** The small causal test run on bsd200 (downsampled by 2): 8x8 crops, batch 6 in 2 shards, seed 7. */
    private static TrainConfig.Builder small(String schedule) {
        return TrainConfig.builder("causal", List.of("bsd200"), List.of(2)).net(SMALL.hidden(), SMALL.hiddenLayers()).crop(8)
                .batch(6).shards(2).learningRate(3e-3).lrSchedule(schedule).finalLearningRate(1e-4).warmup(2).seed(7)
                .checkpointEvery(2);
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
        CausalModel.contexts(rgb, Schedules.byName("sequential"), pixels, 0, pixels.length, expected, 0);
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

    /**
     * A gradient with infinite elements: the causal family clamps them and moves; the l3c family skips
     * the step, so three such steps leave its parameters exactly where they started.
     */
    @Test
    void nonFiniteGradientsAreClampedOrSkippedAsTheFamilySays() {
        for (String family : List.of("causal", "l3c")) {
            TrainConfig config = TrainConfig.builder(family, List.of("x"), List.of(1)).net(4, 1).crop(8).batch(6).shards(2)
                    .learningRate(3e-3).finalLearningRate(1e-4).warmup(2).steps(3).seed(7).checkpointEvery(2).build();
            Trainer.Backend broken = constantGradient(0.5, true);
            Checkpoint start = Trainer.start(config);
            Checkpoint end = new Trainer(broken, c -> { }).run(start, Trainer.Budget.none()).last();
            assertEquals(3, end.step(), family);
            if (family.equals("l3c")) {
                assertArrayEquals(start.params(), end.params(), "l3c skips the steps");
            } else {
                assertFalse(java.util.Arrays.equals(start.params(), end.params()), "causal clamps and moves");
            }
        }
    }

    /** A backend whose gradient is {@code value} everywhere (the first element infinite if {@code infiniteFirst}). */
    private static Trainer.Backend constantGradient(double value, boolean infiniteFirst) {
        return new Trainer.Backend() {
            @Override
            public GradientSum gradient(double[] params, long step) {
                double[] g = new double[params.length];
                java.util.Arrays.fill(g, value);
                if (infiniteFirst) {
                    g[0] = Double.POSITIVE_INFINITY;
                }
                return GradientSum.of(new LossModel.Result(100, 10, g));
            }

            @Override
            public GradientSum validate(double[] params) {
                return GradientSum.of(new LossModel.Result(100, 10, null));
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
        TrainConfig linear = small("linear").steps(102).build();
        assertEquals(3e-3 - (3e-3 - 1e-4) * 0.25, linear.learningRate(27), 1e-12);
        TrainConfig constant = small("constant").steps(102).build();
        assertEquals(3e-3, constant.learningRate(90), 1e-12);
        assertEquals(3e-3, config(0).learningRate(50), 1e-12, "before a --minutes run fixes its length: the peak");
    }

    private static TrainConfig wsd(long steps, long cooldown, double ema) {
        return small("wsd").steps(steps).cooldown(cooldown).ema(ema).build();
    }

    /**
     * Adam with a frozen prefix: the first parameters do not move (their moments stay 0) for the
     * frozen steps, and then take exactly the steps of a fresh Adam (about lr each, not the several
     * times lr the run's bias correction would give moments that start at 0); the others move as under
     * plain Adam throughout.
     */
    @Test
    void adamStartsAFrozenPrefixAfresh() {
        checkAdamPrefix(3, 6, 2, 25, 1, 40);
    }

    /**
     * The prefix at its own rate: released (after 10 frozen steps, or from step 1) it takes a fresh
     * Adam's steps at 0.05 times the rate, while the rest moves as under plain Adam at the full rate.
     */
    @Test
    void adamMovesThePrefixAtItsOwnRate() {
        checkAdamPrefix(5, 5, 2, 0, 0.05, 30);
        checkAdamPrefix(5, 5, 2, 10, 0.05, 30);
    }

    /**
     * {@code steps} updates of random gradients on {@code n} parameters whose first {@code prefixLength}
     * are held for {@code frozenSteps} and then move at {@code scale} times the rate: the prefix equals a
     * fresh Adam's at the scaled rate (moments 0 while held, first step {@code scale} lr), the rest
     * plain Adam's.
     */
    private static void checkAdamPrefix(long seed, int n, int prefixLength, long frozenSteps, double scale, long steps) {
        java.util.Random r = new java.util.Random(seed);
        double lr = 1e-2;
        double[] p = new double[n];
        double[] plain = new double[n];
        double[] fresh = new double[prefixLength];
        Adam adam = new Adam(n);
        Adam reference = new Adam(n);
        Adam prefix = new Adam(prefixLength);
        for (long t = 1; t <= steps; t++) {
            double[] g = new double[n];
            for (int i = 0; i < n; i++) {
                g[i] = r.nextGaussian();
            }
            adam.step(p, g, t, lr, prefixLength, frozenSteps, scale);
            reference.step(plain, g, t, lr);
            if (t > frozenSteps) {
                prefix.step(fresh, java.util.Arrays.copyOf(g, prefixLength), t - frozenSteps, scale * lr);
            }
            for (int i = 0; i < prefixLength; i++) {
                assertEquals(fresh[i], p[i], 1e-15, "step " + t);
                if (t <= frozenSteps) {
                    assertEquals(0, adam.firstMoment()[i] + adam.secondMoment()[i], 0);
                }
            }
            for (int i = prefixLength; i < n; i++) {
                assertEquals(plain[i], p[i], 1e-15);
            }
            if (t == frozenSteps + 1) {
                assertEquals(scale * lr, Math.abs(p[0]), scale * lr * 1e-4, "the prefix's first step is its rate, as a fresh Adam's");
            }
        }
    }

    /**
     * The trainer gives the l3c encoders (the family's prefix) their own rate when {@code encoderLr}
     * is below 1, also without a freeze: one step of a constant gradient moves them by half of what
     * it moves the decoders.
     */
    @Test
    void theTrainerMovesTheEncodersAtTheirOwnRate() {
        TrainConfig config = TrainConfig.builder("l3c", List.of("x"), List.of(1)).net(4, 1).crop(8).batch(6).shards(2)
                .learningRate(3e-3).warmup(2).steps(1).seed(7).checkpointEvery(2).encoders(0, 0.5).build();
        Trainer.Backend constant = constantGradient(0.25, false);
        Checkpoint start = Trainer.start(config);
        Checkpoint end = new Trainer(constant, c -> { }).run(start, Trainer.Budget.none()).last();
        int prefix = TrainableFamilies.byName("l3c").frozenPrefix(config);
        assertTrue(prefix > 0 && prefix < start.params().length);
        double lr = config.learningRate(1);
        for (int i = 0; i < start.params().length; i++) {
            double moved = start.params()[i] - end.params()[i];
            assertEquals(i < prefix ? 0.5 * lr : lr, moved, 1e-6 * lr, "parameter " + i); // Adam's epsilon: 4e-8
        }
    }

    /** A checkpoint written before {@code --encoder-lr} existed has no such field: its encoders learned at the run's rate. */
    @Test
    void checkpointsWithoutTheEncoderRateReadAsTheRunsRate() {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> fields = json.convertValue(config(4).toBuilder().encoders(0, 0.25).build(),
                java.util.Map.class);
        assertEquals(0.25, json.convertValue(fields, TrainConfig.class).encoderLr(), 0);
        fields.remove("encoderLr");
        assertEquals(1, json.convertValue(fields, TrainConfig.class).encoderLr(), 0);
    }

    /**
     * Gradients do not depend on the garbage collector. DJL's number overloads ({@code a.mul(2.0)})
     * close the scalar they make while autograd still holds it for the backward pass; a collection
     * before {@code backward} then freed it and the gradients read freed memory (NaN, or silently
     * wrong values). With a thread churning the heap, every family's gradient must equal, bit for bit,
     * the one computed on a quiet heap ({@link Scalars} keeps the constants alive).
     */
    @Test
    void gradientsDoNotDependOnTheGarbageCollector() throws Exception {
        for (String family : List.of("causal", "interp", "l3c")) {
            TrainableFamily f = TrainableFamilies.byName(family);
            // the families' default sizes: the freed scalars are reused by later allocations often enough
            TrainConfig config = TrainConfig.builder(family, List.of("x"), List.of(1)).net(f.defaultHidden(), f.defaultLayers())
                    .crop(f.defaultCrop()).batch(8).steps(10).start(family.equals("causal") ? "predictor" : "random").build();
            double[] params = f.init(config);
            TrainBatch batch = f.sample(images, config, 3, 0, 8);
            try (FamilyLoss loss = f.loss(config, 1, "cpu")) {
                double[] quiet = loss.evaluate(params, batch, 1.0, true).gradient().clone();
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                Thread churn = new Thread(() -> {
                    List<double[]> keep = new ArrayList<>();
                    while (!stop.get()) {
                        keep.add(new double[1 << 15]);
                        if (keep.size() > 200) {
                            keep.clear();
                        }
                    }
                });
                churn.setDaemon(true);
                churn.start();
                try {
                    for (int r = 0; r < 6; r++) {
                        System.gc();
                        double[] busy = loss.evaluate(params, batch, 1.0, true).gradient();
                        assertArrayEquals(quiet, busy, family + ", evaluation " + r + " on a busy heap");
                    }
                } finally {
                    stop.set(true);
                    churn.join();
                }
            }
        }
    }

    @Test
    void l3cWarmupsFollowTheStep() {
        assertEquals(1, wsd(100, 0, 0).rateWeight(1), 0, "no warm-up: the latents count fully from step 1");
        TrainConfig c = TrainConfig.builder("l3c", List.of("x"), List.of(1)).net(8, 1).crop(64).batch(6).shards(2)
                .learningRate(3e-3).lrSchedule("wsd").finalLearningRate(1e-4).warmup(2).steps(1000).seed(7).checkpointEvery(2)
                .start("random").rateWarmup(200).encoders(50, 1).build();
        assertEquals(0.005, c.rateWeight(1), 1e-12);
        assertEquals(0.5, c.rateWeight(100), 1e-12);
        assertEquals(1, c.rateWeight(200), 0);
        assertEquals(1, c.rateWeight(900), 0);
        assertEquals(200, c.withSchedule(5000, 100).rateWarmup(), "re-planning keeps the warm-up");
        assertTrue(c.encodersFrozen(1) && c.encodersFrozen(50) && !c.encodersFrozen(51));
        assertEquals(50, c.withSchedule(5000, 100).freezeEncoders());
        assertFalse(wsd(100, 0, 0).encodersFrozen(1));
    }

    @Test
    void wsdHoldsThePeakThenCoolsDownLinearly() {
        TrainConfig c = wsd(12, 4, 0);
        assertEquals(1.5e-3, c.learningRate(1), 1e-12);
        assertEquals(3e-3, c.learningRate(8), 1e-12, "stable until steps - cooldown");
        assertEquals(8, c.stableEnd());
        assertEquals(3e-3 + (1e-4 - 3e-3) * 0.5, c.learningRate(10), 1e-12);
        assertEquals(1e-4, c.learningRate(12), 1e-12);
        assertEquals(0, c.firstDifferentRate(wsd(40, 4, 0), 8), "extending in the stable phase keeps every rate taken");
        assertEquals(9, c.firstDifferentRate(wsd(40, 4, 0), 9), "but not once the cool-down has begun");
        assertEquals(0, wsd(20, 0, 0).firstDifferentRate(wsd(14, 6, 0), 8), "a cool-down started now");
    }

    /**
     * A run extended while stable and then cooled down on request ends bit-identical to one planned
     * that way from the start; each piece goes through checkpoint bytes, as between sessions.
     */
    @Test
    void anExtendedRunEqualsTheUninterruptedRunOfTheSameSchedule() throws ModelException {
        TrainConfig planned = wsd(14, 4, 0.9);
        Checkpoint straight = new Trainer(backend(planned), c -> { }).run(Trainer.start(planned), Trainer.Budget.none()).last();

        TrainConfig first = wsd(6, 0, 0.9); // ends stable, to be extended
        Checkpoint a = new Trainer(backend(first), c -> { }).run(Trainer.start(first), Trainer.Budget.none()).last();
        assertEquals(6, a.step());
        Checkpoint extended = Checkpoint.fromBytes(a.toBytes(), "a").withConfig(a.config().withSchedule(10, 0));
        Checkpoint b = new Trainer(backend(planned), c -> { }).run(extended, Trainer.Budget.none()).last();
        assertEquals(10, b.step());
        // --cooldown 4 from step 10: 14 steps in all, the last 4 decaying
        Checkpoint cooling = Checkpoint.fromBytes(b.toBytes(), "b").withConfig(b.config().withSchedule(14, 4));
        assertEquals(0, b.config().firstDifferentRate(cooling.config(), 10));
        Checkpoint end = new Trainer(backend(planned), c -> { }).run(cooling, Trainer.Budget.none()).last();
        assertEquals(14, end.step());
        assertArrayEquals(straight.params(), end.params());
        assertArrayEquals(straight.v(), end.v());
        assertArrayEquals(straight.ema(), end.ema(), "the moving average continues exactly too");
        assertFalse(java.util.Arrays.equals(end.params(), end.ema()));
    }

    @Test
    void theMovingAverageFollowsItsRecurrence() {
        TrainConfig c = wsd(5, 0, 0.75);
        Checkpoint state = Trainer.start(c);
        double[] expected = state.params().clone();
        for (int k = 1; k <= 5; k++) {
            state = new Trainer(backend(c), x -> { }).run(state, new Trainer.Budget(0, k, 30)).last();
            for (int i = 0; i < expected.length; i++) {
                expected[i] = 0.75 * expected[i] + (1 - 0.75) * state.params()[i];
            }
        }
        assertEquals(5, state.step());
        assertArrayEquals(expected, state.ema());
        assertArrayEquals(state.ema(), state.exportParams(), "export takes the average");
        assertFalse(java.util.Arrays.equals(state.params(), state.ema()));
        assertNull(Trainer.start(wsd(5, 0, 0)).ema());
    }

    /** The least-squares start predicts better than (left + above) / 2 before any step is taken. */
    @Test
    void leastSquaresStartHasALowerInitialLoss() {
        CropSampler s = new CropSampler(images, 16);
        Batch fitCrops = s.sample(5, -2, 0, 64);
        LinearStart.Fit fit = LinearStart.fit(LinearStart.moments(fitCrops, 1.0 / fitCrops.pixels()));
        assertTrue(fit.rms()[0] > 0 && fit.rms()[0] < 0.2, "R residual " + fit.rms()[0]);
        assertTrue(fit.alpha() > 0.3, "G follows R on photographs: " + fit.alpha());
        CausalNet net = new CausalNet(16, 2);
        Batch held = s.sample(5, 99, 1, 32);
        try (LossModel m = new LossModel(net, 1)) {
            double ls = m.evaluate(net.init(1, fit), held, 0, false).bits() / (3.0 * held.pixels());
            double la = m.evaluate(net.init(1), held, 0, false).bits() / (3.0 * held.pixels());
            assertTrue(ls < la - 0.5, "least squares " + ls + " vs (left+above)/2 " + la + " bits per sub-pixel");
        }
    }

    @Test
    void leastSquaresRecoversAKnownLinearRelation() {
        // targets made exactly linear in the features: the fit must find the coefficients and no residual
        java.util.Random r = new java.util.Random(4);
        int n = 3000;
        float[] in = new float[n * CausalModel.INPUTS];
        int[] targets = new int[n * 3];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextInt(256) / 255f;
        }
        int left = io.llic.schedule.CausalTaps.indexOf(0, -1);
        for (int p = 0; p < n; p++) {
            int red = r.nextInt(256);                        // R: noise the context cannot predict
            targets[p * 3] = red;
            targets[p * 3 + 1] = red;                        // G = R exactly
            targets[p * 3 + 2] = Math.round(in[p * CausalModel.INPUTS + left * 3 + 2] * 255); // B = the left pixel's B
        }
        LinearStart.Fit fit = LinearStart.fit(LinearStart.moments(new Batch(n, in, targets), 1.0 / n));
        assertEquals(1.0, fit.alpha(), 1e-3);
        assertEquals(0.0, fit.gamma(), 1e-3);
        assertEquals(255 / Math.sqrt(12) / 255, fit.rms()[0], 0.02, "R is uniform noise: its residual is its spread");
        assertTrue(fit.rms()[1] < 1e-3 && fit.rms()[2] < 1e-3, java.util.Arrays.toString(fit.rms()));
    }

    /** A released fixed-point model back to float parameters: exporting them again gives the same integers. */
    @Test
    void fixedPointModelsComeBackAsTheirFloatParameters() throws ModelException {
        CausalNet net = new CausalNet(16, 2);
        double[] p = net.init(3, LinearStart.leftAbove());
        io.llic.model.FixedPointNet fixed = net.export(p);
        double[] back = net.fromFixedPoint(fixed);
        io.llic.model.FixedPointNet again = net.export(back);
        for (int l = 0; l < fixed.layers().size(); l++) {
            long[] w0 = fixed.layers().get(l).weights();
            long[] w1 = again.layers().get(l).weights();
            for (int i = 0; i < w0.length; i++) {
                assertTrue(Math.abs(w0[i] - w1[i]) <= 1, "layer " + l + " weight " + i + ": " + w0[i] + " vs " + w1[i]);
            }
            long[] b0 = fixed.layers().get(l).bias();
            long[] b1 = again.layers().get(l).bias();
            for (int i = 0; i < b0.length; i++) {
                assertTrue(Math.abs(b0[i] - b1[i]) <= 1, "layer " + l + " bias " + i);
            }
        }
        ModelException e = assertThrows(ModelException.class, () -> new CausalNet(32, 2).fromFixedPoint(fixed));
        assertTrue(e.getMessage().contains("--hidden"), e.getMessage());
    }

    /** Fine-tuning: starting from a model and training on other images lowers the loss on those images. */
    @Test
    void fineTuningFromAModelLowersTheLossOnTheNewData() throws Exception {
        TrainConfig pre = config(40);
        Checkpoint base = new Trainer(backend(pre), c -> { }).run(Trainer.start(pre), Trainer.Budget.none()).last();
        io.llic.model.FixedPointNet released = SMALL.export(base.params());
        // new data: aerial photographs, a domain the base model never saw
        List<TrainImage> aerials = new ArrayList<>();
        for (String name : List.of("2.1.01.png", "2.1.02.png")) {
            aerials.add(TrainImage.of(name, PngIo.read(Files.readAllBytes(TestData.shared().resolve("datasets/aerials/" + name)))));
        }
        CropSampler tune = new CropSampler(aerials, 8);
        TrainConfig ft = wsd(30, 10, 0).withInit("base sha");
        Trainer.Backend aerialBackend = new Trainer.Backend() {
            @Override
            public GradientSum gradient(double[] params, long step) {
                return GradientSum.of(loss.evaluate(params, tune.sample(ft.seed(), step, 0, ft.batch()), 1.0 / (3.0 * ft.batch() * 64), true));
            }

            @Override
            public GradientSum validate(double[] params) {
                return GradientSum.of(loss.evaluate(params, tune.sample(ft.seed(), -1, 0, 16), 0, false));
            }
        };
        Checkpoint start = Trainer.start(ft, SMALL.fromFixedPoint(released));
        double before = aerialBackend.validate(start.params()).bitsPerSubpixel();
        assertEquals(aerialBackend.validate(base.params()).bitsPerSubpixel(), before, 0.01, "the start is the released model");
        Checkpoint tuned = new Trainer(aerialBackend, c -> { }).run(start, Trainer.Budget.none()).last();
        double after = aerialBackend.validate(tuned.params()).bitsPerSubpixel();
        assertTrue(after < before - 0.05, "aerial validation bits per sub-pixel " + before + " -> " + after);
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

    /**
     * The crops a step draws are part of a run's identity: a checkpoint written by an earlier build
     * (models/causal-2/training/*.ckpt, by commit 35dae57) must continue on the same data. SHA-256 of
     * the inputs and targets of (seed 7, step 1234, shard 1, 5 crops of 32) over three BSD images, as
     * that build drew them.
     */
    @Test
    void causalCropsAreTheOnesEarlierBuildsDrew() throws Exception {
        java.nio.file.Path bsd = TestData.shared().resolve("datasets/train/bsd200");
        List<TrainImage> images = new java.util.ArrayList<>();
        for (String n : new String[] {"100075.png", "100080.png", "100098.png"}) {
            images.add(TrainImage.of(n, PngIo.read(java.nio.file.Files.readAllBytes(bsd.resolve(n)))));
        }
        Batch b = new CropSampler(images, 32).sample(7, 1234, 1, 5);
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4 * (b.inputs().length + b.targets().length));
        for (float f : b.inputs()) {
            buf.putInt(Float.floatToIntBits(f));
        }
        for (int t : b.targets()) {
            buf.putInt(t);
        }
        assertEquals("eb991b7e4ff6310b7323fffa85086d27a38cb58fcc62d86e135ae5e8dc6ab841",
                java.util.HexFormat.of().formatHex(md.digest(buf.array())));
    }
}
