package io.llic.spark;

import io.llic.train.TrainableFamilies;
import io.llic.train.TrainableFamily;
import io.llic.train.TrainConfig;
import io.llic.train.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;


/**
 * TrainOptions of one train-job invocation: the run's config plus what only this invocation decides, the
 * usage text, and how a resumed run reconciles its saved settings with the options given again.
 */
public record TrainOptions(TrainConfig config, Set<String> given, String output, boolean resume, String resumeFrom, String init,
                           Trainer.Budget budget, List<String> args) {
    static TrainOptions parse(String[] args, int defaultShards) {
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
        String family = a.get("family", TrainableFamilies.DEFAULT);
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
        String start = a.get("start", trainable.starts().get(0));
        if (!trainable.starts().contains(start)) {
            throw new IllegalArgumentException("--start " + start + " is not one of the " + family + " family's "
                    + trainable.starts() + (TrainConfig.STARTS.contains(start) ? " (it belongs to another family)" : ""));
        }
        double validation = a.getDouble("validation", 0.05, 0);
        if (validation >= 1) {
            throw new IllegalArgumentException("--validation is a fraction below 1");
        }
        int valEvery = a.getInt("val-every", 500, 0);
        long rateWarmup = a.getInt("rate-warmup", 0, 0);
        long freezeEncoders = a.getInt("freeze-encoders", 0, 0);
        double encoderLr = a.getDouble("encoder-lr", 1, 0);
        if (!(encoderLr > 0 && encoderLr <= 1)) {
            throw new IllegalArgumentException("--encoder-lr is a fraction of the learning rate in (0, 1], got " + encoderLr);
        }
        String imageContext = a.get("image-context", "none");
        if (!TrainConfig.IMAGE_CONTEXTS.contains(imageContext)) {
            throw new IllegalArgumentException("--image-context is one of " + TrainConfig.IMAGE_CONTEXTS + ", got " + imageContext);
        }
        TrainConfig config = TrainConfig.builder(family, inputs, downsample)
                .net(a.getInt("hidden", trainable.defaultHidden(), 1), a.getInt("layers", trainable.defaultLayers(), 1))
                .crop(a.getInt("crop", trainable.defaultCrop(), 1)).batch(a.getInt("batch", 16, 1))
                .shards(a.getInt("shards", defaultShards, 1)).learningRate(a.getDouble("lr", 2e-3, 0)).lrSchedule(lrSchedule)
                .finalLearningRate(a.getDouble("final-lr", 2e-5, 0)).warmup(a.getInt("warmup", 200, 0)).steps(steps)
                .seed(a.getInt("seed", 1, 0))
                .validation(validation, validation > 0 ? a.getInt("val-crops", 256, 1) : 0, validation > 0 ? valEvery : 0)
                .checkpointEvery(a.getInt("checkpoint-every", 500, 0)).cooldown(cooldown).ema(ema)
                .start(init != null ? "init" : start)
                .measurePixels(a.getInt("measure-pixels", (int) TrainConfig.DEFAULT_MEASURE_PIXELS, 1)).adaptation(adaptOption)
                .naming(a.get("glob", InputListing.DEFAULT_GLOB), a.get("id", new Path(output).getName()))
                .rateWarmup(rateWarmup).encoders(freezeEncoders, encoderLr).imageContext(imageContext).build();
        // a resumed run's family is the checkpoint's: checked when the options are reconciled with it
        if (!resume || a.get("family", null) != null) {
            requireL3cFor(config, family, "");
        }
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
        return new TrainOptions(config, given, output, resume, resumeFrom, init,
                new Trainer.Budget(minutes, a.getInt("until", 0, 1), a.getInt("log-seconds", 30, 1)), List.of(args));
    }

    /**
     * Refuses the l3c-only settings of {@code c} at a value other than their default when the run's
     * family is not l3c (naming the first such option; {@code context} ends the message).
     */
    static void requireL3cFor(TrainConfig c, String family, String context) {
        if (io.llic.model.l3c.L3CFamily.FAMILY.equals(family)) {
            return;
        }
        String option = c.rateWarmup() != 0 ? "rate-warmup" : c.freezeEncoders() != 0 ? "freeze-encoders"
                : c.encoderLr() != 1 ? "encoder-lr" : !"none".equals(c.imageContext()) ? "image-context" : null;
        if (option != null) {
            throw new IllegalArgumentException("--" + option + " belongs to --family l3c (the family with latents)" + context);
        }
    }

    static int positiveInt(String name, String v) {
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

    static final String USAGE = String.join("\n",
            "usage: train-job --input PATH[,PATH...] --output DIR [--steps N] [--minutes M] [--resume] [options]",
            "  --input        image directories or globs on any Hadoop file system, comma-separated",
            "  --output       model directory to write (manifest.json, weights.bin, MODEL_CARD.md, train_log.tsv,",
            "                 checkpoints/); local, hdfs: or s3a:",
            "  --downsample   box-filter factor per input, comma-separated, or one for all (default 1)",
            "  --family       model family: causal (default; the 59K pixel model), interp (LLICTI interpolation) or l3c",
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
            "                 fitted on training crops) or predictor ((left + above) / 2); interp runs: random;",
            "                 l3c runs: random (default), pyramid (latents start as 2x2, 4x4, 8x8 colour means) or",
            "                 haar (the pyramid, and z1's and z2's channels 3 and 4 the blocks' horizontal and vertical",
            "                 luminance detail)",
            "  --crop         crop side in pixels (default 32 causal, 64 interp and l3c)    --batch   crops per step (default 16)",
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
            "  --hidden       hidden width (default 128; interp: width of each of the 4 sub-networks, default 88; l3c: channels, default 32);",
            "                 --layers hidden layers of a causal network (default 4), residual blocks per l3c body (default 2)",
            "  --id           model id written into bitstreams (default: the output folder's name)",
            "  --measure-pixels  pixels of whole validation images measured at export (default 2000000); the",
            "                 adaptation stage is calibrated on the same images",
            "  --rate-warmup  l3c: steps over which the latents' bits reach the encoders (their pull towards cheap",
            "                 symbols) with a weight rising linearly from 0 to 1 (default 0: fully from the start); the",
            "                 decoders always learn, and the log and validation always show, the whole code length",
            "  --freeze-encoders  l3c: steps in which the encoders keep their start while the decoders learn to",
            "                 read the latents (default 0); with --start pyramid the latents begin as an RGB pyramid",
            "  --encoder-lr   l3c: the encoders' learning rate as a fraction of the run's (default 1), e.g. 0.02 to let",
            "                 learned latents grow out of the pyramid slowly. On --resume / --resume-from both",
            "                 encoder options may be re-planned for the steps not yet taken (e.g. release encoders",
            "                 frozen so far: --freeze-encoders <steps done> --encoder-lr 0.02)",
            "  --image-context  l3c: none (default) or checkerboard: the image is coded in two checkerboard halves,",
            "                 the second under a network C1 that also sees the first half's pixels; with --init",
            "                 from a model without C1, C1 starts as a copy of D1's head (the same mixtures)",
            "  --adaptation   on (default): the model ships the adaptation-while-coding stage; off: the network alone",
            "  --glob         file name pattern (default " + InputListing.DEFAULT_GLOB + ")",
            "  --log-seconds  seconds between progress lines (default 30)",
            "Spark options (--conf k=v, --properties-file F, --master M) go before the job options.");

    static final Set<String> VALUED = Set.of("input", "output", "downsample", "family", "steps", "minutes",
            "until", "crop", "batch", "lr", "final-lr", "warmup", "seed", "shards", "validation", "val-crops",
            "val-every", "checkpoint-every", "hidden", "layers", "id", "measure-pixels", "glob", "log-seconds", "lr-schedule",
            "cooldown", "ema", "init", "start", "resume-from", "adaptation", "rate-warmup",
            "freeze-encoders", "encoder-lr", "image-context");

    static final Set<String> FLAGS = Set.of("resume");


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
            Map.entry("modelId", "id"), Map.entry("rateWarmup", "rate-warmup"),
            Map.entry("freezeEncoders", "freeze-encoders"), Map.entry("encoderLr", "encoder-lr"),
            Map.entry("imageContext", "image-context"));

    /**
     * On --resume the run keeps its own settings; options given again must agree with them, except
     * the run's length: {@code --steps} (and {@code --cooldown}) may re-plan it as long as no step
     * already taken ({@code done}) would have had another learning rate, so the resumed run is exactly
     * the run of the new plan. {@code --cooldown K} without {@code --steps} ends a wsd run K steps from now.
     * The l3c encoder settings ({@code --freeze-encoders}, {@code --encoder-lr}) are re-planned by the same
     * rule: accepted when no step already taken would have treated the encoders differently.
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
                    || k.equals("modelId") || k.equals("freezeEncoders") || k.equals("encoderLr")) {
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
        requireL3cFor(given, saved.family(), "; this run trains the " + saved.family() + " family");
        if (options.contains("freeze-encoders") || options.contains("encoder-lr")) {
            TrainConfig encoders = saved.withEncoders(
                    options.contains("freeze-encoders") ? given.freezeEncoders() : saved.freezeEncoders(),
                    options.contains("encoder-lr") ? given.encoderLr() : saved.encoderLr());
            long differs = encoders.firstDifferentEncoderStep(saved, done);
            if (differs > 0) {
                throw new IllegalArgumentException("--freeze-encoders " + encoders.freezeEncoders() + " --encoder-lr "
                        + encoders.encoderLr() + " would change how the encoders learned in step " + differs
                        + ", already taken (the run has --freeze-encoders " + saved.freezeEncoders() + " --encoder-lr "
                        + saved.encoderLr() + "); only steps after " + done + " can be re-planned");
            }
            saved = encoders;
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
}
