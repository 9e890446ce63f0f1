package io.llic.codec;

import io.llic.entropy.CorruptStreamException;
import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.CausalModel;
import io.llic.prob.MixtureCdf;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;

/**
 * The one loop that encoder and decoder share. For each step of the schedule it gets the network
 * outputs of the step's pixels, then codes all R values of the step, then all G, then all B
 * (ALGORITHMS.md A.5), writing each value into the image so later contexts can read it.
 *
 * <p>Network outputs are computed from contexts read out of {@code image}. The decoder evaluates
 * exactly one step at a time (its image only holds what is decoded). The encoder knows the whole
 * image, so it may evaluate many steps in one large batch ({@code lookaheadPixels}); because the
 * network is exact integer arithmetic the outputs are the same either way, which tests check.
 *
 * <p>With a model's {@link Adaptation} stage, each channel's distribution is corrected by the
 * statistics of the steps coded so far, and the step's pixels are added after the step: encoder
 * and decoder update at the same points, whatever the batch size.
 */
final class StepLoop {
    private final RgbImage image;
    private final Schedule schedule;
    private final NetworkEvaluator evaluator;
    private final int maxBatch;
    private final int lookaheadPixels;
    private final int outputs = CausalModel.OUTPUTS;
    private final Adaptation adaptation;
    private final boolean measureUnadapted;
    private long networkNanos;
    private double unadaptedBits;
    private Adaptation.State lastState;

    // outputs of steps [bufferFirstStep, bufferEndStep); step s owns rows stepStart[s - first] ..< stepStart[s - first + 1]
    private int[] bufferPixels = new int[0];
    private long[] bufferOutputs = new long[0];
    private int[] stepStart = new int[0];
    private int bufferFirstStep;
    private int bufferEndStep;

    /**
     * @param maxBatch        most pixels per network call (the decoder's {@code --batch N})
     * @param lookaheadPixels 0 for one step at a time; otherwise evaluate consecutive steps until at
     *                        least this many pixels are covered (encoder only)
     */
    StepLoop(RgbImage image, Schedule schedule, NetworkEvaluator evaluator, int maxBatch, int lookaheadPixels) {
        this(image, schedule, evaluator, maxBatch, lookaheadPixels, null, false);
    }

    /**
     * @param adaptation       the model's adaptation stage, or null
     * @param measureUnadapted (encoder only, which knows every value) also sum the code length the
     *                         network's distributions would have given without the adaptation stage
     */
    StepLoop(RgbImage image, Schedule schedule, NetworkEvaluator evaluator, int maxBatch, int lookaheadPixels,
             Adaptation adaptation, boolean measureUnadapted) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + maxBatch);
        }
        this.image = image;
        this.schedule = schedule;
        this.evaluator = evaluator;
        this.maxBatch = maxBatch;
        this.lookaheadPixels = lookaheadPixels;
        this.adaptation = adaptation;
        this.measureUnadapted = measureUnadapted && adaptation != null;
    }

    long networkNanos() {
        return networkNanos;
    }

    /** The adaptation statistics after {@link #run} (null without adaptation). */
    Adaptation.State adaptationState() {
        return lastState;
    }

    /** Code length in bits without the adaptation stage (NaN unless measured). */
    double unadaptedBits() {
        return measureUnadapted ? unadaptedBits : Double.NaN;
    }

    void run(SymbolCoder coder) throws CorruptStreamException {
        int height = image.height();
        int width = image.width();
        int steps = schedule.stepCount(height, width);
        CausalModel.Distribution dist = new CausalModel.Distribution();
        byte[] samples = image.samples();
        Adaptation.State adapt = adaptation == null ? null : adaptation.newState(samples, width);
        lastState = adapt;
        for (int step = 0; step < steps; step++) {
            if (step >= bufferEndStep) {
                fill(step, steps);
            }
            int from = stepStart[step - bufferFirstStep];
            int to = stepStart[step - bufferFirstStep + 1];
            if (adapt != null) {
                adapt.beginStep(to - from);
            }
            for (int c = 0; c < 3; c++) {
                for (int p = from; p < to; p++) {
                    int index = bufferPixels[p];
                    int k = index * 3;
                    int red = samples[k] & 0xFF;
                    int green = samples[k + 1] & 0xFF;
                    MixtureCdf cdf = dist.channel(bufferOutputs, p * outputs, c, red, green);
                    if (adapt != null) {
                        if (measureUnadapted) {
                            unadaptedBits += cdf.bits(samples[k + c] & 0xFF);
                        }
                        // the left and upper neighbours: decoded in earlier steps by every causal schedule
                        int row = index / width;
                        int col = index - row * width;
                        int left = col > 0 ? samples[k - 3 + c] & 0xFF : -1;
                        int above = row > 0 ? samples[k - 3 * width + c] & 0xFF : -1;
                        adapt.correct(cdf, c, p - from, index, left, above);
                    }
                    samples[k + c] = (byte) coder.code(cdf, samples[k + c] & 0xFF);
                }
            }
            if (adapt != null) {
                adapt.endStep(bufferPixels, from);
            }
        }
    }

    /** Evaluates the network for step {@code first} (and more, with lookahead). */
    private void fill(int first, int steps) {
        int height = image.height();
        int width = image.width();
        int perStep = schedule.maxPixelsPerStep(height, width);
        int target = Math.max(1, lookaheadPixels);
        // count the steps covered
        int pixels = 0;
        int end = first;
        int[] scratch = new int[perStep];
        while (end < steps && (end == first || pixels < target)) {
            pixels += schedule.pixelsOfStep(height, width, end, scratch);
            end++;
        }
        if (bufferPixels.length < pixels) {
            bufferPixels = new int[pixels];
            bufferOutputs = new long[pixels * outputs];
        }
        if (stepStart.length < end - first + 1) {
            stepStart = new int[end - first + 1];
        }
        int n = 0;
        for (int s = first; s < end; s++) {
            stepStart[s - first] = n;
            n += schedule.pixelsOfStep(height, width, s, scratch);
            System.arraycopy(scratch, 0, bufferPixels, stepStart[s - first], n - stepStart[s - first]);
        }
        stepStart[end - first] = n;
        bufferFirstStep = first;
        bufferEndStep = end;
        long[] inputs = new long[Math.min(n, maxBatch) * CausalModel.INPUTS];
        long[] out = new long[Math.min(n, maxBatch) * outputs];
        for (int b = 0; b < n; b += maxBatch) {
            int count = Math.min(maxBatch, n - b);
            CausalModel.contexts(image, schedule, bufferPixels, b, count, inputs);
            long t0 = System.nanoTime();
            evaluator.evaluate(inputs, count, out);
            networkNanos += System.nanoTime() - t0;
            System.arraycopy(out, 0, bufferOutputs, b * outputs, count * outputs);
        }
    }
}
