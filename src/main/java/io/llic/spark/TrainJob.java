package io.llic.spark;

import io.llic.codec.AdaptationCalibration;
import io.llic.codec.Encoder;
import io.llic.model.Adaptation;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.causal.CausalModel;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.runtime.Evaluators;
import io.llic.schedule.Schedules;
import io.llic.train.Batch;
import io.llic.train.CausalNet;
import io.llic.train.Checkpoint;
import io.llic.train.CropSampler;
import io.llic.train.GradientSum;
import io.llic.train.LinearStart;
import io.llic.train.CausalTraining;
import io.llic.train.FamilyLoss;
import io.llic.train.LossModel;
import io.llic.train.TrainBatch;
import io.llic.train.TrainableFamilies;
import io.llic.train.TrainableFamily;
import io.llic.train.TrainConfig;
import io.llic.train.TrainImage;
import io.llic.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.zip.CRC32;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * {@code train-job --input PATH[,PATH...] --output DIR [options]}: trains a model of the causal
 * family data-parallel on Spark and writes a model directory (manifest, fixed-point weights,
 * MODEL_CARD.md, training log) plus its checkpoints.
 *
 * <p>The images are split into a training and a validation set (by a hash of their ids), decoded
 * once in the executors and cached there, partitioned into a fixed number of shards balanced by
 * pixels. Each step is one Spark job: every shard draws its crops (a pure function of seed, step
 * and shard), computes the gradient of its share of the batch loss with DJL, and
 * {@code treeAggregate} sums the shards' gradients in fixed point (so the order in which tasks
 * finish cannot change the sum). The driver applies Adam and writes checkpoints; a run resumed
 * from a checkpoint continues exactly as if it had never stopped.
 */
