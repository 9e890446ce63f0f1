package io.llic.model.l3c;

import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.CodingPlan;
import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.ModelFamily;
import io.llic.prob.MixtureCdf;
import java.util.List;

/**
 * Family {@code l3c} (ALGORITHMS.md C): six convolutional networks (E1, E2, E3, D3, D2, D1 of an
 * {@link L3CStructure}; a seventh, C1, when the image is coded in two checkerboard halves) coded along the {@code l3c-logistic}, {@code l3c-predictive}, {@code l3c-adaptive} or {@code l3c} schedule ({@link L3CPlan}). The structure (channels,
 * residual blocks) is read off the networks themselves, which must match a structure exactly.
 */
public final class L3CFamily implements ModelFamily {
    public static final String FAMILY = "l3c";

    @Override
    public String name() {
        return FAMILY;
    }

    @Override
    public int networks() {
        return 0;
    }

    /**
     * 1024: the plan holds D1's mixture parameters for every pixel of a tile (60 per pixel as longs,
     * and a copy by rows), about 1 KB per pixel, so a 2048 tile would need about 4 GB.
     */
    @Override
    public int defaultTile() {
        return 1024;
    }

    @Override
    public int convNetworks() {
        return L3CStructure.NETWORKS;
    }

    /**
     * Six networks, or seven when the manifest lists seven (a model with the checkerboard context C1,
     * {@link L3CStructure#context()}): the weights file holds what the manifest's
     * {@code fixedPoint.convolutionalNetworks} describes.
     */
    @Override
    public int convNetworks(io.llic.model.ModelManifest manifest) {
        Object fixed = manifest.fixedPoint() == null ? null : manifest.fixedPoint().get("convolutionalNetworks");
        return fixed instanceof List<?> l && l.size() == L3CStructure.NETWORKS + 1 ? l.size() : L3CStructure.NETWORKS;
    }

    @Override
    public void check(List<FixedPointNet> nets, Adaptation adaptation, String where) throws ModelException {
        if (adaptation != null) {
            throw new ModelException(where + ": the l3c family has no adaptation stage");
        }
    }

    /**
     * The structure these networks have: channels from E1's first conv, residual blocks from the length
     * of E1; then every network must have exactly that structure's operations and shapes, the input
     * bounds the plan's inputs need, and parameter outputs the CDF arithmetic takes.
     */
    public static L3CStructure structure(List<FixedPointConvNet> nets, String where) throws ModelException {
        if (nets.size() != L3CStructure.NETWORKS && nets.size() != L3CStructure.NETWORKS + 1) {
            throw new ModelException(where + ": an l3c model has " + L3CStructure.NETWORKS + " networks (or "
                    + (L3CStructure.NETWORKS + 1) + " with the checkerboard context C1), not " + nets.size());
        }
        if (!(nets.get(L3CStructure.E1).ops().get(0) instanceof Conv head)) {
            throw new ModelException(where + ": E1 does not start with a convolution");
        }
        int convs = (int) nets.get(L3CStructure.E1).ops().stream().filter(o -> o instanceof Conv).count();
        // E1: head, stride-2 conv, 2 per block, body conv, latent conv
        int blocks = (convs - 4) / 2;
        L3CStructure shape;
        try {
            shape = new L3CStructure(head.out(), blocks, nets.size() > L3CStructure.NETWORKS);
        } catch (IllegalArgumentException e) {
            throw new ModelException(where + ": " + e.getMessage());
        }
        for (int n = 0; n < shape.networks(); n++) {
            String what = where + ": network " + L3CStructure.NAMES[n];
            FixedPointConvNet net = nets.get(n);
            List<Op> expected = shape.template(n);
            if (net.ops().size() != expected.size()) {
                throw new ModelException(what + " has " + net.ops().size() + " operations; an l3c model of "
                        + shape.channels() + " channels and " + blocks + " blocks has " + expected.size());
            }
            for (int k = 0; k < expected.size(); k++) {
                if (!sameShape(expected.get(k), net.ops().get(k))) {
                    throw new ModelException(what + ": operation " + k + " is not the structure's");
                }
            }
            long[] bounds = net.inputBounds();
            // the channels the plan fills itself: E1's and C1's image samples, the D networks' latent symbols
            boolean pixels = n == L3CStructure.E1 || n == L3CStructure.C1;
            int given = pixels ? 3 : n >= L3CStructure.D3 ? L3CStructure.Z : 0;
            long need = pixels ? 255 : L3CStructure.CENTRE;
            for (int c = 0; c < given; c++) {
                if (bounds[c] < need) {
                    throw new ModelException(what + ": input channel " + c + " has bound " + bounds[c]
                            + ", below the values it takes (" + need + ")");
                }
            }
            if (n >= L3CStructure.D3) {
                Conv last = (Conv) net.ops().get(L3CStructure.lastConv(net.ops()));
                if (last.clip() > MixtureCdf.MAX_PARAM) {
                    throw new ModelException(what + ": parameter clip " + last.clip() + " exceeds " + MixtureCdf.MAX_PARAM
                            + ", the largest parameter the CDF arithmetic takes without overflow");
                }
            }
        }
        // the features a network takes come from the one before it: their bounds must cover them
        requireCovers(nets, L3CStructure.E1, L3CStructure.E2, 0, where);
        requireCovers(nets, L3CStructure.E2, L3CStructure.E3, 0, where);
        requireCovers(nets, L3CStructure.D3, L3CStructure.D2, L3CStructure.Z, where);
        requireCovers(nets, L3CStructure.D2, L3CStructure.D1, L3CStructure.Z, where);
        if (shape.context()) {
            requireCovers(nets, L3CStructure.D1, L3CStructure.C1, 3, where);
        }
        return shape;
    }

