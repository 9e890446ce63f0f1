package io.llic.spark;

import io.llic.train.Batch;
import io.llic.train.CropSampler;
import io.llic.train.GradientSum;
import io.llic.train.LinearStart;
import io.llic.train.FamilyLoss;
import io.llic.train.LossModel;
import io.llic.train.TrainBatch;
import io.llic.train.TrainableFamilies;
import io.llic.train.TrainConfig;
import io.llic.train.TrainImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * The Spark side of training: every shard's loss and gradient summed in fixed point, one loss model
 * per concurrent task, and the causal family's least-squares start.
 */
final class TrainBackend {
    private static final Logger LOG = LoggerFactory.getLogger(TrainBackend.class);

    private TrainBackend() {}

    /** Crops of the validation set are drawn with this step number (training steps are >= 1). */
    static final long VALIDATION_STEP = -1;

    static final Map<String, Queue<FamilyLoss>> LOSS_MODELS = new java.util.concurrent.ConcurrentHashMap<>();

    /** Crops (over all shards) whose pixels fit the least-squares start. */
    static final int LINEAR_START_CROPS = 512;

    /** Crops of the least-squares start are drawn with this step number. */
    static final long LINEAR_START_STEP = -2;

    /**
     * The least-squares start: every shard sums z z^T over its share of {@link #LINEAR_START_CROPS}
     * crops, the sums are added in fixed point (so the fit does not depend on which shard finished
     * first), and the driver solves the three fits.
     */
    /** The causal family's least-squares start: the fit, logged, carried by the network's initial parameters. */
    static double[] leastSquaresStart(JavaRDD<TrainData.Loaded> rdd, TrainConfig run) {
        LinearStart.Fit fit = linearStart(rdd, run);
        LOG.info(String.format(java.util.Locale.ROOT, "least-squares start: residual RMS R %.2f, G %.2f, B %.2f (of 255);"
                + " G from R %.3f, B from R %.3f and G %.3f", 255 * fit.rms()[0], 255 * fit.rms()[1],
                255 * fit.rms()[2], fit.alpha(), fit.beta(), fit.gamma()));
        return run.net().init(run.seed(), fit);
    }

    static LinearStart.Fit linearStart(JavaRDD<TrainData.Loaded> rdd, TrainConfig config) {
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

    /**
     * One Spark job: every shard's loss (and gradient) summed in fixed point with treeAggregate. The
     * parameters travel as a broadcast, not inside the task closure (an interp model's 1.6 MB made
     * Spark warn about a large task binary at every step).
     */
    static GradientSum shardSums(JavaRDD<TrainData.Loaded> rdd, TrainConfig config, double[] params, long step, double weight,
                                 boolean withGradient) {
        org.apache.spark.broadcast.Broadcast<double[]> shared =
                org.apache.spark.api.java.JavaSparkContext.fromSparkContext(rdd.context()).broadcast(params);
        try {
            return shardSums(rdd, config, shared, step, weight, withGradient);
        } finally {
            shared.destroy();
        }
    }

    private static GradientSum shardSums(JavaRDD<TrainData.Loaded> rdd, TrainConfig config,
                                         org.apache.spark.broadcast.Broadcast<double[]> params, long step, double weight,
                                         boolean withGradient) {
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
                GradientSum sum;
                if (withGradient) {
                    sum = GradientSum.of(model.evaluate(params.value(), batch, weight, true));
                } else {
                    // validation: in pieces no larger than a training step's share, whatever --val-crops
                    // (128 crops of 128 x 128 at once took an l3c executor past 16 GB)
                    sum = new GradientSum(0);
                    long most = 3L * config.cropsOfShard(shard) * config.crop() * config.crop();
                    for (TrainBatch piece : batch.pieces(most)) {
                        sum.add(GradientSum.of(model.evaluate(params.value(), piece, weight, false)));
                    }
                }
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
    static FamilyLoss acquire(TrainConfig config, String device) {
        FamilyLoss m = LOSS_MODELS.computeIfAbsent(key(config, device), k -> new ConcurrentLinkedQueue<>()).poll();
        if (m == null) {
            TaskContext task = TaskContext.get();
            int threads = task == null ? 0 : Math.max(1, task.cpus());
            m = TrainableFamilies.byName(config.family()).loss(config, threads, device);
        }
        return m;
    }

    static void release(TrainConfig config, String device, FamilyLoss m) {
        LOSS_MODELS.get(key(config, device)).add(m);
    }

    static String key(TrainConfig config, String device) {
        return config.family() + ":" + config.hidden() + "x" + config.hiddenLayers() + "@" + device;
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
