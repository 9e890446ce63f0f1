package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.llic.TestData;
import io.llic.codec.Decoder;
import io.llic.codec.Encoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.runtime.Evaluators;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedules;
import io.llic.train.Checkpoint;
import io.llic.train.GradientSum;
import io.llic.train.LossModel;
import io.llic.train.TrainConfig;
import io.llic.train.TrainImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple2;

/** train-job on a real local[2] session, on small crops of the real training images. */
class TrainJobIT {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path input;
    static List<RgbImage> crops = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        input = dir.resolve("in");
        Files.createDirectories(input);
        Path bsd = TestData.shared().resolve("datasets/train/bsd200");
        String[] names = {"100075.png", "100080.png", "100098.png", "103041.png", "104022.png", "105019.png"};
        for (int i = 0; i < names.length; i++) {
            RgbImage img = PngIo.read(Files.readAllBytes(bsd.resolve(names[i]))).crop(100, 100, 72, 56);
            crops.add(img);
            Files.write(input.resolve("img" + i + ".png"), PngIo.write(img));
        }
        byte[] corrupt = Files.readAllBytes(input.resolve("img0.png"));
        for (int i = 60; i < corrupt.length; i += 5) {
            corrupt[i] ^= 0x5A;
        }
        Files.write(input.resolve("corrupt.png"), corrupt);
        Files.write(input.resolve("tiny.png"), PngIo.write(crops.get(1).crop(0, 0, 5, 5)));
        spark = SparkSession.builder().master("local[2]").appName("llic-train-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    private static TrainOptions options(String output, String... extra) {
        List<String> args = new ArrayList<>(List.of("--input", input.toString(), "--output", dir.resolve(output).toString(),
                "--crop", "8", "--batch", "8", "--shards", "2", "--hidden", "16", "--layers", "2", "--lr", "3e-3",
                "--final-lr", "1e-4", "--warmup", "2", "--validation", "0.3", "--val-crops", "8", "--val-every", "10",
                "--checkpoint-every", "4", "--log-seconds", "1"));
        args.addAll(List.of(extra));
        return TrainOptions.parse(args.toArray(String[]::new), 2);
    }