    /** The first {@code channels} output channels of {@code from} feed {@code to}'s inputs from {@code at} on. */
    private static void requireCovers(List<FixedPointConvNet> nets, int from, int to, int at, String where)
            throws ModelException {
        FixedPointConvNet a = nets.get(from);
        FixedPointConvNet b = nets.get(to);
        long[] out = a.bounds(a.ops().size());
        long[] in = b.inputBounds();
        for (int c = 0; c + at < in.length; c++) {
            if (in[c + at] < out[c]) {
                throw new ModelException(where + ": network " + L3CStructure.NAMES[to] + "'s input channel " + (c + at)
                        + " has bound " + in[c + at] + ", below what " + L3CStructure.NAMES[from] + " can give (" + out[c] + ")");
            }
        }
    }

    private static boolean sameShape(Op a, Op b) {
        if (a instanceof Conv x && b instanceof Conv y) {
            return x.src() == y.src() && x.in() == y.in() && x.out() == y.out() && x.kernel() == y.kernel()
                    && x.stride() == y.stride() && x.dilation() == y.dilation() && x.activation() == y.activation();
        }
        return a.equals(b);
    }

    @Override
    public void checkConv(List<FixedPointConvNet> nets, String where) throws ModelException {
        structure(nets, where);
    }

    /**
     * {@code l3c-logistic} first (the default): every symbol of z3, z2, z1 and the image under a single
     * logistic learned while coding around the network's mean ({@link L3CLogisticAdaptation}; z3 per channel
     * under the logistic or adaptive counts, whichever has spent less so far); {@code l3c-predictive}:
     * {@code l3c-adaptive} with the mixtures of z2, z1 and the image shifted and scaled while coding
     * ({@link L3CPlaneAdaptation}); {@code l3c-adaptive}: the paper's
     * coding with z3 under adaptive counts per channel, at most about 12 log2(n) bits per channel of n
     * symbols above the uniform prior, far below it when a channel is nearly constant (the pyramid
     * models' channels 3 and 4: about 125 bits on a Kodak image instead of 28,500); {@code l3c}, the
     * paper's uniform z3. The earlier ones stay for the files that name them.
     */
    @Override
    public List<String> schedules() {
        return L3CPlan.SCHEDULES;
    }

    @Override
    public int streams(String schedule) {
        return L3CPlan.STREAMS;
    }

    @Override
    public long leastPayloadBitsQ16(int width, int height) {
        // every image sample has 256 values; the latents' 25 levels are a bound from below too
        return (long) width * height * 3 * 255;
    }

    private static L3CStructure shape(LoadedModel model) {
        try {
            return structure(model.convNets(), model.id());
        } catch (ModelException e) {
            throw new IllegalStateException(e.getMessage(), e); // checked when the model was loaded
        }
    }

    @Override
    public CodingPlan encodingPlan(LoadedModel model, String schedule, RgbImage image, boolean measureUnadapted) {
        checkSchedule(schedule);
        return L3CPlan.encoding(shape(model), model.nets().size(), schedule, image);
    }

    @Override
    public CodingPlan decodingPlan(LoadedModel model, String schedule, int width, int height) {
        checkSchedule(schedule);
        return L3CPlan.decoding(shape(model), model.nets().size(), schedule, width, height);
    }
}