public final class TrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);
    static final String CHECKPOINTS = "checkpoints";
    static final int KEEP_CHECKPOINTS = 3;
    /** Crops of the validation set are drawn with this step number (training steps are >= 1). */
    static final long VALIDATION_STEP = -1;
    static final String USAGE = String.join("\n",
            "usage: train-job --input PATH[,PATH...] --output DIR [--steps N] [--minutes M] [--resume] [options]",
            "  --input        image directories or globs on any Hadoop file system, comma-separated",
            "  --output       model directory to write (manifest.json, weights.bin, MODEL_CARD.md, train_log.tsv,",
            "                 checkpoints/); local, hdfs: or s3a:",
            "  --downsample   box-filter factor per input, comma-separated, or one for all (default 1)",
            "  --family       model family: causal (default; the 59K pixel model) or interp (LLICTI interpolation)",
            "  --steps        total training steps (the learning-rate schedule's length)",
            "  --minutes      wall-clock budget of this invocation; without --steps the first steps are timed",
            "                 and the total is fixed so the run fits. When the budget is used up the job",
            "                 checkpoints, exports the model so far and stops; --resume continues",
            "  --until        stop after this step (checkpointed), to continue later with --resume",
            "  --resume       continue from the newest checkpoint in <output>/checkpoints, with the run's own",
            "                 settings (--input and the rest may be left out; if given they must agree). A run may",
            "                 be re-planned when no step already taken changes its learning rate: --steps N extends a",
            "                 wsd run in its stable phase, --cooldown K alone starts its cool-down now (K more steps)",
            "  --resume-from  FILE: continue the run of a checkpoint file (e.g. models/M/training/stable.ckpt) into",
            "                 a new --output, on any machine; re-planning as with --resume",
            "  --init         DIR: fine-tune: start a new run from a released model's parameters (its id and",
            "                 hash are recorded); the network's shape is taken from the model",
            "  --start        initialisation of a fresh causal run: ls (default: least-squares linear predictor",
            "                 fitted on training crops) or predictor ((left + above) / 2); interp runs: random",
            "  --crop         crop side in pixels (default 32 causal, 64 interp)    --batch   crops per step (default 16)",
            "  --lr           peak Adam learning rate (default 2e-3); --final-lr rate at the last step (default 2e-5);",
            "                 --lr-schedule cosine (default), linear, constant or wsd, after --warmup steps (default 200)",
            "                 of linear warm-up; wsd holds the peak rate, then decays linearly to --final-lr over",
            "                 the last --cooldown steps (default 0: the run ends stable, to be extended or cooled",
            "                 down with --resume)",
            "  --ema          decay of a moving average of the weights (e.g. 0.999; default 0 = none); validation",
            "                 measures the average, and export takes the average or the weights, whichever",
            "                 validates better",
            "  --seed         seed of the initial weights and of the crops (default 1)",
            "  --shards       data-parallel shards (default: Spark's default parallelism); fixed for a run",
            "  --validation   fraction of images held out (default 0.05); --val-crops (default 256),",
            "                 --val-every steps (default 500)",
            "  --checkpoint-every  steps between checkpoints (default 500)",
            "  --hidden       hidden width (default 128; interp: width of each of the 4 sub-networks, default 88);",
            "                 --layers hidden layers of a causal network (default 4)",
            "  --id           model id written into bitstreams (default: the output folder's name)",
            "  --measure-pixels  pixels of whole validation images measured at export (default 2000000); the",
            "                 adaptation stage is calibrated on the same images",
            "  --adaptation   on (default): the model ships the adaptation-while-coding stage; off: the network alone",
            "  --glob         file name pattern (default " + InputListing.DEFAULT_GLOB + ")",
            "  --log-seconds  seconds between progress lines (default 30)",
            "Spark options (--conf k=v, --properties-file F, --master M) go before the job options.");
    private static final Set<String> VALUED = Set.of("input", "output", "downsample", "family", "steps", "minutes",
            "until", "crop", "batch", "lr", "final-lr", "warmup", "seed", "shards", "validation", "val-crops",
            "val-every", "checkpoint-every", "hidden", "layers", "id", "measure-pixels", "glob", "log-seconds", "lr-schedule",
            "cooldown", "ema", "init", "start", "resume-from", "adaptation");
    private static final Set<String> FLAGS = Set.of("resume");
    private static final Map<String, Queue<FamilyLoss>> LOSS_MODELS = new java.util.concurrent.ConcurrentHashMap<>();

    private TrainJob() {}

    /** Options of one invocation: the run's config plus what only this invocation decides. */
    record Options(TrainConfig config, Set<String> given, String output, boolean resume, String resumeFrom, String init,
                   Trainer.Budget budget, List<String> args) {
        static Options parse(String[] args, int defaultShards) {
            JobArgs a = new JobArgs(args, VALUED, FLAGS);
            String resumeFrom = a.get("resume-from", null);
            String init = a.get("init", null);
            if (resumeFrom != null && a.flag("resume")) {
                throw new IllegalArgumentException("give --resume (this --output's checkpoints) or --resume-from FILE, not both");
            }
            boolean resume = a.flag("resume") || resumeFrom != null;
            if (init != null && resume) {
                throw new IllegalArgumentException("--init starts a new run; a resumed run already has its parameters");
            }
            List<String> inputs = Arrays.stream((resume ? a.get("input", "") : a.required("input")).split(",")).map(String::trim)
                    .filter(s -> !s.isEmpty()).toList();
            String output = a.required("output");
            List<Integer> downsample = new ArrayList<>();
            String[] ds = a.get("downsample", "1").split(",");
            if (ds.length != 1 && ds.length != inputs.size() && !inputs.isEmpty()) {
                throw new IllegalArgumentException("--downsample needs one factor, or one per input (" + inputs.size() + ")");
            }
            for (int i = 0; i < inputs.size(); i++) {
                downsample.add(positiveInt("downsample", ds[ds.length == 1 ? 0 : i]));
            }
            String family = a.get("family", CausalModel.FAMILY);
            TrainableFamily trainable = TrainableFamilies.byName(family);
            double minutes = a.getDouble("minutes", 0, 0);
            long steps = a.getInt("steps", 0, 1);
            if (steps == 0 && minutes == 0 && !resume) {
                throw new IllegalArgumentException("give --steps N or --minutes M (or both)");
            }
            String lrSchedule = a.get("lr-schedule", "cosine");
            if (!TrainConfig.LR_SCHEDULES.contains(lrSchedule)) {
                throw new IllegalArgumentException("--lr-schedule " + lrSchedule + " is not one of " + TrainConfig.LR_SCHEDULES);
            }
            long cooldown = a.getInt("cooldown", 0, 0);
            if (cooldown > 0 && !resume && !"wsd".equals(lrSchedule)) {
                throw new IllegalArgumentException("--cooldown belongs to --lr-schedule wsd");
            }
            if (!resume && steps > 0 && cooldown > steps) {
                throw new IllegalArgumentException("--cooldown " + cooldown + " is longer than the run (--steps " + steps + ")");
            }
            double ema = a.getDouble("ema", 0, 0);
            if (ema >= 1) {
                throw new IllegalArgumentException("--ema is a decay below 1 (e.g. 0.999), got " + ema);
            }
            String adaptOption = a.get("adaptation", "on");
            if (!adaptOption.equals("on") && !adaptOption.equals("off")) {
                throw new IllegalArgumentException("--adaptation is on or off, got " + adaptOption);
            }
            String start = a.get("start", trainable instanceof CausalTraining ? "ls" : "random");
            if (!TrainConfig.STARTS.contains(start)) {
                throw new IllegalArgumentException("--start " + start + " is not one of " + TrainConfig.STARTS);
            }
            if (!(trainable instanceof CausalTraining) && !"random".equals(start)) {
                throw new IllegalArgumentException("--start " + start + " belongs to the causal family; a " + family
                        + " run starts from random weights (--start random)");
            }
            double validation = a.getDouble("validation", 0.05, 0);
            if (validation >= 1) {
                throw new IllegalArgumentException("--validation is a fraction below 1");
            }
            int valEvery = a.getInt("val-every", 500, 0);
            TrainConfig config = new TrainConfig(family, inputs, downsample, a.getInt("hidden", trainable.defaultHidden(), 1),
                    a.getInt("layers", 4, 1), a.getInt("crop", trainable.defaultCrop(), 1), a.getInt("batch", 16, 1),
                    a.getInt("shards", defaultShards, 1), a.getDouble("lr", 2e-3, 0), lrSchedule, a.getDouble("final-lr", 2e-5, 0),
                    a.getInt("warmup", 200, 0), steps, a.getInt("seed", 1, 0), validation,
                    validation > 0 ? a.getInt("val-crops", 256, 1) : 0, validation > 0 ? valEvery : 0,
                    a.getInt("checkpoint-every", 500, 0), cooldown, ema, null, init != null ? "init" : start,
                    a.getInt("measure-pixels", (int) TrainConfig.DEFAULT_MEASURE_PIXELS, 1), adaptOption,
                    a.get("glob", InputListing.DEFAULT_GLOB), a.get("id", new Path(output).getName()));
            if (config.batch() < config.shards()) {
                throw new IllegalArgumentException("--batch (" + config.batch() + " crops) must be at least --shards ("
                        + config.shards() + ")");
            }
            Set<String> given = new java.util.HashSet<>();
            for (String name : VALUED) {
                if (a.get(name, null) != null) {
                    given.add(name);
                }
            }
            return new Options(config, given, output, resume, resumeFrom, init,
                    new Trainer.Budget(minutes, a.getInt("until", 0, 1), a.getInt("log-seconds", 30, 1)), List.of(args));
        }

        private static int positiveInt(String name, String v) {
            try {
                int n = Integer.parseInt(v.trim());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new IllegalArgumentException("--" + name + " needs whole numbers >= 1, got '" + v + "'");
        }
    }

    public static void main(String[] args) {
        Jobs.main("train-job", USAGE, args, new Jobs.JobBody() {
            @Override
            public void check(String[] a) {
                Options.parse(a, 1);
            }

            @Override
            public void run(SparkSession spark, String[] a) throws Exception {
                train(spark, Options.parse(a, spark.sparkContext().defaultParallelism()));
            }
        });
    }

    /** One file to load: where it is, its id, its downsampling factor, its shard. */
    record Source(String path, String id, int downsample, int shard) implements Serializable {}

    /** A decoded image, or why a file could not be used. */
    record Loaded(TrainImage image, String path, String problem) implements Serializable {}

    /** Result of a run: the final checkpoint and the exported model. */
    record Result(Checkpoint checkpoint, boolean finished, LoadedModel model, Map<String, Object> summary) {}

    static Result train(SparkSession spark, Options options) throws IOException {
        long jobStart = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Path out = new Path(options.output());
        FileSystem fs = out.getFileSystem(jsc.hadoopConfiguration());
        Path ckptDir = new Path(out, CHECKPOINTS);
        Checkpoint state;
        String from;
        if (options.resumeFrom() != null) {
            from = options.resumeFrom();
            state = readCheckpoint(new Path(from), jsc.hadoopConfiguration());
        } else {
            state = options.resume() ? latestCheckpoint(fs, ckptDir) : null;
            from = state == null ? null : new Path(ckptDir, Checkpoint.fileName(state.step())).toString();
        }
        if (options.resume() && state == null) {
            throw new IllegalArgumentException("--resume: no checkpoint in " + ckptDir);
        }
        if ((!options.resume() || options.resumeFrom() != null) && fs.exists(ckptDir)
                && fs.listStatus(ckptDir, p -> p.getName().endsWith(".ckpt")).length > 0) {
            throw new IllegalArgumentException(options.output() + " already has checkpoints: pass --resume to continue"
                    + " that run, or choose another --output");
        }
        TrainConfig config = options.config();
        if (state != null) {
            config = reconcile(state.config(), config, options.given(), state.step());
            state = state.withConfig(config);
            LOG.info("resuming from step {} of {} ({})", state.step(), config.steps() == 0 ? "?" : config.steps(), from);
            if (isStableEnd(state)) {
                // the cool-down starts now: this state is the one to extend the run from later
                fs.mkdirs(ckptDir);
                writeStable(fs, ckptDir, state.step(), state.toBytes());
            }
        } else if (options.init() != null) {
            LoadedModel init;
            try {
                init = LoadedModel.load(java.nio.file.Path.of(options.init()));
            } catch (ModelException e) {
                throw new IllegalArgumentException("--init " + options.init() + ": " + e.getMessage(), e);
            }
            if (!init.manifest().family().equals(config.family())) {
                throw new IllegalArgumentException("--init " + options.init() + " is a " + init.manifest().family()
                        + " model; this run trains the " + config.family() + " family (--family)");
            }
            config = config.withInit(init.id() + " " + init.sha256Hex());
            TrainableFamily initFamily = TrainableFamilies.byName(config.family());
            if (!options.given().contains("hidden") && !options.given().contains("layers")) {
                config = initFamily.shapeOf(config, init);
            }
            try {
                state = Trainer.start(config, initFamily.fromModel(config, init));
            } catch (ModelException e) {
                throw new IllegalArgumentException("--init " + options.init() + ": " + e.getMessage(), e);
            }
            LOG.info("fine-tuning from model {} ({}), weights SHA-256 {}", init.id(), options.init(), init.sha256Hex());
        } else {
            state = null;
        }
        TrainConfig run = config;
        TrainableFamily family = TrainableFamilies.byName(run.family());
        LOG.info("model: {}", family.describe(run));

        // list, split and shard the images
        List<Source> train = new ArrayList<>();
        List<Source> validation = new ArrayList<>();
        // balanced input by input, so every shard gets a like mix of the inputs
        for (int i = 0; i < run.inputs().size(); i++) {
            String input = run.inputs().get(i);
            int factor = run.downsample().get(i);
            List<InputListing.Item> items = InputListing.list(spark, input, run.glob());
            if (items.isEmpty()) {
                throw new IllegalArgumentException("input " + input + " has no files matching " + run.glob());
            }
            List<InputListing.Item> tr = new ArrayList<>();
            List<InputListing.Item> va = new ArrayList<>();
            for (InputListing.Item it : items) {
                String id = new Path(input).getName() + "/" + it.id();
                InputListing.Item scaled = new InputListing.Item(it.path(), id, it.sizeBytes(),
                        it.pixels() / ((long) factor * factor), 0);
                (isValidation(id, run.validation()) ? va : tr).add(scaled);
            }
            LOG.info("{}: {} images ({} for validation), downsampled by {}", input, items.size(), va.size(), factor);
            for (InputListing.Item it : InputListing.balance(tr, run.shards())) {
                train.add(new Source(it.path(), it.id(), factor, it.partition()));
            }
            for (InputListing.Item it : InputListing.balance(va, run.shards())) {
                validation.add(new Source(it.path(), it.id(), factor, it.partition()));
            }
        }
        HadoopConf hadoop = new HadoopConf(jsc.hadoopConfiguration());
        JavaRDD<Loaded> trainRdd = load(jsc, train, run.shards(), hadoop, run.crop());
        List<String> skipped = new ArrayList<>();
        long[] counts = countAndReport(trainRdd, skipped);
        if (counts[0] == 0) {
            throw new IllegalArgumentException("no usable training images in " + run.inputs() + skippedNote(skipped));
        }
        LOG.info("training set: {} images, {} pixels, in {} shards; {}", counts[0], counts[1], run.shards(),
                skipped.isEmpty() ? "nothing skipped" : skipped.size() + " files skipped");
        JavaRDD<Loaded> valLoaded = null;
        long[] valCounts = {0, 0};
        if (!validation.isEmpty() && run.validation() > 0) {
            valLoaded = load(jsc, validation, run.shards(), hadoop, run.crop());
            valCounts = countAndReport(valLoaded, skipped);
            LOG.info("validation set: {} images, {} pixels", valCounts[0], valCounts[1]);
        }
        JavaRDD<Loaded> valRdd = valCounts[0] > 0 ? valLoaded : null;
        if (state == null) {
            if ("ls".equals(run.start()) && family instanceof CausalTraining) {
                LinearStart.Fit fit = linearStart(trainRdd, run);
                LOG.info(String.format(Locale.ROOT, "least-squares start: residual RMS R %.2f, G %.2f, B %.2f (of 255);"
                        + " G from R %.3f, B from R %.3f and G %.3f", 255 * fit.rms()[0], 255 * fit.rms()[1],
                        255 * fit.rms()[2], fit.alpha(), fit.beta(), fit.gamma()));
                state = Trainer.start(run, run.net().init(run.seed(), fit));
            } else {
                state = Trainer.start(run);
            }
        }
        state = state.withCommand("jobs/train-job " + shellWords(options.args()));
        double weight = 1.0 / (3.0 * run.batch() * run.crop() * run.crop());
        Trainer.Backend backend = new Trainer.Backend() {
            @Override
            public GradientSum gradient(double[] params, long step) {
                return shardSums(trainRdd, run, params, step, weight, true);
            }

            @Override
            public GradientSum validate(double[] params) {
                if (valRdd == null) {
                    return new GradientSum(0);
                }
                return shardSums(valRdd, run, params, VALIDATION_STEP, 0, false);
            }
        };
        Trainer trainer = new Trainer(backend, c -> writeCheckpoint(fs, ckptDir, c));
        Trainer.Outcome outcome = trainer.run(state, options.budget());
        Checkpoint last = outcome.last();
        LOG.info("training {} at step {}: {}", outcome.finished() ? "finished" : "stopped", last.step(), outcome.reason());

        // the moving average or the weights, whichever validates better
        double[] exported = last.params();
        Map<String, Object> exportChoice = new LinkedHashMap<>();
        exportChoice.put("exported", "weights");
        if (last.ema() != null && valRdd != null) {
            double weightsBits = backend.validate(last.params()).bitsPerSubpixel();
            double averageBits = backend.validate(last.ema()).bitsPerSubpixel();
            exportChoice.put("validationWeights", round4(weightsBits));
            exportChoice.put("validationAverage", round4(averageBits));
            if (averageBits <= weightsBits) {
                exported = last.ema();
                exportChoice.put("exported", "moving average (decay " + last.config().ema() + ")");
            }
            LOG.info(String.format(Locale.ROOT, "validation: weights %.4f, moving average %.4f bits/sub-pixel: exporting the %s",
                    weightsBits, averageBits, exported == last.params() ? "weights" : "moving average"));
        }
        // export and measure what quantisation costs
        List<FixedPointNet> fixed;
        try {
            fixed = family.export(last.config(), exported);
        } catch (ModelException e) {
            throw new IOException("fixed-point export failed: " + e.getMessage(), e);
        }
        Measured measuredAll = measure(valRdd != null ? valRdd : trainRdd, valRdd != null ? "validation images"
                : "training images (no validation set)", last.config(), exported, fixed, last.config().measurePixels(),
                "on".equals(last.config().adaptation()) && family.adaptive());
        Map<String, Object> measured = measuredAll.figures();
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("trainedBy", "llic train-job (io.llic.spark.TrainJob)");
        provenance.put("command", last.commands().get(0));
        if (last.commands().size() > 1) {
            provenance.put("continuedWith", last.commands().subList(1, last.commands().size()));
        }
        provenance.put("data", Map.of("inputs", run.inputs(), "downsample", run.downsample(), "trainingImages", counts[0],
                "trainingPixels", counts[1], "validationImages", valCounts[0], "validationPixels", valCounts[1]));
        provenance.put("steps", last.step());
        provenance.put("stepsPlanned", last.config().steps());
        provenance.put("finished", outcome.finished());
        provenance.put("cropsSeen", last.step() * run.batch());
        provenance.put("trainMinutes", Math.round(last.trainMillis() / 600.0) / 100.0);
        provenance.put("config", last.config());
        provenance.put("export", exportChoice);
        provenance.put("quantisation", measured);
        provenance.put("master", spark.sparkContext().master());
        LoadedModel model = writeModel(fs, out, run.modelId(), run.family(), fixed, measuredAll.adaptation(), provenance);
        Jobs.writeText(fs, new Path(out, "train_log.tsv"), trainLog(last));
        // the training state beside the model, so that a later run on any machine continues it
        Jobs.writeBytes(fs, new Path(out, TRAINING_DIR + "/" + FINAL_CHECKPOINT), last.toBytes());
        Checkpoint stable = stableCheckpoint(fs, ckptDir);
        if (stable != null && stable.step() <= last.step()) {
            Jobs.writeBytes(fs, new Path(out, TRAINING_DIR + "/" + STABLE_CHECKPOINT), stable.toBytes());
        }
        Jobs.writeText(fs, new Path(out, "MODEL_CARD.md"), modelCard(options, last, outcome, provenance, measured, skipped));
        Map<String, Object> summary = new LinkedHashMap<>(provenance);
        summary.put("versions", Jobs.versions(spark));
        summary.put("skipped", skipped);
        summary.put("jobSeconds", Math.round((System.nanoTime() - jobStart) / 1e7) / 100.0);
        Jobs.writeJson(spark, new Path(out, "train_summary.json"), summary);
        trainRdd.unpersist(false);
        if (valRdd != null) {
            valRdd.unpersist(false);
        }
        LOG.info("model written to {} (id {}, weights SHA-256 {})", out, run.modelId(), model.sha256Hex());
        return new Result(last, outcome.finished(), model, summary);
    }

    /** The arguments as a POSIX shell would need them typed: words with anything but [A-Za-z0-9_./:=,+-] single-quoted. */
    static String shellWords(List<String> args) {
        StringBuilder s = new StringBuilder();
        for (String a : args) {
            if (s.length() > 0) {
                s.append(' ');
            }
            s.append(!a.isEmpty() && a.matches("[A-Za-z0-9_./:=,+@%-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return s.toString();
    }

    /** A stable pseudo-random split: an image is held out when the CRC-32 of its id falls below the fraction. */
    static boolean isValidation(String id, double fraction) {
        CRC32 crc = new CRC32();
        crc.update(id.getBytes(StandardCharsets.UTF_8));
        return crc.getValue() < fraction * (1L << 32);
    }

    /** The option that sets each field of {@link TrainConfig}. */
    static final Map<String, String> OPTION_OF = Map.ofEntries(Map.entry("family", "family"), Map.entry("inputs", "input"),
            Map.entry("downsample", "downsample"), Map.entry("hidden", "hidden"), Map.entry("hiddenLayers", "layers"),
            Map.entry("crop", "crop"), Map.entry("batch", "batch"), Map.entry("shards", "shards"),
            Map.entry("learningRate", "lr"), Map.entry("lrSchedule", "lr-schedule"), Map.entry("finalLearningRate", "final-lr"), Map.entry("warmup", "warmup"),
            Map.entry("steps", "steps"), Map.entry("seed", "seed"), Map.entry("validation", "validation"),
            Map.entry("validationCrops", "val-crops"), Map.entry("validateEvery", "val-every"),
            Map.entry("checkpointEvery", "checkpoint-every"),
            Map.entry("cooldown", "cooldown"), Map.entry("ema", "ema"), Map.entry("start", "start"),
            Map.entry("measurePixels", "measure-pixels"), Map.entry("adaptation", "adaptation"), Map.entry("glob", "glob"),
            Map.entry("modelId", "id"));

    /**
     * On --resume the run keeps its own settings; options given again must agree with them, except
     * the run's length: {@code --steps} (and {@code --cooldown}) may re-plan it as long as no step
     * already taken ({@code done}) would have had another learning rate, so the resumed run is exactly
     * the run of the new plan. {@code --cooldown K} without {@code --steps} ends a wsd run K steps from now.
     */
    static TrainConfig reconcile(TrainConfig saved, TrainConfig given, Set<String> options, long done) {
        if (saved.glob() == null || saved.modelId() == null) {
            // checkpoints written before the run recorded them: this invocation's (or the defaults)
            saved = saved.withNaming(saved.glob() == null ? given.glob() : saved.glob(),
                    saved.modelId() == null ? given.modelId() : saved.modelId());
        }
        List<String> differences = new ArrayList<>();
        Map<String, Object> a = Jobs.JSON.convertValue(saved, Map.class);
        Map<String, Object> b = Jobs.JSON.convertValue(given, Map.class);
        for (String k : a.keySet()) {
            String option = OPTION_OF.get(k);
            if (option == null || !options.contains(option) || k.equals("steps") || k.equals("cooldown")
                    || k.equals("modelId")) {
                continue;
            }
            if (!String.valueOf(a.get(k)).equals(String.valueOf(b.get(k)))) {
                differences.add("--" + option + " " + b.get(k) + " (the run has " + a.get(k) + ")");
            }
        }
        if (!differences.isEmpty()) {
            throw new IllegalArgumentException("--resume continues a run with its own settings, but "
                    + String.join(", ", differences) + " differ; leave them out, or start a new --output");
        }
        if (options.contains("id") && !given.modelId().equals(saved.modelId())) {
            // naming only: the exported model gets this id (and with it its own identity)
            saved = saved.withNaming(saved.glob(), given.modelId());
        }
        boolean stepsGiven = options.contains("steps");
        boolean cooldownGiven = options.contains("cooldown");
        if (!stepsGiven && !cooldownGiven) {
            return saved;
        }
        if (cooldownGiven && !"wsd".equals(saved.lrSchedule())) {
            throw new IllegalArgumentException("--cooldown belongs to --lr-schedule wsd; this run's schedule is "
                    + saved.lrSchedule());
        }
        long cooldown = cooldownGiven ? given.cooldown() : saved.cooldown();
        long steps = stepsGiven ? given.steps() : cooldownGiven ? done + cooldown : saved.steps();
        if (steps < done) {
            throw new IllegalArgumentException("--steps " + steps + " is below the " + done + " steps already taken");
        }
        if (cooldown > steps) {
            throw new IllegalArgumentException("--cooldown " + cooldown + " is longer than the run (" + steps + " steps)");
        }
        TrainConfig planned = saved.withSchedule(steps, cooldown);
        long differs = saved.steps() == 0 ? 0 : saved.firstDifferentRate(planned, done);
        if (differs > 0) {
            throw new IllegalArgumentException("re-planning this run to " + steps + " steps"
                    + ("wsd".equals(saved.lrSchedule()) ? " with a cool-down of " + cooldown : "")
                    + " would change the learning rate of step " + differs + ", already taken (a " + saved.lrSchedule()
                    + " run can only be extended before its rate starts to fall); continue a wsd run from its"
                    + " stable-phase checkpoint (stable-step-N.ckpt, or training/stable.ckpt of a model) with --resume-from");
        }
        return planned;
    }

    private static JavaRDD<Loaded> load(JavaSparkContext jsc, List<Source> sources, int shards, HadoopConf hadoop, int crop) {
        List<Tuple2<Integer, Source>> keyed = new ArrayList<>();
        for (Source s : sources) {
            keyed.add(new Tuple2<>(s.shard(), s));
        }
        // sorted within a shard so that the cached order (and hence the crops drawn) never depends on arrival
        return jsc.parallelizePairs(keyed, Math.max(1, Math.min(shards, keyed.size())))
                .partitionBy(new ExactPartitioner(shards))
                .values()
                .mapPartitions(it -> {
                    List<Source> list = new ArrayList<>();
                    it.forEachRemaining(list::add);
                    list.sort((x, y) -> x.id().compareTo(y.id()));
                    List<Loaded> loaded = new ArrayList<>();
                    for (Source s : list) {
                        loaded.add(loadOne(s, hadoop, crop));
                    }
                    return loaded.iterator();
                }, true)
                .persist(StorageLevel.MEMORY_ONLY());
    }

    private static Loaded loadOne(Source s, HadoopConf hadoop, int crop) {
        try {
            Path p = new Path(s.path());
            byte[] bytes;
            try (InputStream in = p.getFileSystem(hadoop.get()).open(p)) {
                bytes = in.readAllBytes();
            }
            RgbImage rgb = PngIo.read(bytes);
            TrainImage image = TrainImage.of(s.id(), rgb).downsample(s.downsample());
            if (image.width() < crop || image.height() < crop) {
                return new Loaded(null, s.path(), image.width() + "x" + image.height() + " after downsampling by "
                        + s.downsample() + " is smaller than the crop size " + crop);
            }
            return new Loaded(image, s.path(), null);
        } catch (Exception e) {
            return new Loaded(null, s.path(), e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Loads (and caches) the images; returns {images, pixels} and adds "path: problem" of each unusable file. */
    private static long[] countAndReport(JavaRDD<Loaded> rdd, List<String> skipped) {
        List<Tuple2<Long, String>> rows = rdd.map(l -> l.image() != null ? new Tuple2<>(l.image().pixels(), (String) null)
                : new Tuple2<>(-1L, l.path() + ": " + l.problem())).collect();
        long images = 0;
        long pixels = 0;
        for (Tuple2<Long, String> r : rows) {
            if (r._2() != null) {
                skipped.add(r._2());
                LOG.warn("skipping {}", r._2());
            } else {
                images++;
                pixels += r._1();
            }
        }
        return new long[] {images, pixels};
    }

    private static String skippedNote(List<String> skipped) {
        return skipped.isEmpty() ? "" : " (skipped: " + String.join("; ", skipped) + ")";
    }

    /** Crops (over all shards) whose pixels fit the least-squares start. */
    static final int LINEAR_START_CROPS = 512;
    /** Crops of the least-squares start are drawn with this step number. */
    static final long LINEAR_START_STEP = -2;

    /**
     * The least-squares start: every shard sums z z^T over its share of {@link #LINEAR_START_CROPS}
     * crops, the sums are added in fixed point (so the fit does not depend on which shard finished
     * first), and the driver solves the three fits.
     */
    static LinearStart.Fit linearStart(JavaRDD<Loaded> rdd, TrainConfig config) {
        int crops = LINEAR_START_CROPS;
        double weight = 1.0 / ((double) crops * config.crop() * config.crop());
        GradientSum sum = rdd.mapPartitionsWithIndex((shard, it) -> {
            List<TrainImage> images = new ArrayList<>();
            it.forEachRemaining(l -> {
                if (l.image() != null) {
                    images.add(l.image());
                }
            });
            int mine = crops / config.shards() + (shard < crops % config.shards() ? 1 : 0);
            if (images.isEmpty() || mine == 0) {
                return Collections.singletonList(new GradientSum(0)).iterator();
            }
            Batch batch = new CropSampler(images, config.crop()).sample(config.seed(), LINEAR_START_STEP, shard, mine);
            double[] moments = LinearStart.moments(batch, weight);
            return Collections.singletonList(GradientSum.of(new LossModel.Result(0, 3L * batch.pixels(), moments))).iterator();
        }, true).treeAggregate(new GradientSum(0), GradientSum::add, GradientSum::add, 2);
        return LinearStart.fit(sum.gradient());
    }

    /** One Spark job: every shard's loss (and gradient) summed in fixed point with treeAggregate. */
    static GradientSum shardSums(JavaRDD<Loaded> rdd, TrainConfig config, double[] params, long step, double weight,
                                 boolean withGradient) {
        int size = config.net().size();
        return rdd.mapPartitionsWithIndex((shard, it) -> {
            List<TrainImage> images = new ArrayList<>();
            it.forEachRemaining(l -> {
                if (l.image() != null) {
                    images.add(l.image());
                }
            });
            int crops = withGradient ? config.cropsOfShard(shard) : config.validationCropsOfShard(shard);
            if (images.isEmpty() || crops == 0) {
                return Collections.singletonList(new GradientSum(0)).iterator();
            }
            long t0 = System.nanoTime();
            TrainBatch batch = TrainableFamilies.byName(config.family()).sample(images, config, step, shard, crops);
            String device = ExecutorModels.djlDevice(ExecutorModels.device());
            FamilyLoss model = acquire(config, device);
            try {
                GradientSum sum = GradientSum.of(model.evaluate(params, batch, weight, withGradient));
                return Collections.singletonList(sum.timed(System.nanoTime() - t0)).iterator();
            } finally {
                release(config, device, model);
            }
        }, true).treeAggregate(new GradientSum(0), GradientSum::add, GradientSum::add, 2);
    }

    /**
     * One loss model per concurrent task in this JVM and device (the task's GPU, or the CPU with a
     * logged fallback), with as many PyTorch threads as the task has CPUs.
     */
    private static FamilyLoss acquire(TrainConfig config, String device) {
        FamilyLoss m = LOSS_MODELS.computeIfAbsent(key(config, device), k -> new ConcurrentLinkedQueue<>()).poll();
        if (m == null) {
            TaskContext task = TaskContext.get();
            int threads = task == null ? 0 : Math.max(1, task.cpus());
            m = TrainableFamilies.byName(config.family()).loss(config, threads, device);
        }
        return m;
    }

    private static void release(TrainConfig config, String device, FamilyLoss m) {
        LOSS_MODELS.get(key(config, device)).add(m);
    }

    private static String key(TrainConfig config, String device) {
        return config.family() + ":" + config.hidden() + "x" + config.hiddenLayers() + "@" + device;
    }

    /** What {@link #measure} found: the figures for the model card, and the adaptation stage to ship (or null). */
    record Measured(Map<String, Object> figures, Adaptation adaptation) {}

    /** Symbols per float-loss batch when measuring whole images. */
    static final int MEASURE_BATCH_SYMBOLS = 49152;

    /**
     * Bits per pixel of whole images (up to {@code maxPixels}, validation images when there are any)
     * with the float network and with the exported fixed-point networks as the codec codes them (the
     * family's default schedule); for an adaptive family, the calibration of the adaptation stage on
     * the same images, and then the file bits with it.
     */
    static Measured measure(JavaRDD<Loaded> rdd, String what, TrainConfig config, double[] params, List<FixedPointNet> fixed,
                            long maxPixels, boolean adapt) throws IOException {
        LoadedModel.ModelBytes bytes = LoadedModel.of(java.nio.file.Path.of("measure"), "measure", config.family(), fixed,
                null, Map.of()).toFiles();
        List<Tuple2<String, Long>> all = rdd.filter(l -> l.image() != null)
                .map(l -> new Tuple2<>(l.image().id(), l.image().pixels())).collect();
        List<Tuple2<String, Long>> sorted = new ArrayList<>(all);
        sorted.sort((x, y) -> x._1().compareTo(y._1()));
        Set<String> chosen = new java.util.HashSet<>();
        long pixels = 0;
        for (Tuple2<String, Long> t : sorted) {
            if (pixels > 0 && pixels + t._2() > maxPixels) {
                continue;
            }
            chosen.add(t._1());
            pixels += t._2();
        }
        JavaRDD<Loaded> images = rdd.filter(l -> l.image() != null && chosen.contains(l.image().id()));
        int limit = Adaptation.DEFAULT_LIMIT;
        int minCount = Adaptation.DEFAULT_MIN_COUNT;
        // pass 1: the float network's bits, the fixed-point network's bits and (adaptive families) the calibration totals
        List<Tuple2<double[], AdaptationCalibration.Totals>> rows = images.map(l -> {
            TrainImage im = l.image();
            String device = ExecutorModels.device();
            String lossDevice = ExecutorModels.djlDevice(device);
            FamilyLoss lm = acquire(config, lossDevice);
            double floatBits = 0;
            try {
                java.util.Iterator<TrainBatch> pieces = TrainableFamilies.byName(config.family()).wholeImage(im,
                        MEASURE_BATCH_SYMBOLS);
                while (pieces.hasNext()) {
                    floatBits += lm.evaluate(params, pieces.next(), 0, false).bits();
                }
            } finally {
                release(config, lossDevice, lm);
            }
            LoadedModel m = ExecutorModels.model(bytes);
            var ev = ExecutorModels.acquire(m, device);
            try {
                RgbImage rgb = new RgbImage(im.width(), im.height(), im.samples());
                AdaptationCalibration.Totals t = adapt
                        ? AdaptationCalibration.totals(m, ev.get(0), rgb, Schedules.byName(Schedules.DEFAULT), limit, minCount)
                        : new AdaptationCalibration.Totals(0, 0, new Encoder(m, ev, false).encode(rgb,
                                m.family().defaultSchedule(), null).stats().predictedBits());
                return new Tuple2<>(new double[] {im.pixels(), floatBits}, t);
            } finally {
                ExecutorModels.release(m, device, ev);
            }
        }).collect();
        double px = 0;
        double fl = 0;
        AdaptationCalibration.Totals totals = new AdaptationCalibration.Totals(0, 0, 0);
        for (Tuple2<double[], AdaptationCalibration.Totals> r : rows) {
            px += r._1()[0];
            fl += r._1()[1];
            totals = totals.plus(r._2());
        }
        double pr = totals.networkBits();
        Adaptation adaptation = adapt ? Adaptation.defaults(totals.calibrationQ12()) : null;
        // pass 2: the files the shipped model writes
        LoadedModel.ModelBytes shipped = LoadedModel.of(java.nio.file.Path.of("measure"), "measure", config.family(), fixed,
                adaptation, Map.of()).toFiles();
        List<double[]> files = images.map(l -> {
            TrainImage im = l.image();
            String device = ExecutorModels.device();
            LoadedModel m = ExecutorModels.model(shipped);
            var ev = ExecutorModels.acquire(m, device);
            try {
                Encoder.Result r = new Encoder(m, ev, false).encode(new RgbImage(im.width(), im.height(), im.samples()),
                        m.family().defaultSchedule(), null);
                return new double[] {r.stats().predictedBits(), r.stats().fileBits()};
            } finally {
                ExecutorModels.release(m, device, ev);
            }
        }).collect();
        double adaptedBits = 0;
        double fi = 0;
        for (double[] f : files) {
            adaptedBits += f[0];
            fi += f[1];
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("measuredOn", what);
        m.put("images", rows.size());
        m.put("pixels", (long) px);
        m.put("floatBpp", round4(fl / px));
        m.put("fixedPointPredictedBpp", round4(pr / px));
        m.put("quantisationCostPercent", round4(100 * (pr / fl - 1)));
        if (adaptation != null) {
            m.put("adaptationCalibrationQ12", adaptation.calibrationQ12());
            m.put("adaptedPredictedBpp", round4(adaptedBits / px));
            m.put("adaptationGainPercent", round4(100 * (1 - adaptedBits / pr)));
        }
        m.put("fileBpp", round4(fi / px));
        LOG.info(String.format(Locale.ROOT, "%s (%d, %d pixels): float %.4f bpp, fixed point %.4f bpp (+%.3f%%)%s, files %.4f bpp",
                what, rows.size(), (long) px, fl / px, pr / px, 100 * (pr / fl - 1),
                adaptation == null ? "" : String.format(Locale.ROOT, ", with adaptation %.4f bpp (-%.2f%%)", adaptedBits / px,
                        100 * (1 - adaptedBits / pr)), fi / px));
        return new Measured(m, adaptation);
    }

    static double round4(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    private static LoadedModel writeModel(FileSystem fs, Path out, String id, String family, List<FixedPointNet> nets,
                                          Adaptation adaptation, Map<String, Object> provenance) throws IOException {
        LoadedModel model = LoadedModel.of(java.nio.file.Path.of(out.toString()), id, family, nets, adaptation, provenance);
        LoadedModel.ModelBytes files = model.toFiles();
        Jobs.writeBytes(fs, new Path(out, LoadedModel.WEIGHTS), files.weights());
        Jobs.writeBytes(fs, new Path(out, LoadedModel.MANIFEST), files.manifest());
        return model;
    }

    static void writeCheckpoint(FileSystem fs, Path dir, Checkpoint c) {
        try {
            fs.mkdirs(dir);
            byte[] bytes = c.toBytes();
            Jobs.writeBytes(fs, new Path(dir, Checkpoint.fileName(c.step())), bytes);
            if (isStableEnd(c)) {
                writeStable(fs, dir, c.step(), bytes);
            }
            FileStatus[] newest = newestFirst(fs, dir, STEP_PREFIX);
            for (int i = KEEP_CHECKPOINTS; i < newest.length; i++) {
                fs.delete(newest[i].getPath(), false);
            }
            LOG.info("checkpoint {} written", new Path(dir, Checkpoint.fileName(c.step())));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write checkpoint to " + dir + ": " + e.getMessage(), e);
        }
    }

    static final String STABLE_PREFIX = "stable-";
    /** The rotated checkpoints ({@link Checkpoint#fileName}). */
    static final String STEP_PREFIX = "step-";
    /** In a model directory: the run's final state and (wsd with a cool-down) its stable-phase state. */
    public static final String TRAINING_DIR = "training";
    public static final String FINAL_CHECKPOINT = "final.ckpt";
    public static final String STABLE_CHECKPOINT = "stable.ckpt";

    /** Whether {@code c} is the last step of a wsd run's stable phase (its cool-down follows). */
    static boolean isStableEnd(Checkpoint c) {
        return "wsd".equals(c.config().lrSchedule()) && c.config().cooldown() > 0 && c.step() == c.config().stableEnd();
    }

    /** The newest stable-phase checkpoint of a run, or null. */
    static Checkpoint stableCheckpoint(FileSystem fs, Path dir) throws IOException {
        FileStatus[] all = newestFirst(fs, dir, STABLE_PREFIX);
        return all.length == 0 ? null : readCheckpoint(all[0].getPath(), fs.getConf());
    }

    /** Kept beside the rotation: the state at the end of the stable phase, to extend the run from after its cool-down. */
    private static void writeStable(FileSystem fs, Path dir, long step, byte[] bytes) throws IOException {
        Jobs.writeBytes(fs, new Path(dir, STABLE_PREFIX + Checkpoint.fileName(step)), bytes);
    }

    /** The checkpoint files of {@code dir} whose names start with {@code prefix}, newest (highest step) first. */
    private static FileStatus[] newestFirst(FileSystem fs, Path dir, String prefix) throws IOException {
        if (!fs.exists(dir)) {
            return new FileStatus[0];
        }
        FileStatus[] all = fs.listStatus(dir, p -> p.getName().startsWith(prefix) && p.getName().endsWith(".ckpt"));
        Arrays.sort(all, (a, b) -> b.getPath().getName().compareTo(a.getPath().getName()));
        return all;
    }

    private static byte[] readAll(FileSystem fs, Path file) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (InputStream in = fs.open(file)) {
            in.transferTo(buf);
        }
        return buf.toByteArray();
    }

    /** Reads one checkpoint file on any Hadoop file system; a damaged or foreign file is a clear error. */
    static Checkpoint readCheckpoint(Path file, org.apache.hadoop.conf.Configuration conf) throws IOException {
        FileSystem fs = file.getFileSystem(conf);
        if (!fs.exists(file)) {
            throw new IllegalArgumentException("checkpoint " + file + " does not exist");
        }
        try {
            return Checkpoint.fromBytes(readAll(fs, file), file.toString());
        } catch (ModelException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The newest readable checkpoint (a damaged newest one is reported and the one before it used). */
    static Checkpoint latestCheckpoint(FileSystem fs, Path dir) throws IOException {
        for (FileStatus f : newestFirst(fs, dir, STEP_PREFIX)) {
            try {
                return Checkpoint.fromBytes(readAll(fs, f.getPath()), f.getPath().toString());
            } catch (ModelException e) {
                LOG.warn("ignoring {}", e.getMessage());
            }
        }
        return null;
    }

    static String trainLog(Checkpoint c) {
        StringBuilder s = new StringBuilder("step\ttrain_bits_per_subpixel\tvalidation_bits_per_subpixel\tlearning_rate\tcrops_per_second\ttrain_seconds\tsync_overhead\n");
        for (Checkpoint.HistoryRow r : c.history()) {
            s.append(String.format(Locale.ROOT, "%d\t%.5f\t%s\t%.3e\t%.1f\t%.1f\t%s%n", r.step(), r.trainBits(),
                    Double.isNaN(r.validationBits()) ? "" : String.format(Locale.ROOT, "%.5f", r.validationBits()),
                    r.learningRate(), r.cropsPerSecond(), r.trainMillis() / 1000.0,
                    Double.isNaN(r.syncOverhead()) || r.syncOverhead() == 0 ? "" : String.format(Locale.ROOT, "%.3f", r.syncOverhead())));
        }
        return s.toString();
    }

    static String modelCard(Options options, Checkpoint last, Trainer.Outcome outcome, Map<String, Object> provenance,
                            Map<String, Object> measured, List<String> skipped) {
        TrainConfig c = last.config();
        StringBuilder s = new StringBuilder();
        s.append("# Model ").append(c.modelId()).append(" (family ").append(c.family()).append(")\n\n");
        s.append("Trained by llic's own `train-job`; written by the job itself (figures below are from this run).\n\n");
        s.append("## Training\n");
        s.append("- Command: `").append(provenance.get("command")).append("`\n");
        if (c.init() != null) {
            s.append("- Fine-tuned from model ").append(c.init()).append(" (id, weights SHA-256)\n");
        } else {
            s.append("- Start: ").append("ls".equals(c.start()) ? "least-squares linear predictor fitted on training crops"
                    : "predictor".equals(c.start()) ? "(left + above) / 2 predictor" : "random weights").append('\n');
        }
        if (provenance.containsKey("continuedWith")) {
            s.append("- Continued with: ").append(provenance.get("continuedWith")).append('\n');
        }
        s.append("- Data: ").append(c.inputs()).append(", downsampled by ").append(c.downsample())
                .append(" (box filter); ").append(((Map<?, ?>) provenance.get("data")).get("trainingImages"))
                .append(" training images, ").append(((Map<?, ?>) provenance.get("data")).get("validationImages"))
                .append(" held out for validation (CRC-32 of the id below ").append(c.validation()).append(")\n");
        if (!skipped.isEmpty()) {
            s.append("- Skipped files: ").append(String.join("; ", skipped)).append('\n');
        }
        s.append("- Network: ").append(TrainableFamilies.byName(c.family()).describe(c)).append('\n');
        s.append(String.format(Locale.ROOT, "- Steps: %d of %d (%s), batch %d crops of %dx%d, Adam, lr %.1e " + c.lrSchedule() + " to %.1e"
                        + " after %d warm-up steps, seed %d, %d shards%n", last.step(), c.steps(),
                outcome.finished() ? "finished" : "stopped: " + outcome.reason(), c.batch(), c.crop(), c.crop(),
                c.learningRate(), c.finalLearningRate(), c.warmup(), c.seed(), c.shards()));
        if ("wsd".equals(c.lrSchedule())) {
            s.append(String.format(Locale.ROOT, "- Schedule: peak rate until step %d, then a linear cool-down of %d steps%n",
                    c.stableEnd(), c.cooldown()));
        }
        Object export = provenance.get("export");
        if (export instanceof Map<?, ?> e && e.containsKey("validationAverage")) {
            s.append(String.format(Locale.ROOT, "- Exported: the %s (validation: weights %s, moving average %s bits/sub-pixel)%n",
                    e.get("exported"), e.get("validationWeights"), e.get("validationAverage")));
        }
        s.append(String.format(Locale.ROOT, "- Training time: %.1f min (%s)%n", last.trainMillis() / 60000.0,
                provenance.get("master")));
        s.append("- Training state: `training/final.ckpt` (parameters, Adam moments, history)"
                + ("wsd".equals(c.lrSchedule()) && c.cooldown() > 0 ? " and `training/stable.ckpt` (before the cool-down: "
                + "extend from it with `--resume-from`)" : "") + "\n");
        List<Checkpoint.HistoryRow> h = last.history();
        for (int i = h.size() - 1; i >= 0; i--) {
            if (!Double.isNaN(h.get(i).validationBits())) {
                s.append(String.format(Locale.ROOT, "- Last validation loss: %.4f bits per sub-pixel at step %d%n",
                        h.get(i).validationBits(), h.get(i).step()));
                break;
            }
        }
        s.append("\n## Quantisation (whole validation images)\n");
        measured.forEach((k, v) -> s.append("- ").append(k).append(": ").append(v).append('\n'));
        s.append("\nThe loss curve is in `train_log.tsv`; everything else in `train_summary.json`.\n");
        return s.toString();
    }

    /** For tests: the gradient of one step computed in this JVM over the given shards' crops together. */
    static LossModel.Result singleProcessGradient(List<List<TrainImage>> shards, TrainConfig config, double[] params,
                                                  long step) {
        Batch all = null;
        for (int s = 0; s < shards.size(); s++) {
            Batch b = new CropSampler(shards.get(s), config.crop()).sample(config.seed(), step, s, config.cropsOfShard(s));
            all = all == null ? b : Batch.concat(all, b);
        }
        try (LossModel m = new LossModel(config.net(), 0)) {
            return m.evaluate(params, all, 1.0 / (3.0 * config.batch() * config.crop() * config.crop()), true);
        }
    }
}
