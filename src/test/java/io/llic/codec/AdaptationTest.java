package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.runtime.DjlEvaluator;
import io.llic.runtime.JavaEvaluator;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;
import io.llic.schedule.Schedules;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The adaptation-while-coding stage: exact like the network, part of the model's identity, and useful. */
class AdaptationTest {
    @TempDir
    static Path dir;
    static LoadedModel plain;
    static LoadedModel adapted;
    /** The same with the error predictor. */
    static LoadedModel predicting;
    /** Big enough that classes fill up and both corrections act (minCount 8 is reached). */
    static final RgbImage IMAGE = TestData.syntheticImage(61, 47, 9);

    @BeforeAll
    static void setUp() throws IOException {
        plain = TestData.randomModel(dir.resolve("m"), 31);
        // a small limit so that the halving of the statistics happens on a small image too
        adapted = plain.withAdaptation(new Adaptation(true, true, 16, 2, 3000), "adapted");
        predicting = plain.withAdaptation(new Adaptation(true, true, true, 16, 2, 3000), "predicting");
    }

    @Test
    void roundTripsForEveryScheduleBatchEngineAndThreadCount() throws Exception {
        roundTripsEverywhereAndDiffersFrom(adapted, plain, "the stage");
    }

    @Test
    void theErrorPredictorRoundTripsForEveryScheduleBatchEngineAndThreadCount() throws Exception {
        roundTripsEverywhereAndDiffersFrom(predicting, adapted, "the predictor");
    }

    /** {@code model} round-trips everywhere along every schedule, and its files differ from those of {@code without}. */
    private static void roundTripsEverywhereAndDiffersFrom(LoadedModel model, LoadedModel without, String what) throws Exception {
        for (String name : Schedules.names()) {
            Schedule s = Schedules.byName(name);
            byte[] file = RoundTrips.everywhere(model, IMAGE, s);
            try (NetworkEvaluator java = new JavaEvaluator(without.net(), 1)) {
                byte[] other = new Encoder(without, java, false).encode(IMAGE, s, null).file();
                assertFalse(Arrays.equals(Arrays.copyOfRange(file, 200, file.length),
                        Arrays.copyOfRange(other, 200, Math.min(file.length, other.length))), name + ": " + what + " changed nothing");
            }
        }
    }

    /**
     * The error predictor learns an image's own correlations: where G and B repeat R's noise and the
     * network (here a fixed distribution) cannot know it, G and B cost a fraction of what they cost
     * without the predictor, while R, which has no coded channel to learn from, stays as it was.
     */
    @Test
    void theErrorPredictorLearnsCorrelationsTheNetworkMissed() {
        // tall, so that the step-wise updates (one per row here) have time to converge
        int w = 16;
        int h = 2048;
        byte[] noise = new byte[w * h * 3];
        java.util.Random rnd = new java.util.Random(3);
        for (int i = 0; i < w * h; i++) {
            int v = 100 + rnd.nextInt(57);
            noise[3 * i] = (byte) v;
            noise[3 * i + 1] = (byte) v;
            noise[3 * i + 2] = (byte) v;
        }
        double[] without = channelBits(new Adaptation(true, true, false, 1024, 8, 3300), noise, w, h);
        double[] with = channelBits(new Adaptation(true, true, true, 1024, 8, 3300), noise, w, h);
        assertTrue(with[1] < 0.6 * without[1] && with[2] < 0.6 * without[2],
                "G and B bits with the predictor " + Arrays.toString(with) + ", without " + Arrays.toString(without));
        assertEquals(without[0], with[0], 0.03 * without[0], "R has nothing to learn from");
    }