    /**
     * train-job --family interp: the same job trains the interpolation family, exports three grouped
     * band networks whose codec bits match the float loss, and the model codes along both of its
     * schedules.
     */
    @Test
    void theInterpFamilyTrainsThroughTheSameJob() throws Exception {
        List<String> args = new ArrayList<>(List.of("--input", input.toString(), "--output", dir.resolve("interp").toString(),
                "--family", "interp", "--crop", "32", "--batch", "4", "--shards", "2", "--hidden", "6", "--lr", "3e-3",
                "--warmup", "2", "--validation", "0.3", "--val-crops", "4", "--val-every", "10", "--checkpoint-every", "10",
                "--log-seconds", "1", "--steps", "30", "--id", "tiny-interp"));
        TrainJob.Result r = TrainJob.train(spark, TrainOptions.parse(args.toArray(String[]::new), 2));
        assertTrue(r.finished());
        Path out = dir.resolve("interp");
        LoadedModel model = LoadedModel.load(out);
        assertEquals("interp", model.manifest().family());
        assertEquals(3, model.nets().size());
        assertEquals(4, model.nets().get(0).layers().get(1).groups());
        List<String> log = Files.readAllLines(out.resolve("train_log.tsv"));
        double first = Double.parseDouble(log.get(1).split("\t")[1]);
        double last = Double.parseDouble(log.get(log.size() - 1).split("\t")[1]);
        assertTrue(last < first - 0.5, "training loss " + first + " -> " + last);
        assertTrue(Files.readString(out.resolve("MODEL_CARD.md")).contains("(family interp)"));
        JsonNode q = Jobs.JSON.readTree(out.resolve("train_summary.json").toFile()).get("quantisation");
        assertTrue(Math.abs(q.get("fixedPointPredictedBpp").asDouble() / q.get("floatBpp").asDouble() - 1) < 0.03, q.toString());
        assertTrue(q.get("fileBpp.checkerboard").asDouble() > 0, "both schedules measured: " + q);
        // the model ships the family's adaptation stage, calibrated at export, and it lowers the bits
        assertTrue(model.adaptation() != null && model.adaptation().lms()
                && model.adaptation().calibrationQ12() == q.get("adaptationCalibrationQ12").asInt(), q.toString());
        assertTrue(q.get("adaptationGainPercent").asDouble() > 0, q.toString());
        List<NetworkEvaluator> ev = Evaluators.forModel(Evaluators.JAVA, model, "cpu", 1);
        try {
            for (String schedule : List.of("interp", "checkerboard")) {
                Encoder.Result enc = new Encoder(model, ev, false).encode(crops.get(3), schedule, null);
                assertTrue(new Decoder(model, ev, 4096).decode(enc.file()).image().samePixels(crops.get(3)), schedule);
            }
        } finally {
            ev.forEach(NetworkEvaluator::close);
        }
        // options that belong to the causal family are refused with a clear message
        List<String> ls = new ArrayList<>(args);
        ls.addAll(List.of("--start", "ls"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainOptions.parse(ls.toArray(String[]::new), 2));
        assertTrue(e.getMessage().contains("interp family's [random]") && e.getMessage().contains("another family"),
                e.getMessage());
    }

    /**
     * train-job --family l3c: the same job trains L3C's six convolutional networks (straight-through
     * latents), exports them in fixed point with codec bits that match the float loss, and the model
     * codes images of any size (padded to multiples of 8) exactly.
     */
    @Test
    void theL3CFamilyTrainsThroughTheSameJob() throws Exception {
        List<String> args = new ArrayList<>(List.of("--input", input.toString(), "--output", dir.resolve("l3c").toString(),
                "--family", "l3c", "--crop", "32", "--batch", "4", "--shards", "2", "--hidden", "4", "--layers", "1",
                "--lr", "3e-3", "--warmup", "2", "--validation", "0.3", "--val-crops", "10", "--val-every", "10",
                "--checkpoint-every", "10", "--log-seconds", "1", "--steps", "30", "--id", "tiny-l3c"));
        TrainJob.Result r = TrainJob.train(spark, TrainOptions.parse(args.toArray(String[]::new), 2));
        assertTrue(r.finished());
        Path out = dir.resolve("l3c");
        LoadedModel model = LoadedModel.load(out);
        assertEquals("l3c", model.manifest().family());
        assertEquals(0, model.nets().size());
        assertEquals(6, model.convNets().size());
        List<String> log = Files.readAllLines(out.resolve("train_log.tsv"));
        double first = Double.parseDouble(log.get(1).split("\t")[1]);
        double last = Double.parseDouble(log.get(log.size() - 1).split("\t")[1]);
        assertTrue(last < first - 0.5, "training loss " + first + " -> " + last);
        // validation: 5 crops per shard, measured in pieces of a step's 2 (TrainBackend), every 10 steps
        // (a log row carries the validation of its step when there was one: how many rows do is timing's)
        List<Double> validation = log.stream().skip(1).map(l -> l.split("\t", -1)[2]).filter(v -> !v.isEmpty())
                .map(Double::parseDouble).toList();
        assertTrue(!validation.isEmpty() && validation.stream().allMatch(v -> v > 0 && v < 16), validation.toString());
        assertTrue(Files.readString(out.resolve("MODEL_CARD.md")).contains("(family l3c)"));
        JsonNode q = Jobs.JSON.readTree(out.resolve("train_summary.json").toFile()).get("quantisation");
        assertTrue(Math.abs(q.get("fixedPointPredictedBpp").asDouble() / q.get("floatBpp").asDouble() - 1) < 0.03, q.toString());
        assertTrue(q.get("fileBpp").asDouble() > 0, q.toString());
        // the quantisation figure compares the float loss with the schedule it models (z3 uniform, no
        // correction while coding); the files of every l3c schedule, the default's named
        assertEquals("l3c", q.get("fixedPointSchedule").asText(), q.toString());
        assertEquals("l3c-logistic", q.get("fileSchedule").asText(), q.toString());
        assertTrue(q.get("fileBpp.l3c").asDouble() > 0 && q.get("fileBpp.l3c-adaptive").asDouble() > 0
                && q.get("fileBpp.l3c-predictive").asDouble() > 0, q.toString());
        // --init: a new run from this model takes its shape and starts where it ended, not at random
        // weights: after 4 Adam steps at 1e-4 every parameter is within about 4e-4 of the model's
        TrainJob.Result tuned = TrainJob.train(spark, TrainOptions.parse(new String[] {"--input", input.toString(),
            "--output", dir.resolve("l3c-tuned").toString(), "--family", "l3c", "--init", out.toString(), "--crop", "32",
            "--batch", "4", "--shards", "2", "--lr", "1e-4", "--warmup", "2", "--validation", "0.3", "--val-crops", "4",
            "--log-seconds", "1", "--steps", "4"}, 2));
        assertEquals("tiny-l3c " + model.sha256Hex(), tuned.checkpoint().config().init());
        assertEquals(4, tuned.checkpoint().config().hidden(), "channels from the model");
        double[] from = new io.llic.model.l3c.L3CStructure(4, 1).fromFixedPoint(model.convNets());
        double[] now = tuned.checkpoint().params();
        double far = 0;
        for (int i = 0; i < now.length; i++) {
            far = Math.max(far, Math.abs(now[i] - from[i]));
        }
        assertTrue(far < 1e-3, "a fine-tuned parameter moved " + far + " from the model's in 4 steps at 1e-4");
        List<NetworkEvaluator> ev = Evaluators.forModel(Evaluators.JAVA, model, "cpu", 1);
        try {
            for (RgbImage image : List.of(crops.get(3), crops.get(4).crop(3, 5, 61, 43))) {
                Encoder.Result enc = new Encoder(model, ev, false).encode(image, "l3c", null);
                assertTrue(new Decoder(model, ev, 4096).decode(enc.file()).image().samePixels(image));
            }
        } finally {
            ev.forEach(NetworkEvaluator::close);
        }
    }

    @Test
    void aShortRunLowersTheLossAndWritesAUsableModel() throws Exception {
        // from (left + above) / 2, so that 40 steps have a large, checkable effect
        TrainJob.Result r = TrainJob.train(spark, options("run", "--steps", "40", "--id", "tiny", "--start", "predictor"));
        assertTrue(r.finished());
        Path out = dir.resolve("run");
        LoadedModel model = LoadedModel.load(out);
        assertEquals("tiny", model.id());
        assertEquals(model.sha256Hex(), r.model().sha256Hex());
        List<String> log = Files.readAllLines(out.resolve("train_log.tsv"));
        double first = Double.parseDouble(log.get(1).split("\t")[1]);
        double last = Double.parseDouble(log.get(log.size() - 1).split("\t")[1]);
        assertTrue(last < first - 0.5, "training loss " + first + " -> " + last);
        assertTrue(Files.readString(out.resolve("MODEL_CARD.md")).contains("--steps 40"));
        JsonNode summary = Jobs.JSON.readTree(out.resolve("train_summary.json").toFile());
        String skipped = summary.get("skipped").toString();
        assertTrue(skipped.contains("corrupt.png"), skipped);
        assertTrue(skipped.contains("tiny.png") && skipped.contains("smaller than the crop size"), skipped);
        JsonNode q = summary.get("quantisation");
        assertTrue(q.get("images").asInt() > 0, q.toString());
        // a wrong export (layout, scale) would code far worse than the float network predicts; the
        // integer CDF can only do better where the float likelihood hits its 1e-9 floor (young models)
        assertTrue(q.get("fixedPointPredictedBpp").asDouble() < 1.01 * q.get("floatBpp").asDouble(), q.toString());
        assertTrue(q.get("fileBpp").asDouble() >= q.get("adaptedPredictedBpp").asDouble(), q.toString());
        // the model ships the adaptation stage, calibrated on the validation images
        assertTrue(model.adaptation() != null && model.adaptation().lms() && model.adaptation().calibrationQ12() == q.get("adaptationCalibrationQ12").asInt());
        // and the training state beside it
        Checkpoint shipped = Checkpoint.fromBytes(Files.readAllBytes(out.resolve("training/final.ckpt")), "final.ckpt");
        assertEquals(40, shipped.step());
        assertArrayEquals(r.checkpoint().params(), shipped.params());
        // the exported model codes and decodes an image exactly
        try (NetworkEvaluator ev = Evaluators.create(Evaluators.JAVA, model.net(), "cpu", 1)) {
            Encoder.Result enc = new Encoder(model, ev, false).encode(crops.get(3), Schedules.byName("wavefront"), null);
            RgbImage back = new Decoder(model, ev, 4096).decode(enc.file()).image();
            assertTrue(back.samePixels(crops.get(3)));
        }
    }

    @Test
    void shardedGradientsEqualSingleProcessGradients() {
        TrainConfig config = options("unused", "--steps", "1").config();
        List<List<TrainImage>> shards = List.of(new ArrayList<>(), new ArrayList<>());
        List<Tuple2<Integer, TrainData.Loaded>> rows = new ArrayList<>();
        for (int i = 0; i < crops.size(); i++) {
            TrainImage im = TrainImage.of("img" + i, crops.get(i));
            shards.get(i % 2).add(im);
            rows.add(new Tuple2<>(i % 2, new TrainData.Loaded(im, "img" + i, null)));
        }
        JavaRDD<TrainData.Loaded> rdd = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelizePairs(rows, 2).partitionBy(new ExactPartitioner(2)).values();
        double[] params = config.net().init(11);
        double weight = 1.0 / (3.0 * config.batch() * config.crop() * config.crop());
        GradientSum distributed = TrainBackend.shardSums(rdd, config, params, 3, weight, true);
        LossModel.Result single = TrainBackend.singleProcessGradient(shards, config, params, 3);
        double[] g = distributed.gradient();
        double norm = Arrays.stream(single.gradient()).map(Math::abs).max().orElse(0);
        assertTrue(norm > 0);
        for (int i = 0; i < g.length; i++) {
            assertEquals(single.gradient()[i], g[i], 1e-4 * norm + 1e-9, "parameter " + i);
        }
        assertEquals(single.bits(), distributed.bits(), 1e-5 * single.bits());
        assertEquals(single.subpixels(), distributed.subpixels());
    }

    @Test
    void aStoppedRunResumesExactly() throws Exception {
        TrainJob.Result straight = TrainJob.train(spark, options("straight", "--steps", "12"));
        TrainJob.Result stopped = TrainJob.train(spark, options("resumed", "--steps", "12", "--until", "6"));
        assertFalse(stopped.finished());
        assertEquals(6, stopped.checkpoint().step());
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
                () -> TrainJob.train(spark, options("resumed", "--steps", "12")));
        assertTrue(again.getMessage().contains("--resume"), again.getMessage());
        IllegalArgumentException changed = assertThrows(IllegalArgumentException.class,
                () -> TrainJob.train(spark, options("resumed", "--steps", "12", "--resume", "--lr", "1e-3")));
        assertTrue(changed.getMessage().contains("--lr 0.001 (the run has 0.003)"), changed.getMessage());
        // the run's own settings: nothing but --output and --resume is needed
        TrainJob.Result resumed = TrainJob.train(spark, TrainOptions.parse(new String[] {"--output",
            dir.resolve("resumed").toString(), "--resume", "--log-seconds", "1"}, 3));
        assertTrue(resumed.finished());
        assertArrayEquals(straight.checkpoint().params(), resumed.checkpoint().params());
        assertEquals(straight.model().sha256Hex(), resumed.model().sha256Hex());
        FileSystem fs = FileSystem.getLocal(spark.sparkContext().hadoopConfiguration());
        Checkpoint onDisk = CheckpointStore.latestCheckpoint(fs, new org.apache.hadoop.fs.Path(dir.resolve("resumed/checkpoints").toString()));
        assertEquals(12, onDisk.step());
        assertArrayEquals(straight.checkpoint().params(), onDisk.params());
    }

