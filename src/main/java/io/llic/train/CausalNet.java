package io.llic.train;

import io.llic.model.CausalModel;
import io.llic.model.FixedPointExport;
import io.llic.model.FixedPointNet;
import io.llic.model.ModelException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The trainable float network of the causal family: 36 causal inputs (pixel / 255) -> hidden layers
 * with LeakyReLU(0.01) -> 36 outputs (ALGORITHMS.md A.2), as one flat parameter vector. Layer l
 * holds its weights row-major {@code out x in}, then its biases; layer 0's inputs are in the tap
 * order of {@link CausalModel#contexts} (tap * 3 + colour), so export needs no reordering.
 */
public final class CausalNet {
    /** LeakyReLU slope of the float network; the fixed-point one is 655/2^16. */
    public static final float LEAKY_SLOPE = 0.01f;
    /** Lower bound of the standard deviations, in [0,1] pixel units (ALGORITHMS.md A.3). */
    public static final double SIGMA_MIN = 0.11 / 255;

    private final int[] widths;
    private final int[] offsets;
    private final int size;

    /** @param hidden width of the hidden layers; @param hiddenLayers how many (the seed model: 128 and 4) */
    public CausalNet(int hidden, int hiddenLayers) {
        if (hidden < 1 || hiddenLayers < 1) {
            throw new IllegalArgumentException("a causal network needs at least one hidden layer of width >= 1");
        }
        widths = new int[hiddenLayers + 2];
        widths[0] = CausalModel.INPUTS;
        for (int l = 1; l <= hiddenLayers; l++) {
            widths[l] = hidden;
        }
        widths[hiddenLayers + 1] = CausalModel.OUTPUTS;
        offsets = new int[layers() + 1];
        for (int l = 0; l < layers(); l++) {
            offsets[l + 1] = offsets[l] + widths[l + 1] * widths[l] + widths[l + 1];
        }
        size = offsets[layers()];
    }

    public int layers() {
        return widths.length - 1;
    }

    public int in(int layer) {
        return widths[layer];
    }

    public int out(int layer) {
        return widths[layer + 1];
    }

    /** Offset of layer l's weights in the flat vector; its biases follow at {@code + out * in}. */
    public int weightOffset(int layer) {
        return offsets[layer];
    }

    public int biasOffset(int layer) {
        return offsets[layer] + out(layer) * in(layer);
    }

    public int size() {
        return size;
    }

    public int hidden() {
        return widths[1];
    }

    public int hiddenLayers() {
        return widths.length - 2;
    }

    /**
     * Initial parameters: PyTorch's default for linear layers (uniform +-1/sqrt(in) for weights and
     * biases), from {@code seed}; the standard deviation outputs start at a positive bias (4/255)
     * so that no output starts below its lower bound.
     */
    public double[] init(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] p = new double[size];
        for (int l = 0; l < layers(); l++) {
            double bound = 1.0 / Math.sqrt(in(l));
            int n = out(l) * in(l) + out(l);
            for (int i = 0; i < n; i++) {
                p[offsets[l] + i] = (rng.nextDouble() * 2 - 1) * bound;
            }
        }
        int last = layers() - 1;
        for (int o = 0; o < 9; o++) {
            p[biasOffset(last) + o] = 0.5;
            p[biasOffset(last) + 9 + o] = 0.2;
        }
        return p;
    }

    /** Fixed-point export of float parameters (the codec's exact network). */
    public FixedPointNet export(double[] params) throws ModelException {
        List<double[]> weights = new ArrayList<>();
        List<double[]> biases = new ArrayList<>();
        int[] ins = new int[layers()];
        for (int l = 0; l < layers(); l++) {
            int nw = out(l) * in(l);
            double[] w = new double[nw];
            System.arraycopy(params, weightOffset(l), w, 0, nw);
            double[] b = new double[out(l)];
            System.arraycopy(params, biasOffset(l), b, 0, out(l));
            weights.add(w);
            biases.add(b);
            ins[l] = in(l);
        }
        return FixedPointExport.export(weights, biases, ins);
    }
}
