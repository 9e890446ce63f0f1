package io.llic.spark;

import io.llic.model.Adaptation;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.train.Checkpoint;
import io.llic.train.GradientSum;
import io.llic.train.TrainableFamilies;
import io.llic.train.TrainableFamily;
import io.llic.train.TrainConfig;
import io.llic.train.Trainer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


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

    private TrainJob() {}

    public static void main(String[] args) {
        Jobs.main("train-job", TrainOptions.USAGE, args, new Jobs.JobBody() {
            @Override
            public void check(String[] a) {
                TrainOptions.parse(a, 1);
            }

            @Override
            public void run(SparkSession spark, String[] a) throws Exception {
                train(spark, TrainOptions.parse(a, spark.sparkContext().defaultParallelism()));
            }
        });
    }

    /** Result of a run: the final checkpoint and the exported model. */
    record Result(Checkpoint checkpoint, boolean finished, LoadedModel model, Map<String, Object> summary) {}

    static Result train(SparkSession spark, TrainOptions options) throws IOException {
        long jobStart = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Path out = new Path(options.output());
        FileSystem fs = out.getFileSystem(jsc.hadoopConfiguration());
        Path ckptDir = new Path(out, CheckpointStore.CHECKPOINTS);
        Checkpoint state;
        String from;
        if (options.resumeFrom() != null) {
            from = options.resumeFrom();
            state = CheckpointStore.readCheckpoint(new Path(from), jsc.hadoopConfiguration());
        } else {
            state = options.resume() ? CheckpointStore.latestCheckpoint(fs, ckptDir) : null;
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
            config = TrainOptions.reconcile(state.config(), config, options.given(), state.step());
            state = state.withConfig(config);
            LOG.info("resuming from step {} of {} ({})", state.step(), config.steps() == 0 ? "?" : config.steps(), from);
            if (CheckpointStore.isStableEnd(state)) {
                // the cool-down starts now: this state is the one to extend the run from later
                fs.mkdirs(ckptDir);
                CheckpointStore.writeStable(fs, ckptDir, state.step(), state.toBytes());
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
        TrainData.Split split = TrainData.split(spark, run);
        List<TrainData.Source> train = split.train();
        List<TrainData.Source> validation = split.validation();
        HadoopConf hadoop = new HadoopConf(jsc.hadoopConfiguration());
        JavaRDD<TrainData.Loaded> trainRdd = TrainData.load(jsc, train, run.shards(), hadoop, run.crop());
        List<String> skipped = new ArrayList<>();
        long[] counts = TrainData.countAndReport(trainRdd, skipped);
        if (counts[0] == 0) {
            throw new IllegalArgumentException("no usable training images in " + run.inputs() + TrainData.skippedNote(skipped));
        }
        LOG.info("training set: {} images, {} pixels, in {} shards; {}", counts[0], counts[1], run.shards(),
                skipped.isEmpty() ? "nothing skipped" : skipped.size() + " files skipped");
        JavaRDD<TrainData.Loaded> valLoaded = null;
        long[] valCounts = {0, 0};
        if (!validation.isEmpty() && run.validation() > 0) {
            valLoaded = TrainData.load(jsc, validation, run.shards(), hadoop, run.crop());
            valCounts = TrainData.countAndReport(valLoaded, skipped);
            LOG.info("validation set: {} images, {} pixels", valCounts[0], valCounts[1]);
        }
        JavaRDD<TrainData.Loaded> valRdd = valCounts[0] > 0 ? valLoaded : null;
        if (state == null) {
            if ("ls".equals(run.start())) {
                state = Trainer.start(run, TrainBackend.leastSquaresStart(trainRdd, run));
            } else {
                state = Trainer.start(run);
            }
        }
        state = state.withCommand("jobs/train-job " + TrainOptions.shellWords(options.args()));
        double weight = 1.0 / (3.0 * run.batch() * run.crop() * run.crop());
        Trainer.Backend backend = new Trainer.Backend() {
            @Override
            public GradientSum gradient(double[] params, long step) {
                return TrainBackend.shardSums(trainRdd, run, params, step, weight, true);
            }

            @Override
            public GradientSum validate(double[] params) {
                if (valRdd == null) {
                    return new GradientSum(0);
                }
                return TrainBackend.shardSums(valRdd, run, params, TrainBackend.VALIDATION_STEP, 0, false);
            }
        };
        Trainer trainer = new Trainer(backend, c -> CheckpointStore.writeCheckpoint(fs, ckptDir, c));
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
            exportChoice.put("validationWeights", TrainMeasurement.round4(weightsBits));
            exportChoice.put("validationAverage", TrainMeasurement.round4(averageBits));
            if (averageBits <= weightsBits) {
                exported = last.ema();
                exportChoice.put("exported", "moving average (decay " + last.config().ema() + ")");
            }
            LOG.info(String.format(Locale.ROOT, "validation: weights %.4f, moving average %.4f bits/sub-pixel: exporting the %s",
                    weightsBits, averageBits, exported == last.params() ? "weights" : "moving average"));
        }
        // export and measure what quantisation costs
        List<FixedPointNet> fixed;
        List<io.llic.model.FixedPointConvNet> conv;
        try {
            fixed = family.export(last.config(), exported);
            conv = family.exportConv(last.config(), exported);
        } catch (ModelException e) {
            throw new IOException("fixed-point export failed: " + e.getMessage(), e);
        }
        TrainMeasurement.Measured measuredAll = TrainMeasurement.measure(valRdd != null ? valRdd : trainRdd, valRdd != null ? "validation images"
                : "training images (no validation set)", last.config(), exported, fixed, conv, last.config().measurePixels(),
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
        LoadedModel model = writeModel(fs, out, run.modelId(), run.family(), fixed, conv, measuredAll.adaptation(), provenance);
        Jobs.writeText(fs, new Path(out, "train_log.tsv"), TrainReports.trainLog(last));
        // the training state beside the model, so that a later run on any machine continues it
        Jobs.writeBytes(fs, new Path(out, CheckpointStore.TRAINING_DIR + "/" + CheckpointStore.FINAL_CHECKPOINT), last.toBytes());
        Checkpoint stable = CheckpointStore.stableCheckpoint(fs, ckptDir);
        if (stable != null && stable.step() <= last.step()) {
            Jobs.writeBytes(fs, new Path(out, CheckpointStore.TRAINING_DIR + "/" + CheckpointStore.STABLE_CHECKPOINT), stable.toBytes());
        }
        Jobs.writeText(fs, new Path(out, "MODEL_CARD.md"), TrainReports.modelCard(options, last, outcome, provenance, measured, skipped));
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

    private static LoadedModel writeModel(FileSystem fs, Path out, String id, String family, List<FixedPointNet> nets,
                                          List<io.llic.model.FixedPointConvNet> conv, Adaptation adaptation,
                                          Map<String, Object> provenance) throws IOException {
        LoadedModel model = LoadedModel.of(java.nio.file.Path.of(out.toString()), id, family, nets, conv, adaptation,
                provenance);
        LoadedModel.ModelBytes files = model.toFiles();
        Jobs.writeBytes(fs, new Path(out, LoadedModel.WEIGHTS), files.weights());
        Jobs.writeBytes(fs, new Path(out, LoadedModel.MANIFEST), files.manifest());
        return model;
    }
}
