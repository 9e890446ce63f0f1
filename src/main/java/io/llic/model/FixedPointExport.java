package io.llic.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a trained float network of the causal family into a {@link FixedPointNet} (the precision
 * measured in ARCHITECTURE.md: weights at 2^-20, activations floored to 2^-16, outputs at 2^-24).
 *
 * <p>Layer 0 takes pixel values 0..255 and its float weights act on pixel/255, so its weights are
 * stored as {@code round(w / 255 * 2^28)} (about 2^-20 relative to the [0,1] scale). Hidden
 * activations are clipped at the largest power of two (at most 2^10) that keeps the next layer's
 * partial sums below 2^53 for any input; outputs are clipped at +-2^31 (+-128 in real units).
 */
public final class FixedPointExport {
    public static final int FIRST_WEIGHT_BITS = 28;
    public static final int WEIGHT_BITS = 20;
    public static final int ACTIVATION_BITS = 16;
    public static final int OUTPUT_BITS = 24;
    public static final long OUTPUT_CLIP = 1L << 31;
    static final int MAX_ACTIVATION_CLIP_BITS = ACTIVATION_BITS + 10;
    static final long PIXEL_MAX = 255;

    private FixedPointExport() {}

    /**
     * @param weights per layer, row-major {@code out x in}; layer 0 acts on the 36 causal inputs / 255
     * @param biases  per layer
     * @param ins     inputs per layer
     */
    public static FixedPointNet export(List<double[]> weights, List<double[]> biases, int[] ins) throws ModelException {
        return export(weights, biases, ins, null);
    }

    /**
     * As {@link #export(List, List, int[])}, with grouped layers: layer l's weights are row-major
     * {@code out x (in / groups[l])} (null: every layer dense).
     */
    public static FixedPointNet export(List<double[]> weights, List<double[]> biases, int[] ins, int[] groups)
            throws ModelException {
        int layers = weights.size();
        int[] g = groups == null ? new int[layers] : groups;
        if (groups == null) {
            java.util.Arrays.fill(g, 1);
        }
        List<long[]> qWeights = new ArrayList<>();
        List<long[]> qBiases = new ArrayList<>();
        int[] shifts = new int[layers];
        for (int l = 0; l < layers; l++) {
            double[] w = weights.get(l);
            double[] b = biases.get(l);
            int inBits = l == 0 ? 0 : ACTIVATION_BITS;
            int wBits = l == 0 ? FIRST_WEIGHT_BITS : WEIGHT_BITS;
            double wScale = l == 0 ? (double) (1L << wBits) / PIXEL_MAX : (double) (1L << wBits);
            long[] qw = new long[w.length];
            for (int i = 0; i < w.length; i++) {
                qw[i] = Math.round(w[i] * wScale);
            }
            long[] qb = new long[b.length];
            for (int i = 0; i < b.length; i++) {
                qb[i] = Math.round(b[i] * (double) (1L << (wBits + inBits)));
            }
            qWeights.add(qw);
            qBiases.add(qb);
            shifts[l] = wBits + inBits - (l == layers - 1 ? OUTPUT_BITS : ACTIVATION_BITS);
        }
        List<FixedPointLayer> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            boolean last = l == layers - 1;
            int outs = qBiases.get(l).length;
            long clip = OUTPUT_CLIP;
            if (!last) {
                FixedPointLayer next = new FixedPointLayer(ins[l + 1], qBiases.get(l + 1).length, qWeights.get(l + 1),
                        qBiases.get(l + 1), 0, false, 1, g[l + 1]);
                clip = 0;
                for (int bits = MAX_ACTIVATION_CLIP_BITS; bits >= ACTIVATION_BITS; bits--) {
                    if (next.worstPartialSum(1L << bits) < FixedPointLayer.EXACT_LIMIT) {
                        clip = 1L << bits;
                        break;
                    }
                }
                if (clip == 0) {
                    throw new ModelException("layer " + (l + 1) + " weights are too large for exact float64 evaluation");
                }
            }
            out.add(new FixedPointLayer(ins[l], outs, qWeights.get(l), qBiases.get(l), shifts[l], !last, clip, g[l]));
        }
        return new FixedPointNet(PIXEL_MAX, out);
    }
}