    /** --resume-from a model's stable-phase checkpoint replays the cool-down exactly; a cosine run cannot be extended. */
    @Test
    void aWsdRunContinuesFromItsStableCheckpoint() throws Exception {
        TrainJob.Result straight = TrainJob.train(spark, options("wsd", "--lr-schedule", "wsd", "--steps", "12",
                "--cooldown", "4", "--ema", "0.9"));
        Path stable = dir.resolve("wsd/training/stable.ckpt");
        assertEquals(8, Checkpoint.fromBytes(Files.readAllBytes(stable), "stable").step());
        assertTrue(Files.readString(dir.resolve("wsd/MODEL_CARD.md")).contains("training/stable.ckpt"));
        TrainJob.Result again = TrainJob.train(spark, TrainOptions.parse(new String[] {"--resume-from", stable.toString(),
            "--output", dir.resolve("wsd-again").toString(), "--cooldown", "4", "--log-seconds", "1"}, 2));
        assertEquals(12, again.checkpoint().step());
        assertArrayEquals(straight.checkpoint().params(), again.checkpoint().params());
        assertEquals(straight.model().sha256Hex(), again.model().sha256Hex());
        // a cosine run's rate already fell: extending it would rewrite its past, so it is refused
        TrainJob.train(spark, options("cosine", "--steps", "6"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainJob.train(spark,
                options("cosine", "--resume", "--steps", "10")));
        assertTrue(e.getMessage().contains("would change the learning rate of step"), e.getMessage());
    }

    /** --init: a new run from a released model, with its own id and hash, recording where it started. */
    @Test
    void fineTuningStartsFromAReleasedModel() throws Exception {
        TrainJob.Result base = TrainJob.train(spark, options("base", "--steps", "8", "--id", "base"));
        TrainJob.Result tuned = TrainJob.train(spark, TrainOptions.parse(new String[] {"--input", input.toString(),
            "--output", dir.resolve("tuned").toString(), "--init", dir.resolve("base").toString(), "--steps", "4",
            "--crop", "8", "--batch", "8", "--shards", "2", "--validation", "0.3", "--val-crops", "8", "--log-seconds", "1"}, 2));
        LoadedModel model = LoadedModel.load(dir.resolve("tuned"));
        assertEquals("tuned", model.id());
        assertFalse(model.sha256Hex().equals(base.model().sha256Hex()));
        TrainConfig c = tuned.checkpoint().config();
        assertEquals("base " + base.model().sha256Hex(), c.init());
        assertEquals(16, c.hidden(), "the network's shape comes from the model");
        assertTrue(Files.readString(dir.resolve("tuned/MODEL_CARD.md")).contains("Fine-tuned from model base"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainJob.train(spark,
                TrainOptions.parse(new String[] {"--input", input.toString(), "--output", dir.resolve("bad").toString(),
                    "--init", dir.resolve("base").toString(), "--hidden", "32", "--steps", "2"}, 2)));
        assertTrue(e.getMessage().contains("--init") && e.getMessage().contains("--hidden"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainJob.train(spark, TrainOptions.parse(new String[] {
            "--input", input.toString(), "--output", dir.resolve("bad2").toString(), "--init", dir.resolve("nothing").toString(),
            "--steps", "2"}, 2)));
        assertTrue(e.getMessage().contains("nothing") && e.getMessage().contains("not a model directory"), e.getMessage());
    }

    @Test
    void aTimeBudgetStopsTheRunWithACheckpointAndAModel() throws Exception {
        TrainJob.Result r = TrainJob.train(spark, options("budget", "--steps", "1000000", "--minutes", "0.05"));
        assertFalse(r.finished());
        assertTrue(r.checkpoint().step() > 0 && r.checkpoint().step() < 1000000);
        assertTrue(Files.exists(dir.resolve("budget/checkpoints").resolve(Checkpoint.fileName(r.checkpoint().step()))));
        LoadedModel.load(dir.resolve("budget"));
        assertTrue(Files.readString(dir.resolve("budget/MODEL_CARD.md")).contains("stopped: time budget"));
    }

    @Test
    void minutesAloneFitTheStepsToTheBudget() throws Exception {
        TrainJob.Result r = TrainJob.train(spark, options("fit", "--minutes", "0.25"));
        long planned = r.checkpoint().config().steps();
        assertTrue(planned > 12, "planned " + planned);
        assertTrue(r.checkpoint().step() >= planned * 0.8, r.checkpoint().step() + " of " + planned);
    }
}
