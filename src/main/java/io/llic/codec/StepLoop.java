package io.llic.codec;

import io.llic.entropy.CorruptStreamException;
import io.llic.model.CodingPlan;
import io.llic.prob.IntCdf;
import io.llic.runtime.NetworkEvaluator;
import java.util.List;

/**
 * The one loop that encoder and decoder share, for every model family. For each step of the
 * {@link CodingPlan} it gets the network outputs of the step's positions, then codes the step's
 * symbols channel by channel, position by position, and hands each symbol back to the plan.
 *
 * <p>The decoder evaluates exactly one step at a time (its plan only holds what is decoded). The
 * encoder knows the whole image, so it may evaluate many consecutive steps of the same network in
 * one large batch ({@code lookaheadPositions}); because the networks are exact integer arithmetic
 * the outputs are the same either way, which tests check.
 */
final class StepLoop {
    /**
     * Most positions per network call whatever batch is asked for: an interpolation step is a quarter
     * of the image, and one call over all of it would hold gigabytes of inputs and activations. Any
     * batch gives the same integers (the determinism contract), so the cap changes no output. 4096,
     * the encoder's batch, keeps the float64 activations in cache: on 256x256 Kodak crops an interp
     * model decoded in 0.81 s (median of 2) with it against 2.16 s with 65536.
     */
    static final int MAX_BATCH = 1 << 12;
    private final CodingPlan plan;
    private final List<NetworkEvaluator> evaluators;
    private final int maxBatch;
    private final int lookaheadPositions;
    private long networkNanos;

    // outputs of steps [bufferFirstStep, bufferEndStep); step s owns positions stepStart[s - first] ..< stepStart[s - first + 1]
    private int[] bufferPositions = new int[0];
    private long[] bufferOutputs = new long[0];
    private int[] stepStart = new int[0];
    private int bufferFirstStep;
    private int bufferEndStep;
    private int bufferOutputWidth;

    /**
     * @param evaluators        one per network of the model, in {@link CodingPlan#network} numbering
     * @param maxBatch          most positions per network call (the decoder's {@code --batch N})
     * @param lookaheadPositions 0 for one step at a time; otherwise evaluate consecutive steps of the
     *                          same network until at least this many positions are covered (encoder only)
     */
    StepLoop(CodingPlan plan, List<NetworkEvaluator> evaluators, int maxBatch, int lookaheadPositions) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + maxBatch);
        }
        this.plan = plan;
        this.evaluators = evaluators;
        this.maxBatch = Math.min(maxBatch, MAX_BATCH);
        this.lookaheadPositions = lookaheadPositions;
    }

    long networkNanos() {
        return networkNanos;
    }

    void run(SymbolCoder coder) throws CorruptStreamException {
        int steps = plan.steps();
        for (int step = 0; step < steps; step++) {
            if (step >= bufferEndStep) {
                fill(step, steps);
            }
            int from = stepStart[step - bufferFirstStep];
            int to = stepStart[step - bufferFirstStep + 1];
            int width = bufferOutputWidth;
            plan.beginStep(step, to - from);
            int channels = plan.channels(step);
            for (int c = 0; c < channels; c++) {
                int stream = plan.stream(step, c);
                for (int p = from; p < to; p++) {
                    int position = bufferPositions[p];
                    IntCdf cdf = plan.cdf(step, c, p - from, position, bufferOutputs, p * width);
                    plan.put(position, c, coder.code(stream, cdf, plan.value(position, c)));
                }
            }
            plan.endStep(step, bufferPositions, from, to - from);
        }
    }

    /** Evaluates the convolutional network of plane step {@code step} once, over whole planes. */
    private void fillPlanes(int step, int network) {
        int[] positions = new int[Math.max(1, plan.maxPositions())];
        int count = plan.positions(step, positions);
        int outputs = plan.outputWidth(network);
        if (bufferOutputs.length < (long) count * outputs) {
            bufferOutputs = new long[Math.multiplyExact(count, outputs)];
        }
        if (stepStart.length < 2) {
            stepStart = new int[2];
        }
        bufferPositions = positions;
        stepStart[0] = 0;
        stepStart[1] = count;
        bufferFirstStep = step;
        bufferEndStep = step + 1;
        bufferOutputWidth = outputs;
        int[] size = plan.planeSize(step);
        long[] input = plan.planeInput(step);
        long t0 = System.nanoTime();
        long[] tensor = evaluators.get(network).planes(input, size[0], size[1]);
        networkNanos += System.nanoTime() - t0;
        plan.planeOutput(step, tensor, positions, count, bufferOutputs);
    }

    /** Evaluates the network for step {@code first} (and following steps of the same network, with lookahead). */
    private void fill(int first, int steps) {
        int network = plan.network(first);
        if (network >= 0 && plan.planeStep(first)) {
            fillPlanes(first, network);
            return;
        }
        // a step without a network (stored values) has no outputs
        int outputs = network < 0 ? 0 : plan.outputWidth(network);
        int inputWidth = network < 0 ? 0 : plan.inputWidth(network);
        int[] scratch = new int[plan.maxPositions()];
        int target = Math.max(1, lookaheadPositions);
        int positions = 0;
        int end = first;
        while (end < steps && (end == first || (positions < target && plan.network(end) == network))) {
            positions += plan.positions(end, scratch);
            end++;
        }
        if (bufferPositions.length < positions) {
            bufferPositions = new int[positions];
        }
        if (bufferOutputs.length < (long) positions * outputs) {
            bufferOutputs = new long[Math.multiplyExact(positions, outputs)];
        }
        if (stepStart.length < end - first + 1) {
            stepStart = new int[end - first + 1];
        }
        int n = 0;
        for (int s = first; s < end; s++) {
            stepStart[s - first] = n;
            int count = plan.positions(s, scratch);
            System.arraycopy(scratch, 0, bufferPositions, n, count);
            n += count;
        }
        stepStart[end - first] = n;
        bufferFirstStep = first;
        bufferEndStep = end;
        bufferOutputWidth = outputs;
        if (network < 0) {
            return;
        }
        NetworkEvaluator evaluator = evaluators.get(network);
        int batch = Math.min(n, maxBatch);
        long[] inputs = new long[Math.multiplyExact(batch, inputWidth)];
        long[] out = new long[Math.multiplyExact(batch, outputs)];
        int step = first;
        for (int b = 0; b < n; b += maxBatch) {
            int count = Math.min(maxBatch, n - b);
            // a batch may span several steps: each step gathers its own positions' inputs
            for (int p = b; p < b + count; ) {
                while (stepStart[step - first + 1] <= p) {
                    step++;
                }
                int segment = Math.min(b + count, stepStart[step - first + 1]) - p;
                plan.inputs(step, bufferPositions, p, segment, inputs, (p - b) * inputWidth);
                p += segment;
            }
            long t0 = System.nanoTime();
            evaluator.evaluate(inputs, count, out);
            networkNanos += System.nanoTime() - t0;
            System.arraycopy(out, 0, bufferOutputs, b * outputs, count * outputs);
        }
    }
}
