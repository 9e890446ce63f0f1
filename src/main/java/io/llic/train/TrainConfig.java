package io.llic.train;

import java.io.Serializable;
import java.util.List;

/**
 * What defines a training run: the same config and seed give the same model, however often the run
 * is stopped and resumed and on however many executors the shards are computed. Budget options
 * (wall-clock minutes, a step to stop at) are not part of it.
 *
 * @param family          model family (causal)
 * @param inputs          image directories or globs, each with its own downsampling factor
 * @param downsample      box-filter factor per input (1 = native resolution)
 * @param hidden          width of the hidden layers
 * @param hiddenLayers    number of hidden layers
 * @param crop            crop side in pixels; every pixel of a crop is a training example
 * @param batch           crops per step (over all shards)
 * @param shards          data-parallel shards (Spark partitions); fixed for the run
 * @param learningRate    peak Adam learning rate
 * @param lrSchedule      after warm-up: "cosine" (decay to the final rate), "linear" or "constant"
 * @param finalLearningRate learning rate at the last step (cosine and linear)
 * @param warmup          steps of linear warm-up from 0
 * @param steps           total steps (the schedule's length)
 * @param seed            seed of the initial weights and of the crop draws
 * @param validation      fraction of images held out for validation
 * @param validationCrops crops (of size {@code crop}) measured at each validation
 * @param validateEvery   steps between validations
 * @param checkpointEvery steps between checkpoints
 */
public record TrainConfig(String family, List<String> inputs, List<Integer> downsample, int hidden, int hiddenLayers,
                          int crop, int batch, int shards, double learningRate, String lrSchedule, double finalLearningRate, int warmup,
                          long steps, long seed, double validation, int validationCrops, int validateEvery,
                          int checkpointEvery) implements Serializable {

    public static final List<String> LR_SCHEDULES = List.of("cosine", "linear", "constant");

    public TrainConfig {
        if (lrSchedule == null) {
            lrSchedule = "cosine"; // checkpoints written before the option existed
        }
    }

    public CausalNet net() {
        return new CausalNet(hidden, hiddenLayers);
    }

    /** Learning rate of step {@code t} (1-based): linear warm-up, then the schedule (cosine by default). */
    public double learningRate(long t) {
        if (t <= warmup) {
            return learningRate * t / Math.max(1, warmup);
        }
        // before a --minutes run has fixed its length (steps == 0) the rate stays at its peak
        double progress = steps == 0 ? 0 : steps <= warmup ? 1 : (double) (t - warmup) / (steps - warmup);
        progress = Math.min(1, progress);
        if ("constant".equals(lrSchedule)) {
            return learningRate;
        }
        double shape = "linear".equals(lrSchedule) ? 1 - progress : 0.5 * (1 + StrictMath.cos(Math.PI * progress));
        return finalLearningRate + (learningRate - finalLearningRate) * shape;
    }

    /** Crops shard {@code s} draws per step: the batch split as evenly as possible. */
    public int cropsOfShard(int s) {
        return share(batch, s);
    }

    /** Validation crops shard {@code s} draws, split like the batch. */
    public int validationCropsOfShard(int s) {
        return share(validationCrops, s);
    }

    private int share(int total, int s) {
        return total / shards + (s < total % shards ? 1 : 0);
    }

    public TrainConfig withSteps(long total) {
        return new TrainConfig(family, inputs, downsample, hidden, hiddenLayers, crop, batch, shards, learningRate,
                lrSchedule, finalLearningRate, warmup, total, seed, validation, validationCrops, validateEvery, checkpointEvery);
    }
}