    /** Bits per channel of {@code samples} coded row by row (one step per row) with every mean 128 and sigma 2. */
    private static double[] channelBits(Adaptation adaptation, byte[] samples, int w, int h) {
        io.llic.prob.MixtureCdf cdf = new io.llic.prob.MixtureCdf(1);
        long[] mean = {(128L << 24) / 255}; // the [0,1] scale, 2^-24 units
        long[] sigma = {(2L << 24) / 255};
        long[] logit = {0};
        Adaptation.State state = adaptation.newState(samples, w);
        double[] bits = new double[3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            state.beginStep(w);
            for (int c = 0; c < 3; c++) {
                for (int x = 0; x < w; x++) {
                    int index = y * w + x;
                    row[x] = index;
                    cdf.set(mean, 0, sigma, 0, logit, 0, null);
                    int left = x > 0 ? samples[3 * (index - 1) + c] & 0xFF : -1;
                    int above = y > 0 ? samples[3 * (index - w) + c] & 0xFF : -1;
                    state.correct(cdf, c, x, index, left, above);
                    bits[c] += cdf.bits(samples[3 * index + c] & 0xFF);
                }
            }
            state.endStep(row, 0);
        }
        return bits;
    }

    @Test
    void aFileIsRefusedByAModelWithOtherAdaptationSettings() throws Exception {
        byte[] file;
        try (NetworkEvaluator ev = new JavaEvaluator(adapted.net(), 1)) {
            file = new Encoder(adapted, ev, false).encode(IMAGE, Schedules.byName("wavefront"), null).file();
            for (LoadedModel other : List.of(plain, plain.withAdaptation(new Adaptation(true, true, 16, 2, 3001), "adapted"),
                    plain.withAdaptation(new Adaptation(true, false, 16, 2, 3000), "adapted"),
                    plain.withAdaptation(new Adaptation(true, true, true, 16, 2, 3000), "adapted"))) {
                assertNotEquals(adapted.sha256Hex(), other.sha256Hex());
                ModelException e = assertThrows(ModelException.class, () -> new Decoder(other, ev, 100).decode(file));
                assertTrue(e.getMessage().contains("adapted"), e.getMessage());
            }
        }
    }

    /** A decoder given the wrong model says where the right one is, among the installation's models. */
    @Test
    void aDecoderNamesTheModelAFileNeeds() throws Exception {
        Path home = dir.resolve("home");
        LoadedModel.ModelBytes files = adapted.toFiles();
        Files.createDirectories(home.resolve("models/causal-x"));
        Files.write(home.resolve("models/causal-x/manifest.json"), files.manifest());
        Files.write(home.resolve("models/causal-x/weights.bin"), files.weights());
        String before = System.getProperty("llic.home");
        System.setProperty("llic.home", home.toString());
        try (NetworkEvaluator ev = new JavaEvaluator(adapted.net(), 1)) {
            byte[] file = new Encoder(adapted, ev, false).encode(IMAGE, Schedules.byName("wavefront"), null).file();
            ModelException e = assertThrows(ModelException.class, () -> new Decoder(plain, ev, 100).decode(file));
            assertTrue(e.getMessage().contains("pass --model " + home.resolve("models/causal-x")), e.getMessage());
            byte[] other = new Encoder(plain, ev, false).encode(IMAGE, Schedules.byName("wavefront"), null).file();
            e = assertThrows(ModelException.class, () -> new Decoder(adapted, ev, 100).decode(other));
            assertTrue(e.getMessage().contains("no model in " + home.resolve("models") + " has that hash"), e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty("llic.home");
            } else {
                System.setProperty("llic.home", before);
            }
        }
    }

