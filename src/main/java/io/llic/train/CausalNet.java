package io.llic.train;

import io.llic.model.causal.CausalModel;
import io.llic.model.FixedPointExport;
import io.llic.model.FixedPointNet;
import io.llic.model.ModelException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The trainable float network of the causal family: 36 causal inputs (pixel / 255, seen through the
 * {@link #features} transform) -> hidden layers
 * with LeakyReLU(0.01) -> 36 outputs (ALGORITHMS.md A.2), as one flat parameter vector. Layer l
 * holds its weights row-major {@code out x in}, then its biases; layer 0's inputs are in the tap
 * order of {@link CausalModel#contexts} (tap * 3 + colour), so export needs no reordering.
 */
public final class CausalNet {
    /** LeakyReLU slope of the float network; the fixed-point one is 655/2^16. */
    public static final float LEAKY_SLOPE = 0.01f;
    /** Lower bound of the standard deviations, in [0,1] pixel units (ALGORITHMS.md A.3). */
    public static final double SIGMA_MIN = 0.11 / 255;

    /**
     * Layer 0 is trained on 39 features, a fixed linear transform of the 36 causal inputs: per colour
     * channel the mean m of its 12 taps (as m - 0.5) and each tap's deviation from it (times
     * {@link #DEVIATION_SCALE}). Neighbouring pixels are nearly equal, so the raw inputs are highly
     * correlated and the information sits in differences a hundred times smaller than the values;
     * the features decorrelate them, which makes Adam converge many times faster. The transform is
     * linear, so export folds it into layer 0: the codec's network still reads the 36 raw inputs.
     */
    public static final int FEATURES = CausalModel.INPUTS + 3;
    public static final float DEVIATION_SCALE = 8f;
    private static final int TAPS = CausalModel.INPUTS / 3;

    /** Writes the 39 features of {@code pixels} input rows (36 values in [0,1] each) into {@code out}. */
    public static void features(float[] in, int pixels, float[] out) {
        for (int p = 0; p < pixels; p++) {
            int i = p * CausalModel.INPUTS;
            int o = p * FEATURES;
            for (int c = 0; c < 3; c++) {
                float sum = 0;
                for (int t = 0; t < TAPS; t++) {
                    sum += in[i + t * 3 + c];
                }
                float mean = sum / TAPS;
                for (int t = 0; t < TAPS; t++) {
                    out[o + t * 3 + c] = (in[i + t * 3 + c] - mean) * DEVIATION_SCALE;
                }
                out[o + CausalModel.INPUTS + c] = mean - 0.5f;
            }
        }
    }

    static final double OUTPUT_INIT_SCALE = 0.01;
    private final int[] widths;
    private final int[] offsets;
    private final int size;

    /** @param hidden width of the hidden layers; @param hiddenLayers how many (the seed model: 128 and 4) */
    public CausalNet(int hidden, int hiddenLayers) {
        if (hidden < 1 || hiddenLayers < 1) {
            throw new IllegalArgumentException("a causal network needs at least one hidden layer of width >= 1");
        }
        widths = new int[hiddenLayers + 2];
        widths[0] = FEATURES;
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

    /** Initial parameters with the (left + above) / 2 start (see {@link #init(long, LinearStart.Fit)}). */
    public double[] init(long seed) {
        return init(seed, LinearStart.leftAbove());
    }

    /** Spreads of the three mixture components relative to the fit's residual RMS, so that they start apart. */
    static final double[] COMPONENT_SPREAD = {0.6, 1.0, 1.8};

    /**
     * Initial parameters: PyTorch's default for linear layers (uniform +-1/sqrt(in) for weights and
     * biases), from {@code seed}; the output layer scaled down so every pixel starts from the same sane
     * distribution, and (with at least 6 hidden units) the network set up to carry {@code start}'s
     * linear prediction: means at the prediction, the fit's channel coupling, and standard deviations
     * from its residual spread (0.2 when the fit has none).
     */
    public double[] init(long seed, LinearStart.Fit start) {
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
        for (int i = 0; i < out(last) * in(last); i++) {
            p[offsets[last] + i] *= OUTPUT_INIT_SCALE;
        }
        int b = biasOffset(last);
        for (int c = 0; c < 3; c++) {
            for (int m = 0; m < 3; m++) {
                p[b + c * 3 + m] = 0.5;
                p[b + 9 + c * 3 + m] = start.rms() == null ? 0.2 : start.rms()[c] * COMPONENT_SPREAD[m];
            }
        }
        if (start.rms() != null) {
            for (int m = 0; m < 3; m++) {
                p[b + 27 + m] = start.alpha();
                p[b + 30 + m] = start.beta();
                p[b + 33 + m] = start.gamma();
            }
        }
        if (hidden() >= 6) {
            predictorStart(p, start);
        }
        return p;
    }

    /**
     * Layer 0 on the features as a layer on the raw inputs: for output j, the weight of input
     * (tap t, channel c) is S * (w[t,c] - mean_t w[.,c]) + w[mean_c] / 12, and the bias gains
     * -0.5 * sum_c w[mean_c].
     */
    static double[][] foldFeatures(double[] w, double[] b, int outs) {
        double[] raw = new double[outs * CausalModel.INPUTS];
        double[] bias = b.clone();
        for (int j = 0; j < outs; j++) {
            int r = j * FEATURES;
            for (int c = 0; c < 3; c++) {
                double devSum = 0;
                for (int t = 0; t < TAPS; t++) {
                    devSum += w[r + t * 3 + c];
                }
                double meanWeight = w[r + CausalModel.INPUTS + c];
                for (int t = 0; t < TAPS; t++) {
                    raw[j * CausalModel.INPUTS + t * 3 + c] = DEVIATION_SCALE * (w[r + t * 3 + c] - devSum / TAPS)
                            + meanWeight / TAPS;
                }
                bias[j] -= 0.5 * meanWeight;
            }
        }
        return new double[][] {raw, bias};
    }

    /**
     * Starts the network as a classical predictor: hidden units 0..5 carry +-(P_c - 0.5) for each
     * colour c, with P_c the start's linear prediction from the features, through every layer (a
     * LeakyReLU pair z -> leaky(z), leaky(-z) keeps z = (a - b) / 1.01 exactly), and the output means
     * read it back. Training then refines a sane prediction instead of first having to discover that
     * neighbours predict a pixel. Nothing is frozen; this only sets initial weights.
     */
    private void predictorStart(double[] p, LinearStart.Fit start) {
        double pair = 1 + LEAKY_SLOPE;
        for (int l = 0; l < layers(); l++) {
            boolean last = l == layers() - 1;
            for (int c = 0; c < 3; c++) {
                for (int sign = 0; sign < 2; sign++) {
                    double v = sign == 0 ? 1 : -1;
                    if (last) {
                        for (int m = 0; m < 3; m++) {
                            int row = c * 3 + m;
                            p[weightOffset(l) + row * in(l) + 2 * c + sign] = v / pair;
                        }
                        continue;
                    }
                    int row = 2 * c + sign;
                    int base = weightOffset(l) + row * in(l);
                    java.util.Arrays.fill(p, base, base + in(l), 0);
                    p[biasOffset(l) + row] = 0;
                    if (l == 0) {
                        // P - 0.5 = sum_f coefficient_f * feature_f + constant - 0.5
                        for (int f = 0; f < FEATURES; f++) {
                            p[base + f] = v * start.features()[c][f];
                        }
                        p[biasOffset(l) + row] = v * (start.constant()[c] - 0.5);
                    } else {
                        p[base + 2 * c] = v / pair;
                        p[base + 2 * c + 1] = -v / pair;
                    }
                }
            }
        }
    }

    /**
     * The inverse of {@link #foldFeatures}: layer 0 on the raw inputs as a layer on the features. A raw
     * weight row R (per tap t and channel c) equals S * (w[t,c] - mean_t w) + w_mean[c] / 12 for
     * w[t,c] = (R[t,c] - mean_t R[.,c]) / S and w_mean[c] = sum_t R[t,c]; the bias gains +0.5 * sum_c w_mean[c].
     */
    static double[][] unfoldFeatures(double[] raw, double[] rawBias, int outs) {
        double[] w = new double[outs * FEATURES];
        double[] bias = rawBias.clone();
        for (int j = 0; j < outs; j++) {
            int r = j * CausalModel.INPUTS;
            for (int c = 0; c < 3; c++) {
                double sum = 0;
                for (int t = 0; t < TAPS; t++) {
                    sum += raw[r + t * 3 + c];
                }
                for (int t = 0; t < TAPS; t++) {
                    w[j * FEATURES + t * 3 + c] = (raw[r + t * 3 + c] - sum / TAPS) / DEVIATION_SCALE;
                }
                w[j * FEATURES + CausalModel.INPUTS + c] = sum;
                bias[j] += 0.5 * sum;
            }
        }
        return new double[][] {w, bias};
    }

    /**
     * Float parameters of a released fixed-point network of this shape (the start of a fine-tuning run):
     * the integer weights at their scales, layer 0 unfolded onto the features. Exporting them again
     * gives back the same integers up to rounding of the last bit.
     */
    public double[] fromFixedPoint(FixedPointNet fixed) throws ModelException {
        List<io.llic.model.FixedPointLayer> ls = fixed.layers();
        if (ls.size() != layers() || fixed.inputs() != CausalModel.INPUTS || fixed.outputs() != CausalModel.OUTPUTS) {
            throw new ModelException("the model has " + ls.size() + " layers of shape " + fixed.inputs() + " -> "
                    + fixed.outputs() + "; this run's network has " + layers() + " (--hidden " + hidden() + " --layers "
                    + hiddenLayers() + ")");
        }
        double[] p = new double[size];
        for (int l = 0; l < layers(); l++) {
            io.llic.model.FixedPointLayer f = ls.get(l);
            int inRaw = l == 0 ? CausalModel.INPUTS : in(l);
            if (f.in() != inRaw || f.out() != out(l)) {
                throw new ModelException("layer " + l + " of the model is " + f.out() + "x" + f.in() + ", this run's "
                        + out(l) + "x" + inRaw + " (--hidden " + hidden() + " --layers " + hiddenLayers() + ")");
            }
            int inBits = l == 0 ? 0 : FixedPointExport.ACTIVATION_BITS;
            int wBits = l == 0 ? FixedPointExport.FIRST_WEIGHT_BITS : FixedPointExport.WEIGHT_BITS;
            double wScale = l == 0 ? (double) (1L << wBits) / fixed.inputBound() : (double) (1L << wBits);
            double bScale = (double) (1L << (wBits + inBits));
            double[] w = new double[f.weights().length];
            for (int i = 0; i < w.length; i++) {
                w[i] = f.weights()[i] / wScale;
            }
            double[] b = new double[f.out()];
            for (int i = 0; i < b.length; i++) {
                b[i] = f.bias()[i] / bScale;
            }
            if (l == 0) {
                double[][] unfolded = unfoldFeatures(w, b, out(0));
                w = unfolded[0];
                b = unfolded[1];
            }
            System.arraycopy(w, 0, p, weightOffset(l), w.length);
            System.arraycopy(b, 0, p, biasOffset(l), b.length);
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
            if (l == 0) {
                double[][] folded = foldFeatures(w, b, out(0));
                w = folded[0];
                b = folded[1];
            }
            weights.add(w);
            biases.add(b);
            ins[l] = l == 0 ? CausalModel.INPUTS : in(l);
        }
        return FixedPointExport.export(weights, biases, ins);
    }
}
