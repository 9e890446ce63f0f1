package io.llic.train.interp;

import io.llic.model.FixedPointExport;
import io.llic.model.FixedPointNet;
import io.llic.model.ModelException;
import io.llic.model.interp.InterpModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The float parameters of an interp model: three band networks (ALGORITHMS.md B.4), each a dense
 * window layer {@code inputs -> 4H}, then {@code 4H -> 4H} and {@code 4H -> 60} in 4 groups (separate
 * sub-networks for sigma, mu, mixture logits and coupling; the paper's H is 88), leaky ReLU between.
 * The network sees (Y - 127)/255, Co/255, Cg/255; {@link #export} folds the scaling and the offset
 * into layer 0 so the fixed-point network takes the integer samples.
 *
 * <p>Flat layout: band 0, 1, 2 one after another; per band per layer the weights (row-major, out x
 * in/groups), then the biases.
 */
public final class InterpNet {
    public static final int GROUPS = InterpModel.GROUPS;
    public static final float LEAKY_SLOPE = 0.01f;
    /** Lower bound of sigma on the [0,1] scale (0.11/255), as in coding. */
    public static final double SIGMA_MIN = 0.11 / 255;
    private static final int[] GROUPS_OF_LAYER = {1, GROUPS, GROUPS};
    /** Initial sigma biases of the five components (fractions of 255): spread so they differ. */
    static final double[] COMPONENT_SIGMA = {0.004, 0.01, 0.02, 0.04, 0.08};

    private final int hidden;
    private final int[][] offsets = new int[3][4];
    private final int size;

    /** @param hidden width of each of the four sub-networks (the paper: 88) */
    public InterpNet(int hidden) {
        if (hidden < 1) {
            throw new IllegalArgumentException("hidden width must be at least 1");
        }
        this.hidden = hidden;
        int at = 0;
        for (int band = 0; band < 3; band++) {
            for (int l = 0; l < 3; l++) {
                offsets[band][l] = at;
                at += out(l) * in(band, l) / GROUPS_OF_LAYER[l] + out(l);
            }
            offsets[band][3] = at;
        }
        this.size = at;
    }

    public int hidden() {
        return hidden;
    }

    public int size() {
        return size;
    }

    /** Inputs of layer {@code l} of band {@code band}. */
    public int in(int band, int l) {
        return l == 0 ? InterpModel.inputs(band) : GROUPS * hidden;
    }

    public int out(int l) {
        return l == 2 ? InterpModel.OUTPUTS : GROUPS * hidden;
    }

    public static int groups(int l) {
        return GROUPS_OF_LAYER[l];
    }

    public int weightOffset(int band, int l) {
        return offsets[band][l];
    }

    public int weightCount(int band, int l) {
        return out(l) * in(band, l) / GROUPS_OF_LAYER[l];
    }

    public int biasOffset(int band, int l) {
        return offsets[band][l] + weightCount(band, l);
    }

    /** Random initial parameters: scaled Gaussian weights, small output layer, usable sigmas. */
    public double[] init(long seed) {
        Random r = new Random(seed);
        double[] p = new double[size];
        for (int band = 0; band < 3; band++) {
            for (int l = 0; l < 3; l++) {
                int fan = in(band, l) / GROUPS_OF_LAYER[l];
                double scale = (l == 2 ? 0.01 : Math.sqrt(2.0)) / Math.sqrt(fan);
                int w = weightOffset(band, l);
                for (int i = 0; i < weightCount(band, l); i++) {
                    p[w + i] = r.nextGaussian() * scale;
                }
            }
            int b = biasOffset(band, 2);
            for (int c = 0; c < 3; c++) {
                for (int m = 0; m < InterpModel.MIXTURES; m++) {
                    p[b + InterpModel.SIGMA + c * InterpModel.MIXTURES + m] = COMPONENT_SIGMA[m];
                }
            }
        }
        return p;
    }

    /** The three fixed-point band networks of these parameters (the codec's exact networks). */
    public List<FixedPointNet> export(double[] params) throws ModelException {
        List<FixedPointNet> nets = new ArrayList<>();
        for (int band = 0; band < 3; band++) {
            List<double[]> weights = new ArrayList<>();
            List<double[]> biases = new ArrayList<>();
            int[] ins = new int[3];
            for (int l = 0; l < 3; l++) {
                double[] w = new double[weightCount(band, l)];
                System.arraycopy(params, weightOffset(band, l), w, 0, w.length);
                double[] b = new double[out(l)];
                System.arraycopy(params, biasOffset(band, l), b, 0, b.length);
                if (l == 0) {
                    // the network saw (Y - 127)/255: the export takes x/255 (in its weight scale), so the
                    // bias absorbs -127/255 times every Y weight
                    int in = in(band, 0);
                    for (int o = 0; o < out(0); o++) {
                        for (int i = 0; i < in; i += 3) {
                            b[o] -= w[o * in + i] * InterpModel.Y_ZERO / 255.0;
                        }
                    }
                }
                weights.add(w);
                biases.add(b);
                ins[l] = in(band, l);
            }
            nets.add(FixedPointExport.export(weights, biases, ins, GROUPS_OF_LAYER));
        }
        return nets;
    }
}
