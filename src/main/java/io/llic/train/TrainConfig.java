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
 * @param lrSchedule      after warm-up: "cosine" (decay to the final rate), "linear", "constant", or "wsd"
 *                        (warm-up, stable: the peak rate until {@code steps - cooldown}, then a linear
 *                        cool-down to the final rate; a run can be extended while it is stable)
 * @param finalLearningRate learning rate at the last step (cosine and linear)
 * @param warmup          steps of linear warm-up from 0
 * @param steps           total steps (the schedule's length)
 * @param seed            seed of the initial weights and of the crop draws
 * @param validation      fraction of images held out for validation
 * @param validationCrops crops (of size {@code crop}) measured at each validation
 * @param validateEvery   steps between validations
 * @param checkpointEvery steps between checkpoints
 * @param cooldown        steps of the "wsd" cool-down at the end of the run (0: the run ends at the peak rate,
 *                        to be extended or cooled down later)
 * @param ema             decay of the exponential moving average of the parameters kept for export (0: none)
 * @param init            where the initial parameters came from: null for a fresh start, else the model
 *                        ("id sha256") a fine-tuning run started from
 * @param start           initialisation of a fresh run: "ls" (least-squares linear predictor fitted on training
 *                        crops) or "predictor" ((left + above) / 2) for causal runs, "random" for interp and
 *                        l3c runs, "pyramid" or "haar" for l3c runs ({@code L3CStructure}); "init" when fine-tuned
 * @param measurePixels   pixels of whole validation images measured at export, where the adaptation stage is
 *                        calibrated too (part of the run: it shapes the exported model)
 * @param adaptation      "on": the exported model ships the adaptation-while-coding stage; "off": the network alone
 * @param glob            file name pattern of the inputs (null: every PNG)
 * @param modelId         id of the exported model (null: the output folder's name)
 * @param rateWarmup      l3c: steps over which the weight with which the latents' bits reach the encoders (their
 *                        pull towards cheap, central symbols) rises linearly from 0 to 1 (0: always 1). The
 *                        decoders always learn the whole code length, which is also what is logged and validated
 * @param freezeEncoders  l3c: the first steps in which the encoders keep their start (no gradient reaches them)
 *                        while the decoders learn to read and model the latents it gives (with {@code --start
 *                        pyramid}: an RGB pyramid)
 * @param encoderLr       l3c: the encoders' learning rate as a fraction of the run's (after any freeze), so that
 *                        the latents can move slowly while the decoders keep up with them (0 in checkpoints
 *                        written before it existed: 1)
 * @param imageContext    l3c: "checkerboard" codes the image in two checkerboard halves, the second under a
 *                        network C1 that also sees the first half's pixels; "none" (the default, and in
 *                        checkpoints written before it existed) codes every pixel under D1 alone
 */
