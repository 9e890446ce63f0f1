package io.llic.spark;

import io.llic.train.Checkpoint;
import io.llic.train.TrainableFamilies;
import io.llic.train.TrainConfig;
import io.llic.train.Trainer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/** The training log and the model card a run writes beside its model. */
final class TrainReports {
    private static final Logger LOG = LoggerFactory.getLogger(TrainReports.class);

    private TrainReports() {}

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

    static String modelCard(TrainOptions options, Checkpoint last, Trainer.Outcome outcome, Map<String, Object> provenance,
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
                    : "predictor".equals(c.start()) ? "(left + above) / 2 predictor"
                    : "pyramid".equals(c.start()) ? "pyramid (encoders pass colour means; decoders random)"
                    : "haar".equals(c.start()) ? "haar (encoders pass colour means and z1's and z2's luminance details; decoders random)"
                    : "random weights").append('\n');
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
        if (c.freezeEncoders() >= last.step()) {
            s.append(String.format(Locale.ROOT, "- Encoders frozen at their start (%s) for the whole run: the latents are"
                    + " the start's, not learned%n", c.start()));
        } else if (c.freezeEncoders() > 0) {
            s.append(String.format(Locale.ROOT, "- Encoders frozen at their start (%s) for the first %d steps%n", c.start(),
                    c.freezeEncoders()));
        }
        if (c.encoderLr() != 1 && c.freezeEncoders() < last.step()) {
            s.append(String.format(Locale.ROOT, "- Encoders learned at %s times the run's learning rate%s%n",
                    c.encoderLr(), c.freezeEncoders() > 0 ? " from step " + (c.freezeEncoders() + 1) : ""));
        }
        if (c.rateWarmup() > 0) {
            s.append(String.format(Locale.ROOT, "- Rate warm-up: the latents' bits reach the encoders with a weight rising"
                    + " from 0 to 1 over the first %d steps (the decoders always learn the whole code length)%n",
                    c.rateWarmup()));
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
}