    @Test
    void settingsTravelInTheWeightsFileAndTheManifest() throws Exception {
        LoadedModel.ModelBytes files = adapted.toFiles();
        LoadedModel back = LoadedModel.fromBytes(dir, files.manifest(), files.weights());
        assertEquals(adapted.adaptation(), back.adaptation());
        assertEquals(adapted.sha256Hex(), back.sha256Hex());
        assertEquals(3000, new com.fasterxml.jackson.databind.ObjectMapper().readTree(files.manifest()).at("/fixedPoint/adaptation/calibrationQ12").asInt());
        assertNull(LoadedModel.fromBytes(dir, plain.toFiles().manifest(), plain.toFiles().weights()).adaptation());
        // the error predictor travels in its own block (LLICADP2); a stage without it keeps the first block's bytes
        LoadedModel.ModelBytes lms = predicting.toFiles();
        assertEquals(predicting.adaptation(), LoadedModel.fromBytes(dir, lms.manifest(), lms.weights()).adaptation());
        assertTrue(predicting.adaptation().lms());
        assertEquals("LLICADP2", new String(lms.weights(), lms.weights().length - 21, 8, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("LLICADP1", new String(files.weights(), files.weights().length - 21, 8, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(12, new com.fasterxml.jackson.databind.ObjectMapper().readTree(lms.manifest())
                .at("/fixedPoint/adaptation/errorPredictor/taps").asInt());
        // LLICADP2 is written only with the predictor: the same block without its flag is refused
        byte[] w2 = lms.weights().clone();
        w2[w2.length - 13] = 3;
        Map<String, Object> m2 = new com.fasterxml.jackson.databind.ObjectMapper().readValue(lms.manifest(), Map.class);
        m2.remove("weightsSha256");
        byte[] manifest2 = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(m2);
        ModelException e2 = assertThrows(ModelException.class, () -> LoadedModel.fromBytes(dir, manifest2, w2));
        assertTrue(e2.getMessage().contains("LLICADP2"), e2.getMessage());
        // unknown flags and trailing bytes are refused, never ignored
        byte[] w = files.weights().clone();
        w[w.length - 13] = 4; // the flags byte follows the 8-byte magic
        Map<String, Object> m = new com.fasterxml.jackson.databind.ObjectMapper().readValue(files.manifest(), Map.class);
        m.remove("weightsSha256");
        byte[] manifest = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(m);
        ModelException e = assertThrows(ModelException.class, () -> LoadedModel.fromBytes(dir, manifest, w));
        assertTrue(e.getMessage().contains("flags"), e.getMessage());
        byte[] longer = Arrays.copyOf(files.weights(), files.weights().length + 1);
        e = assertThrows(ModelException.class, () -> LoadedModel.fromBytes(dir, manifest, longer));
        assertTrue(e.getMessage().contains("unexpected bytes"), e.getMessage());
    }

    /** On a real photograph the stage codes fewer bits than the network alone: the committed model on an aerial crop. */
    @Test
    void lowersTheCodeLengthOfARealImage() throws Exception {
        LoadedModel model = LoadedModel.load(Path.of("models/causal"));
        RgbImage aerial = PngIo.read(Files.readAllBytes(TestData.shared().resolve("datasets/aerials/2.1.07.png")))
                .crop(128, 128, 192, 192);
        try (NetworkEvaluator ev = new DjlEvaluator(model.net(), Device.cpu(), 1)) {
            int calibration = AdaptationCalibration.measureQ12(model, List.of(ev), List.of(PngIo.read(Files.readAllBytes(
                    TestData.shared().resolve("datasets/train/wikipedia_photos_025_049/025.png"))).crop(300, 300, 128, 128)),
                    "wavefront", Adaptation.DEFAULT_LIMIT, Adaptation.DEFAULT_MIN_COUNT);
            assertTrue(calibration > 1000 && calibration < 8000, "calibration " + calibration);
            LoadedModel withStage = model.withAdaptation(Adaptation.defaults(calibration), "with");
            Encoder.Result r = new Encoder(withStage, ev, false).measuringUnadapted(true)
                    .encode(aerial, Schedules.byName("wavefront"), null);
            double plainBits = new Encoder(model, ev, false).encode(aerial, Schedules.byName("wavefront"), null).stats().predictedBits();
            assertEquals(plainBits, r.stats().unadaptedBits(), 1e-6 * plainBits, "unadapted bits are the network's own");
            assertTrue(r.stats().predictedBits() < 0.99 * plainBits,
                    "with adaptation " + r.stats().predictedBits() + " bits, without " + plainBits);
            assertTrue(withStage.adaptation().lms(), "the default stage has the error predictor");
            LoadedModel withoutPredictor = model.withAdaptation(new Adaptation(true, true, false, Adaptation.DEFAULT_LIMIT,
                    Adaptation.DEFAULT_MIN_COUNT, calibration), "without");
            double noPredictorBits = new Encoder(withoutPredictor, ev, false).encode(aerial, Schedules.byName("wavefront"), null)
                    .stats().predictedBits();
            assertTrue(r.stats().predictedBits() < noPredictorBits,
                    "with the error predictor " + r.stats().predictedBits() + " bits, without " + noPredictorBits);
        }
    }
}