public record TrainConfig(String family, List<String> inputs, List<Integer> downsample, int hidden, int hiddenLayers,
                          int crop, int batch, int shards, double learningRate, String lrSchedule, double finalLearningRate, int warmup,
                          long steps, long seed, double validation, int validationCrops, int validateEvery,
                          int checkpointEvery, long cooldown, double ema, String init, String start, long measurePixels,
                          String adaptation, String glob, String modelId, long rateWarmup,
                          long freezeEncoders, double encoderLr, String imageContext) implements Serializable {

    public static final long DEFAULT_MEASURE_PIXELS = 2_000_000;

    public static final List<String> LR_SCHEDULES = List.of("cosine", "linear", "constant", "wsd");
    public static final List<String> STARTS = List.of("ls", "predictor", "random", "pyramid", "haar");
    public static final List<String> IMAGE_CONTEXTS = List.of("none", "checkerboard");

    public TrainConfig {
        if (lrSchedule == null) {
            lrSchedule = "cosine"; // checkpoints written before the option existed
        }
        if (start == null) {
            start = "predictor"; // checkpoints written before the least-squares start existed
        }
        if (measurePixels <= 0) {
            measurePixels = DEFAULT_MEASURE_PIXELS; // checkpoints written before it was part of the run
        }
        if (adaptation == null) {
            adaptation = "on";
        }
        if (!adaptation.equals("on") && !adaptation.equals("off")) {
            throw new IllegalArgumentException("adaptation is on or off, got " + adaptation);
        }
        if (imageContext == null) {
            imageContext = "none"; // checkpoints written before the option existed
        }
        if (!IMAGE_CONTEXTS.contains(imageContext)) {
            throw new IllegalArgumentException("the image context is one of " + IMAGE_CONTEXTS + ", got " + imageContext);
        }
        if (encoderLr == 0) {
            encoderLr = 1; // checkpoints written before the option existed
        }
        if (!(encoderLr > 0 && encoderLr <= 1)) {
            throw new IllegalArgumentException("the encoders' learning-rate fraction must be in (0, 1], got " + encoderLr);
        }
        if (rateWarmup < 0 || freezeEncoders < 0) {
            throw new IllegalArgumentException("rate warm-up and encoder freeze steps must be >= 0");
        }
        if (cooldown < 0 || ema < 0 || ema >= 1) {
            throw new IllegalArgumentException("cool-down steps must be >= 0 and the EMA decay in [0, 1)");
        }
    }

    /** A config built field by field, from the defaults of {@link Builder}. */
    public static Builder builder(String family, List<String> inputs, List<Integer> downsample) {
        return new Builder(family, inputs, downsample);
    }

    /** A builder holding this config's fields, to change some of them. */
    public Builder toBuilder() {
        return new Builder(family, inputs, downsample).net(hidden, hiddenLayers).crop(crop).batch(batch).shards(shards)
                .learningRate(learningRate).lrSchedule(lrSchedule).finalLearningRate(finalLearningRate).warmup(warmup)
                .steps(steps).seed(seed).validation(validation, validationCrops, validateEvery)
                .checkpointEvery(checkpointEvery).cooldown(cooldown).ema(ema).init(init).start(start)
                .measurePixels(measurePixels).adaptation(adaptation).naming(glob, modelId).rateWarmup(rateWarmup)
                .encoders(freezeEncoders, encoderLr).imageContext(imageContext);
    }

    /**
     * The fields of a {@link TrainConfig} by name. Defaults: a 128 x 4 network, crops of 32, batch 16,
     * one shard, Adam at 2e-3 cosine to 2e-5 after 200 warm-up steps, no validation, checkpoints every
     * 500 steps, no cool-down or average, a fresh start ({@code predictor}), the adaptation stage on, no
     * l3c warm-ups, encoders at the run's rate.
     */
    public static final class Builder {
        private final String family;
        private final List<String> inputs;
        private final List<Integer> downsample;
        private int hidden = 128;
        private int hiddenLayers = 4;
        private int crop = 32;
        private int batch = 16;
        private int shards = 1;
        private double learningRate = 2e-3;
        private String lrSchedule = "cosine";
        private double finalLearningRate = 2e-5;
        private int warmup = 200;
        private long steps;
        private long seed = 1;
        private double validation;
        private int validationCrops;
        private int validateEvery;
        private int checkpointEvery = 500;
        private long cooldown;
        private double ema;
        private String init;
        private String start;
        private long measurePixels = DEFAULT_MEASURE_PIXELS;
        private String adaptation = "on";
        private String glob;
        private String modelId;
        private long rateWarmup;
        private long freezeEncoders;
        private double encoderLr = 1;

        private Builder(String family, List<String> inputs, List<Integer> downsample) {
            this.family = family;
            this.inputs = inputs;
            this.downsample = downsample;
        }

        public Builder net(int newHidden, int newHiddenLayers) {
            this.hidden = newHidden;
            this.hiddenLayers = newHiddenLayers;
            return this;
        }

        public Builder crop(int v) {
            this.crop = v;
            return this;
        }

        public Builder batch(int v) {
            this.batch = v;
            return this;
        }

        public Builder shards(int v) {
            this.shards = v;
            return this;
        }

        public Builder learningRate(double v) {
            this.learningRate = v;
            return this;
        }

        public Builder lrSchedule(String v) {
            this.lrSchedule = v;
            return this;
        }

        public Builder finalLearningRate(double v) {
            this.finalLearningRate = v;
            return this;
        }

        public Builder warmup(int v) {
            this.warmup = v;
            return this;
        }

        public Builder steps(long v) {
            this.steps = v;
            return this;
        }

        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        /** The held-out fraction, the crops measured at each validation and the steps between validations. */
        public Builder validation(double fraction, int crops, int every) {
            this.validation = fraction;
            this.validationCrops = crops;
            this.validateEvery = every;
            return this;
        }

        public Builder checkpointEvery(int v) {
            this.checkpointEvery = v;
            return this;
        }

        public Builder cooldown(long v) {
            this.cooldown = v;
            return this;
        }

        public Builder ema(double v) {
            this.ema = v;
            return this;
        }

        public Builder init(String v) {
            this.init = v;
            return this;
        }

        public Builder start(String v) {
            this.start = v;
            return this;
        }

        public Builder measurePixels(long v) {
            this.measurePixels = v;
            return this;
        }

        public Builder adaptation(String v) {
            this.adaptation = v;
            return this;
        }

        /** The inputs' file name pattern and the exported model's id. */
        public Builder naming(String newGlob, String newModelId) {
            this.glob = newGlob;
            this.modelId = newModelId;
            return this;
        }

        public Builder rateWarmup(long v) {
            this.rateWarmup = v;
            return this;
        }

        /** l3c: steps with the encoders frozen, and their learning rate as a fraction of the run's. */
        private String imageContext = "none";

        public Builder encoders(long freeze, double lrFraction) {
            this.freezeEncoders = freeze;
            this.encoderLr = lrFraction;
            return this;
        }

        /** l3c: "checkerboard" or "none" (see {@link TrainConfig#imageContext}). */
        public Builder imageContext(String context) {
            this.imageContext = context;
            return this;
        }

        public TrainConfig build() {
            return new TrainConfig(family, inputs, downsample, hidden, hiddenLayers, crop, batch, shards, learningRate,
                    lrSchedule, finalLearningRate, warmup, steps, seed, validation, validationCrops, validateEvery,
                    checkpointEvery, cooldown, ema, init, start, measurePixels, adaptation, glob, modelId, rateWarmup,
                    freezeEncoders, encoderLr, imageContext);
        }
    }

    /** Whether the encoders keep their parameters in step {@code t} (1-based): see {@code freezeEncoders}. */
    public boolean encodersFrozen(long t) {
        return t <= freezeEncoders;
    }

    /** The weight with which the latents' bits reach the encoders in step {@code t} (1-based): see {@code rateWarmup}. */
    public double rateWeight(long t) {
        return rateWarmup <= 0 || t >= rateWarmup ? 1 : Math.max(0, (double) t / rateWarmup);
    }

    /** First step of the cool-down of a "wsd" run (steps after it decay); {@code steps} for other schedules. */
    public long stableEnd() {
        return "wsd".equals(lrSchedule) ? Math.max(warmup, steps - cooldown) : steps;
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
        if ("wsd".equals(lrSchedule)) {
            long stable = stableEnd();
            if (steps == 0 || t <= stable) {
                return learningRate;
            }
            double p = Math.min(1, (double) (t - stable) / Math.max(1, steps - stable));
            return learningRate + (finalLearningRate - learningRate) * p;
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
        return withSchedule(total, cooldown);
    }

    /** The same run with another length and cool-down (extending a run, or starting its cool-down). */
    public TrainConfig withSchedule(long total, long cooldownSteps) {
        return toBuilder().steps(total).cooldown(cooldownSteps).build();
    }

    /** The same run with another network shape. */
    public TrainConfig withNet(int newHidden, int newHiddenLayers) {
        return toBuilder().net(newHidden, newHiddenLayers).build();
    }

    /** The same run with the invocation-level settings an older checkpoint did not record. */
    public TrainConfig withNaming(String newGlob, String newModelId) {
        return toBuilder().naming(newGlob, newModelId).build();
    }

    /** The same run with fine-tuning provenance. */
    public TrainConfig withInit(String from) {
        return toBuilder().init(from).build();
    }

    /** The same run with other encoder settings (l3c: re-planned on resume for the steps not yet taken). */
    public TrainConfig withEncoders(long newFreezeEncoders, double newEncoderLr) {
        return toBuilder().encoders(newFreezeEncoders, newEncoderLr).build();
    }

    /**
     * The first step (1-based) up to {@code done} whose encoders would be treated differently under
     * {@code other} (frozen in one and not the other, or learning at another rate), or 0 when none.
     */
    public long firstDifferentEncoderStep(TrainConfig other, long done) {
        for (long t = 1; t <= done; t++) {
            boolean frozenHere = encodersFrozen(t);
            if (frozenHere != other.encodersFrozen(t)
                    || !frozenHere && Double.doubleToLongBits(encoderLr) != Double.doubleToLongBits(other.encoderLr)) {
                return t;
            }
        }
        return 0;
    }

    /**
     * The first step (1-based) up to {@code done} whose learning rate differs under {@code other}, or 0 when
     * every step already taken had the same rate: the test of whether a run may be re-planned on resume.
     */
    public long firstDifferentRate(TrainConfig other, long done) {
        for (long t = 1; t <= done; t++) {
            if (Double.doubleToLongBits(learningRate(t)) != Double.doubleToLongBits(other.learningRate(t))) {
                return t;
            }
        }
        return 0;
    }
}
