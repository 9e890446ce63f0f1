package io.llic.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's training loop: asks a {@link Backend} for the summed gradient of each step's batch
 * (computed wherever the backend likes: in this JVM or on Spark executors), applies Adam, validates,
 * logs progress and hands checkpoints to a sink. Everything that shapes the result is a function
 * of the config and the step, so resuming from a checkpoint gives the same parameters as never
 * stopping.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
    /** Steps timed before a --minutes-only run fixes its total number of steps. */
    static final int CALIBRATION_STEPS = 10;

    /** Where gradients and validation losses come from. */
    public interface Backend {
        /** Summed gradient of {@code (bits of the step's crops) / (sub-pixels of the whole batch)}. */
        GradientSum gradient(double[] params, long step);

        /** Code length of the fixed validation crops (no gradient). */
        GradientSum validate(double[] params);
    }

    /** When to stop this invocation (the run itself is defined by the config). */
    public record Budget(double minutes, long untilStep, int logSeconds) {
        public static Budget none() {
            return new Budget(0, 0, 30);
        }
    }

    /** How a call of {@link #run} ended. */
    public record Outcome(Checkpoint last, boolean finished, String reason) {}

    private final Backend backend;
    private final Consumer<Checkpoint> sink;

    public Trainer(Backend backend, Consumer<Checkpoint> sink) {
        this.backend = backend;
        this.sink = sink;
    }

    /** A fresh run's step-0 state from the network's own initialisation. */
    public static Checkpoint start(TrainConfig config) {
        return start(config, TrainableFamilies.byName(config.family()).init(config));
    }

    /** A run's step-0 state from given parameters (a least-squares start, or a released model to fine-tune). */
    public static Checkpoint start(TrainConfig config, double[] params) {
        int size = TrainableFamilies.byName(config.family()).parameters(config);
        if (params.length != size) {
            throw new IllegalArgumentException("initial parameters have " + params.length + " values, the network " + size);
        }
        return new Checkpoint(config, 0, params.clone(), new double[size], new double[size], 0, new ArrayList<>(), List.of(),
                config.ema() > 0 ? params.clone() : null);
    }

    /**
     * Trains from {@code state} until the config's last step, the budget's step or its minutes.
     * A config with {@code steps == 0} needs a minutes budget: the first steps are timed and the
     * total is fixed so that the run fits (and recorded in the checkpoints).
     */
    public Outcome run(Checkpoint state, Budget budget) {
        TrainConfig config = state.config();
        double[] params = state.params().clone();
        Adam adam = new Adam(state.m().clone(), state.v().clone());
        long frozenSteps = config.freezeEncoders();
        // the encoders (l3c) have their own Adam when they are held for a while or learn at their own rate
        int frozen = frozenSteps > 0 || config.encoderLr() != 1
                ? TrainableFamilies.byName(config.family()).frozenPrefix(config) : 0;
        double[] ema = config.ema() > 0 ? (state.ema() != null ? state.ema() : state.params()).clone() : null;
        List<Checkpoint.HistoryRow> history = new ArrayList<>(state.history());
        long step = state.step();
        long t0 = System.nanoTime();
        long trainMillisBefore = state.trainMillis();
        long deadline = budget.minutes() > 0 ? t0 + (long) (budget.minutes() * 60e9) : Long.MAX_VALUE;
        if (config.steps() == 0 && budget.minutes() <= 0) {
            throw new IllegalArgumentException("give --steps, or --minutes to fit the number of steps to a time budget");
        }
        double windowBits = 0;
        long windowSubpixels = 0;
        long windowSteps = 0;
        double windowGradientSeconds = 0;
        double windowShardSeconds = 0;
        long windowStart = System.nanoTime();
        long calibrationStart = 0;
        String reason = "finished";
        Checkpoint last = state;
        while (config.steps() == 0 || step < config.steps()) {
            if (budget.untilStep() > 0 && step >= budget.untilStep()) {
                reason = "reached --until " + budget.untilStep();
                break;
            }
            if (System.nanoTime() > deadline) {
                reason = "time budget of " + budget.minutes() + " min used";
                break;
            }
            if (config.steps() == 0 && step == state.step() + 2) {
                calibrationStart = System.nanoTime();
            }
            if (config.steps() == 0 && step == state.step() + 2 + CALIBRATION_STEPS) {
                double perStep = (System.nanoTime() - calibrationStart) / 1e9 / CALIBRATION_STEPS;
                double perStepOverhead = 0.02 * perStep;
                if (config.validateEvery() > 0) {
                    long v0 = System.nanoTime();
                    backend.validate(params); // timed only; the state does not change
                    perStepOverhead += (System.nanoTime() - v0) / 1e9 / config.validateEvery();
                }
                long more = (long) ((deadline - System.nanoTime()) / 1e9 / (perStep + perStepOverhead));
                config = config.withSteps(step + Math.max(1, more));
                LOG.info(String.format(Locale.ROOT, "%.2f s per step: the %.1f min budget fits %d steps in all",
                        perStep, budget.minutes(), config.steps()));
            }
            long t = step + 1;
            long g0 = System.nanoTime();
            GradientSum g = backend.gradient(params, t);
            windowGradientSeconds += (System.nanoTime() - g0) / 1e9;
            windowShardSeconds += g.meanShardSeconds();
            if (g.clamped() > 0 && TrainableFamilies.byName(config.family()).skipsNonFiniteSteps()) {
                // no update from a step whose gradient broke down: clamped elements would still move
                // Adam's moments by the limit, and a family whose loss can overflow (l3c) then diverges
                LOG.warn("step {}: {} gradient elements were NaN, infinite or huge: step skipped (no update)", t,
                        g.clamped());
                step = t;
                continue;
            }
            if (g.clamped() > 0) {
                LOG.warn("step {}: {} gradient elements were NaN, infinite or huge and were clamped", t, g.clamped());
            }
            double lr = config.learningRate(t);
            adam.step(params, g.gradient(), t, lr, frozen, frozenSteps, config.encoderLr());
            if (ema != null) {
                double d = config.ema();
                for (int i = 0; i < ema.length; i++) {
                    ema[i] = d * ema[i] + (1 - d) * params[i];
                }
            }
            step = t;
            windowBits += g.bits();
            windowSubpixels += g.subpixels();
            windowSteps++;
            boolean validate = config.validateEvery() > 0 && (step % config.validateEvery() == 0 || step == config.steps());
            double validation = validate ? backend.validate(ema != null ? ema : params).bitsPerSubpixel() : Double.NaN;
            long now = System.nanoTime();
            boolean log = validate || (now - windowStart) / 1e9 >= budget.logSeconds() || step == config.steps();
            long trainMillis = trainMillisBefore + (now - t0) / 1_000_000;
            if (log) {
                double seconds = (now - windowStart) / 1e9;
                double cropsPerSecond = windowSteps * config.batch() / seconds;
                double overhead = windowShardSeconds == 0 ? Double.NaN : 1 - windowShardSeconds / windowGradientSeconds;
                Checkpoint.HistoryRow row = new Checkpoint.HistoryRow(step, windowBits / windowSubpixels,
                        validation, lr, cropsPerSecond, trainMillis, overhead);
                history.add(row);
                LOG.info(progressLine(config, row, deadline, now, budget));
                windowBits = 0;
                windowSubpixels = 0;
                windowSteps = 0;
                windowGradientSeconds = 0;
                windowShardSeconds = 0;
                windowStart = now;
            }
            boolean stableEnd = "wsd".equals(config.lrSchedule()) && config.cooldown() > 0 && step == config.stableEnd();
            if (stableEnd || config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0 && step != config.steps()) {
                last = snapshot(config, step, params, adam, ema, trainMillis, history, state);
                sink.accept(last);
            }
        }
        long trainMillis = trainMillisBefore + (System.nanoTime() - t0) / 1_000_000;
        if (last.step() != step || last == state) {
            last = snapshot(config, step, params, adam, ema, trainMillis, history, state);
            sink.accept(last);
        }
        boolean finished = config.steps() > 0 && step >= config.steps();
        return new Outcome(last, finished, finished ? "finished" : reason);
    }

    /** The state after {@code step} steps, copied so that training can go on changing its own arrays. */
    private static Checkpoint snapshot(TrainConfig config, long step, double[] params, Adam adam, double[] ema,
                                       long trainMillis, List<Checkpoint.HistoryRow> history, Checkpoint start) {
        return new Checkpoint(config, step, params.clone(), adam.firstMoment().clone(), adam.secondMoment().clone(),
                trainMillis, new ArrayList<>(history), start.commands(), ema == null ? null : ema.clone());
    }

    static String progressLine(TrainConfig config, Checkpoint.HistoryRow row, long deadline, long now, Budget budget) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "step %d/%s  train %.4f bits/sub-pixel", row.step(),
                config.steps() == 0 ? "?" : Long.toString(config.steps()), row.trainBits()));
        if (!Double.isNaN(row.validationBits())) {
            s.append(String.format(Locale.ROOT, "  validation %.4f", row.validationBits()));
        }
        s.append(String.format(Locale.ROOT, "  lr %.2e  %.1f crops/s", row.learningRate(), row.cropsPerSecond()));
        if (!Double.isNaN(row.syncOverhead())) {
            s.append(String.format(Locale.ROOT, "  sync overhead %.0f%%", 100 * row.syncOverhead()));
        }
        s.append("  trained ").append(minutes(row.trainMillis() / 1000.0));
        if (budget.minutes() > 0) {
            s.append("  budget left ").append(minutes(Math.max(0, (deadline - now) / 1e9)));
        }
        return s.toString();
    }

    static String minutes(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
