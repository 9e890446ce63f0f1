package io.llic.train.l3c;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointConvNet.Add;
import io.llic.model.FixedPointConvNet.Concat;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import io.llic.model.FixedPointConvNet.Shuffle;
import io.llic.model.FixedPointConvNet.Slice;
import io.llic.model.l3c.L3CStructure;
import io.llic.train.FamilyLoss;
import io.llic.train.LossModel;
import io.llic.train.Scalars;
import io.llic.train.TrainBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * The training objective of the l3c family with DJL (PyTorch engine, float32), in bits: the encoders
 * E1..E3 make the latents (rounded to symbols in the forward pass, the gradient passed straight
 * through), the predictors D3..D1 give the logistic mixtures of z2, z1 and the image; the bits are
 * those of the image's pixels (the valid ones), of z1 and z2 under their mixtures, and log2(25) per
 * symbol of z3 (coded uniformly: a constant). The gradient is that of the bits, except that z1's and
 * z2's bits reach the encoders through the symbols they are the bits of with the batch's
 * {@link L3CBatch#rateWeight} (1 outside a rate warm-up), and that no gradient reaches frozen encoders
 * ({@link L3CBatch#encodersFrozen}). Pixel and latent values are on the codec's scale: a value v of
 * an alphabet of A symbols sits at v / 255 with bins of width 1 / 255 (the edge symbols
 * take the tails), mixture weights are a softmax, sigmas are bounded below by the codec's
 * {@code SIGMA_MIN}, probabilities floored at 1e-9. RGB coupling as the codec: G's means move by
 * {@code c_gr (R - 127) / 255}, B's by {@code c_br (R - 127) / 255 + c_bg (G - 127) / 255}.
 *
 * <p>One instance per thread (it owns a PyTorch manager); not thread-safe.
 */
public final class L3CLoss implements FamilyLoss {
    static final double P_MIN = 1e-9;
    /**
     * The floor of a latent symbol's probability in the loss. The latents are also the targets, and
     * their gradient reaches the encoders straight through the rounding: d(-log p)/dz grows as 1/p,
     * and with a floor of 1e-9 a symbol far in its mixture's tail sent gradients beyond 2^20 per
     * element into every weight of E1 and E2 (3% of the first run's steps). Below 1e-6 (19.9 bits) the
     * loss is flat, so the gradient stays bounded.
     */
    static final double LATENT_P_MIN = 1e-6;
    static final double SIGMA_MIN = 7237.0 / (1 << 24);
    private static final double LOG2E = 1 / Math.log(2);
    private final L3CStructure shape;
    private final NDManager base;
    private final int threads;
    private final List<List<Op>> templates = new ArrayList<>();
    private final int[] lastConv;  // the output conv of each network
    private NDArray[] parts;  // the last evaluation's bits per scale (image, z1, z2, z3), while its manager lives
    private final double[] lastScaleBits = new double[4];

    /** @param threads PyTorch intra-op threads (0 keeps the engine's setting); @param device "cpu", "gpu0", ... */
    public L3CLoss(L3CStructure shape, int threads, String device) {
        this.shape = shape;
        this.threads = threads;
        this.base = NDManager.newBaseManager(Device.fromName(device), "PyTorch");
        this.lastConv = new int[shape.networks()];
        for (int net = 0; net < shape.networks(); net++) {
            templates.add(shape.template(net));
            lastConv[net] = L3CStructure.lastConv(templates.get(net));
        }
    }

    /**
     * Evaluations of one batch: a gradient that comes back non-finite from a finite loss is computed
     * again, up to this many times in all. A guard: two causes of such gradients are fixed (scalars
     * freed by the garbage collector before the backward pass, {@link Scalars}; PyTorch's convolution
     * reading uninitialised channel padding, {@link #conv}), so a recomputation means something new is
     * wrong, hence the warning. The trainer still skips a step whose gradient stays non-finite.
     */
    static final int GRADIENT_ATTEMPTS = 3;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(L3CLoss.class);
    private long recomputed;

    @Override
    public LossModel.Result evaluate(double[] params, TrainBatch batch, double weight, boolean withGradient) {
        for (int attempt = 1; ; attempt++) {
            LossModel.Result r = evaluateOnce(params, batch, weight, withGradient);
            if (!withGradient || attempt == GRADIENT_ATTEMPTS || !Double.isFinite(r.bits()) || finite(r.gradient())) {
                return r;
            }
            recomputed++;
            LOG.warn("l3c: a non-finite gradient for a finite loss ({} bits), not expected (both known causes are"
                    + " fixed; see L3CLoss.conv): computed again ({} such recomputations by this loss)", r.bits(), recomputed);
        }
    }

    private static boolean finite(double[] g) {
        for (double v : g) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    LossModel.Result evaluateOnce(double[] params, TrainBatch batch, double weight, boolean withGradient) {
        L3CBatch b = (L3CBatch) batch;
        if (threads > 0) {
            JniUtils.setNumThreads(threads); // per calling thread (see LossModel)
        }
        try (NDManager m = base.newSubManager()) {
            boolean before = JniUtils.isGradMode();
            JniUtils.setGradMode(withGradient);
            try {
                NDArray[][] leaves = new NDArray[shape.networks()][];
                for (int net = 0; net < shape.networks(); net++) {
                    leaves[net] = parameters(m, params, net, withGradient && learns(net, b));
                }
                NDArray sum = bits(m, b, leaves);
                double bits = sum.getDouble();
                for (int i = 0; i < parts.length; i++) {
                    lastScaleBits[i] = parts[i].toType(DataType.FLOAT64, false).getDouble();
                }
                if (!withGradient) {
                    return new LossModel.Result(bits, batch.subpixels(), null);
                }
                NDArray target = sum.mul(Scalars.like(sum, weight));
                JniUtils.backward((PtNDArray) target, (PtNDArray) m.ones(target.getShape(), target.getDataType()), false,
                        false);
                double[] gradient = new double[params.length];
                for (int net = 0; net < shape.networks(); net++) {
                    if (!learns(net, b)) {
                        continue; // a frozen encoder: its gradient stays 0
                    }
                    int at = shape.offset(net);
                    for (NDArray leaf : leaves[net]) {
                        NDArray g = leaf.getGradient();
                        float[] v = g.toFloatArray();
                        for (int i = 0; i < v.length; i++) {
                            gradient[at + i] = v[i];
                        }
                        at += v.length;
                    }
                }
                return new LossModel.Result(bits, batch.subpixels(), gradient);
            } finally {
                JniUtils.setGradMode(before);
            }
        }
    }

    private static boolean learns(int net, L3CBatch b) {
        return net > L3CStructure.E3 || !b.encodersFrozen();
    }

    /** Each conv's weights and bias of network {@code net}, in order, as tensors. */
    private NDArray[] parameters(NDManager m, double[] params, int net, boolean withGradient) {
        List<NDArray> out = new ArrayList<>();
        int at = shape.offset(net);
        for (Op op : templates.get(net)) {
            if (op instanceof Conv c) {
                int n = c.weights().length;
                out.add(leaf(m, params, at, new Shape(c.out(), c.in(), c.kernel(), c.kernel()), withGradient));
                at += n;
                out.add(leaf(m, params, at, new Shape(c.out()), withGradient));
                at += c.out();
            }
        }
        return out.toArray(new NDArray[0]);
    }

    private static NDArray leaf(NDManager m, double[] params, int offset, Shape shape, boolean withGradient) {
        float[] f = new float[(int) shape.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) params[offset + i];
        }
        NDArray a = m.create(f, shape);
        if (withGradient) {
            a.setRequiresGradient(true);
        }
        return a;
    }

    /** Spatial convolutions are computed with channel counts in multiples of this many (see {@link #conv}). */
    static final int CHANNEL_BLOCK = 16;

    /**
     * Convolution {@code c} of {@code x} with weights {@code w} and bias {@code b}. A convolution with
     * a kernel wider than 1 is computed with its input and output channels made up to multiples of
     * {@link #CHANNEL_BLOCK} by zero channels and zero filters, the extra outputs dropped: the same
     * values and gradients. The reason is PyTorch 2.7.1's CPU convolution (oneDNN 3.7.1): it stores
     * such tensors in blocks of 16 channels (8 on AVX2) and, when the count is not a multiple, reads the
     * last block's padding uninitialised: a 16 to 8 channel 3x3 convolution's input gradient came out
     * non-finite in some repeats of the same evaluation, and finite but wrong (by up to 12 in 40) in
     * 293 of 300 repeats with two intra-op threads; a 24-channel model's loss was NaN. Multiples of 16
     * are never padded. The image's 3 channels are left as they are: oneDNN reads so few input
     * channels in the plain layout (no padding), and the image needs no gradient.
     */
    static NDArray conv(NDArray x, Conv c, NDArray w, NDArray b) {
        int extraIn = c.kernel() > 1 && c.in() != 3 ? Math.floorMod(-c.in(), CHANNEL_BLOCK) : 0;
        int extraOut = c.kernel() > 1 ? Math.floorMod(-c.out(), CHANNEL_BLOCK) : 0;
        NDManager m = w.getManager();
        if (extraIn > 0) {
            Shape s = x.getShape();
            x = x.concat(m.zeros(new Shape(s.get(0), extraIn, s.get(2), s.get(3)), x.getDataType()), 1);
            w = w.concat(m.zeros(new Shape(c.out(), extraIn, c.kernel(), c.kernel()), w.getDataType()), 1);
        }
        if (extraOut > 0) {
            w = w.concat(m.zeros(new Shape(extraOut, c.in() + extraIn, c.kernel(), c.kernel()), w.getDataType()), 0);
            b = b.concat(m.zeros(new Shape(extraOut), b.getDataType()), 0);
        }
        NDArray y = Conv2d.conv2d(x, w, b, new Shape(c.stride(), c.stride()), new Shape(c.padding(), c.padding()),
                new Shape(c.dilation(), c.dilation())).singletonOrThrow();
        return extraOut > 0 ? y.get(":, 0:" + c.out()) : y;
    }

    /** Runs network {@code net} in float on {@code input}; returns its output tensor. */
    NDArray run(int net, NDArray input, NDArray[] p) {
        List<Op> ops = templates.get(net);
        NDArray[] t = new NDArray[ops.size() + 1];
        t[0] = input;
        int k = 0;
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            NDArray y;
            if (op instanceof Conv c) {
                y = conv(t[c.src()], c, p[k], p[k + 1]);
                k += 2;
                if (c.activation() == FixedPointConvNet.RELU) {
                    y = Activation.relu(y);
                } else if (c.activation() == FixedPointConvNet.LEAKY) {
                    y = Activation.leakyRelu(y, 0.01f);
                }
                // the export's clips, in float: values stay finite, and training sees what the codec computes
                double limit = L3CStructure.clipInFloat(net, i == lastConv[net]);
                y = y.clip(-limit, limit);
            } else if (op instanceof Add a) {
                y = t[a.a()].add(t[a.b()]);
            } else if (op instanceof Shuffle s) {
                Shape sh = t[s.src()].getShape();
                long n = sh.get(0);
                long c = sh.get(1) / 4;
                long h = sh.get(2);
                long w = sh.get(3);
                y = t[s.src()].reshape(n, c, 2, 2, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c, 2 * h, 2 * w);
            } else if (op instanceof Concat c) {
                y = t[c.a()].concat(t[c.b()], 1);
            } else {
                Slice s = (Slice) op;
                y = t[s.src()].get(":, " + s.from() + ":" + s.to());
            }
            t[i + 1] = y;
        }
        return t[ops.size()];
    }

    /** Summed bits of the batch. */
    private NDArray bits(NDManager m, L3CBatch b, NDArray[][] p) {
        int n = b.count();
        int h = b.height();
        int w = b.width();
        int c = shape.channels();
        float[] x = new float[b.planes().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = b.planes()[i] & 0xFF;
        }
        NDArray pixels = m.create(x, new Shape(n, 3, h, w));
        NDArray e1 = run(L3CStructure.E1, pixels.div(Scalars.like(pixels, 1 << L3CStructure.IMAGE_FRACTION)), p[L3CStructure.E1]);
        NDArray f1 = e1.get(":, 0:" + c);
        NDArray z1 = quantise(e1.get(":, " + c + ":"));
        NDArray e2 = run(L3CStructure.E2, f1, p[L3CStructure.E2]);
        NDArray f2 = e2.get(":, 0:" + c);
        NDArray z2 = quantise(e2.get(":, " + c + ":"));
        NDArray z3 = quantise(run(L3CStructure.E3, f2, p[L3CStructure.E3]));
        double zIn = 1.0 / (1 << L3CStructure.Z_FRACTION);
        NDArray d3 = run(L3CStructure.D3, z3.mul(Scalars.like(z3, zIn)), p[L3CStructure.D3]);
        NDArray g3 = d3.get(":, 0:" + c);
        NDArray z2Bits = latentBits(d3.get(":, " + c + ":"), towardsEncoders(z2, b.rateWeight()));
        NDArray d2 = run(L3CStructure.D2, z2.mul(Scalars.like(z2, zIn)).concat(g3, 1), p[L3CStructure.D2]);
        NDArray g2 = d2.get(":, 0:" + c);
        NDArray z1Bits = latentBits(d2.get(":, " + c + ":"), towardsEncoders(z1, b.rateWeight()));
        NDArray d1 = run(L3CStructure.D1, z1.mul(Scalars.like(z1, zIn)).concat(g2, 1), p[L3CStructure.D1]);
        NDArray imageBits;
        if (shape.context()) {
            // the first checkerboard half under D1's mixtures, the second under C1's, which sees the first
            float[] first = new float[h * w];
            for (int y = 0; y < h; y++) {
                for (int x0 = 0; x0 < w; x0++) {
                    first[y * w + x0] = L3CStructure.anchor(y, x0) ? 1 : 0;
                }
            }
            NDArray anchors = m.create(first, new Shape(1, 1, h, w));
            NDArray second = anchors.neg().add(1);
            NDArray seen = pixels.mul(anchors).div(Scalars.like(pixels, 1 << L3CStructure.IMAGE_FRACTION));
            NDArray c1 = run(L3CStructure.C1, seen.concat(d1.get(":, 0:" + c), 1), p[L3CStructure.C1]);
            imageBits = imageBits(m, d1.get(":, " + c + ":"), pixels, b, anchors)
                    .add(imageBits(m, c1, pixels, b, second));
        } else {
            imageBits = imageBits(m, d1, pixels, b, null);
        }
        double uniform = (double) n * L3CStructure.Z * (h / 8) * (w / 8) * Math.log(L3CStructure.LEVELS) * LOG2E;
        parts = new NDArray[] {imageBits, z1Bits, z2Bits, m.create((float) uniform)};
        return imageBits.add(z1Bits).add(z2Bits).add(uniform);
    }

    /** The last evaluation's bits by scale: the image, z1, z2, z3 (whose sum is its bits). */
    public double[] lastScaleBits() {
        return lastScaleBits.clone();
    }

    /** z itself going forward (exactly: z - z is 0), its gradient scaled by w going back. */
    private static NDArray towardsEncoders(NDArray z, double w) {
        return w == 1 ? z : z.add(z.sub(z.stopGradient()).mul(Scalars.like(z, w - 1)));
    }

    /** Rounded to the nearest level in [-12, 12] going forward, the identity going back. */
    private static NDArray quantise(NDArray u) {
        NDArray hard = u.round().clip(-L3CStructure.CENTRE, L3CStructure.CENTRE);
        return u.add(hard.sub(u).stopGradient());
    }

    /** Bits of latent symbols z (levels -12..12, (n, Z, h, w)) under parameters (n, 3 Z K, h, w). */
    private static NDArray latentBits(NDArray params, NDArray z) {
        Shape s = z.getShape();
        long n = s.get(0);
        long h = s.get(2);
        long w = s.get(3);
        int k = L3CStructure.MIXTURES;
        NDArray q = params.reshape(n, L3CStructure.Z, 3, k, h, w);
        NDArray v = z.add(L3CStructure.CENTRE).div(Scalars.like(z, 255.0)).reshape(n, L3CStructure.Z, 1, h, w);
        NDArray low = z.eq(-L3CStructure.CENTRE).toType(DataType.FLOAT32, false).reshape(n, L3CStructure.Z, 1, h, w);
        NDArray high = z.eq(L3CStructure.CENTRE).toType(DataType.FLOAT32, false).reshape(n, L3CStructure.Z, 1, h, w);
        NDArray p = probability(q.get(":, :, " + L3CStructure.MEAN), q.get(":, :, " + L3CStructure.SIGMA),
                q.get(":, :, " + L3CStructure.LOGIT), v, low, high, 2);
        return p.add(LATENT_P_MIN).log().neg().sum().mul(Scalars.like(p, LOG2E));
    }

    /** Bits of the valid pixels (those where {@code select}, (1, 1, H, W), is 1, if given) under parameters (n, 12 K, H, W). */
    private static NDArray imageBits(NDManager m, NDArray params, NDArray pixels, L3CBatch b, NDArray select) {
        long n = b.count();
        long h = b.height();
        long w = b.width();
        int k = L3CStructure.MIXTURES;
        NDArray q = params.get(":, 0:" + L3CStructure.COUPLING).reshape(n, 3, 3, k, h, w);
        NDArray coupling = params.get(":, " + L3CStructure.COUPLING + ":").reshape(n, 3, k, h, w);
        NDArray r = pixels.get(":, 0:1").sub(127).div(Scalars.like(pixels, 255.0));
        NDArray g = pixels.get(":, 1:2").sub(127).div(Scalars.like(pixels, 255.0));
        NDArray mean = q.get(":, :, " + L3CStructure.MEAN);                    // (n, 3, k, h, w)
        NDArray muR = mean.get(":, 0");
        NDArray muG = mean.get(":, 1").add(coupling.get(":, 0").mul(r));
        NDArray muB = mean.get(":, 2").add(coupling.get(":, 1").mul(r)).add(coupling.get(":, 2").mul(g));
        NDArray mu = NDArrays.stack(new NDList(muR, muG, muB), 1);
        NDArray v = pixels.div(Scalars.like(pixels, 255.0)).reshape(n, 3, 1, h, w);
        NDArray low = pixels.eq(0).toType(DataType.FLOAT32, false).reshape(n, 3, 1, h, w);
        NDArray high = pixels.eq(255).toType(DataType.FLOAT32, false).reshape(n, 3, 1, h, w);
        NDArray p = probability(mu, q.get(":, :, " + L3CStructure.SIGMA), q.get(":, :, " + L3CStructure.LOGIT), v, low,
                high, 2);
        NDArray bits = p.maximum(Scalars.like(p, P_MIN)).log().neg().mul(Scalars.like(p, LOG2E));                   // (n, 3, h, w)
        if (b.validHeight() < h || b.validWidth() < w) {
            float[] mask = new float[(int) (h * w)];
            for (int y = 0; y < b.validHeight(); y++) {
                for (int x = 0; x < b.validWidth(); x++) {
                    mask[(int) (y * w + x)] = 1;
                }
            }
            bits = bits.mul(m.create(mask, new Shape(1, 1, h, w)));
        }
        if (select != null) {
            bits = bits.mul(select);
        }
        return bits.sum();
    }

    /**
     * The probability of the bin of value v (width 1/255) under a logistic mixture along {@code axis}
     * (means, sigmas, logits: (..., K, ...)); {@code low}/{@code high} mark the edge symbols, whose
     * bins extend to -inf / +inf.
     */
    private static NDArray probability(NDArray mean, NDArray sigma, NDArray logit, NDArray v, NDArray low, NDArray high,
                                       int axis) {
        NDArray s = sigma.maximum(Scalars.like(sigma, SIGMA_MIN));
        NDArray upper = Activation.sigmoid(v.add(0.5 / 255).sub(mean).div(s));
        NDArray lower = Activation.sigmoid(v.sub(0.5 / 255).sub(mean).div(s));
        upper = upper.mul(high.neg().add(1)).add(high);
        lower = lower.mul(low.neg().add(1));
        return upper.sub(lower).mul(logit.logSoftmax(axis).exp()).sum(new int[] {axis});
    }

    @Override
    public void close() {
        base.close();
    }
}
