package io.llic.train.interp;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.llic.model.interp.InterpModel;
import io.llic.train.LossModel;
import io.llic.train.LossModel.Result;
import java.util.ArrayList;
import java.util.List;

/**
 * The training objective of the interp family with DJL (PyTorch engine), in bits: for every band,
 * the network in float32 (grouped layers as batched products), then the discretised 5-component
 * Gaussian mixture of Y, Co, Cg with the coupling of ALGORITHMS.md B.5 (Co's means move by
 * {@code a (Y - 127)/255}, Cg's by {@code b (Y - 127)/255 + d Co/255}, true values), bins of width
 * 1/255; Y's bins 0 and 255 take the tails, as they do when coding. Mixture weights are a softmax
 * (as the codec's {@code MixtureCdf}); sigma is bounded below by 0.11/255; probabilities are
 * floored at 1e-9.
 *
 * <p>One instance per thread (it owns a PyTorch manager); not thread-safe.
 */
public final class InterpLoss implements io.llic.train.FamilyLoss {
    private final InterpNet net;
    private final NDManager base;
    private final int threads;

    /** @param threads PyTorch intra-op threads (0 keeps the engine's setting); @param device "cpu", "gpu0", ... */
    public InterpLoss(InterpNet net, int threads, String device) {
        this.net = net;
        this.threads = threads;
        this.base = NDManager.newBaseManager(Device.fromName(device), "PyTorch");
    }

    @Override
    public Result evaluate(double[] params, io.llic.train.TrainBatch batch, double weight, boolean withGradient) {
        return evaluate(params, (InterpBatch) batch, weight, withGradient);
    }

    /** Summed bits of the batch and, if asked, the gradient of {@code weight * bits} (flat, {@link InterpNet} order). */
    public Result evaluate(double[] params, InterpBatch batch, double weight, boolean withGradient) {
        if (threads > 0) {
            JniUtils.setNumThreads(threads); // per calling thread (see LossModel)
        }
        try (NDManager m = base.newSubManager()) {
            boolean before = JniUtils.isGradMode();
            JniUtils.setGradMode(withGradient);
            try {
                List<NDArray> leaves = new ArrayList<>();
                NDArray sum = null;
                for (int band = 0; band < 3; band++) {
                    if (batch.count()[band] == 0) {
                        continue;
                    }
                    NDArray bits = bandBits(m, params, band, batch, withGradient, leaves);
                    sum = sum == null ? bits : sum.add(bits);
                }
                if (sum == null) {
                    return new Result(0, 0, withGradient ? new double[params.length] : null);
                }
                double bits = sum.getDouble();
                if (!withGradient) {
                    return new Result(bits, batch.subpixels(), null);
                }
                NDArray target = sum.mul(io.llic.train.Scalars.like(sum, weight));
                JniUtils.backward((PtNDArray) target, (PtNDArray) m.ones(target.getShape(), target.getDataType()), false,
                        false);
                double[] gradient = new double[params.length];
                int k = 0;
                for (int band = 0; band < 3; band++) {
                    if (batch.count()[band] == 0) {
                        continue;
                    }
                    for (int l = 0; l < 3; l++) {
                        copy(leaves.get(k++).getGradient(), gradient, net.weightOffset(band, l));
                        copy(leaves.get(k++).getGradient(), gradient, net.biasOffset(band, l));
                    }
                }
                return new Result(bits, batch.subpixels(), gradient);
            } finally {
                JniUtils.setGradMode(before);
            }
        }
    }

    private NDArray bandBits(NDManager m, double[] params, int band, InterpBatch batch, boolean withGradient,
                             List<NDArray> leaves) {
        int n = batch.count()[band];
        int h = net.hidden();
        int g = InterpNet.GROUPS;
        NDArray[] w = new NDArray[3];
        NDArray[] b = new NDArray[3];
        for (int l = 0; l < 3; l++) {
            w[l] = param(m, params, net.weightOffset(band, l), net.weightCount(band, l), withGradient, leaves);
            b[l] = param(m, params, net.biasOffset(band, l), net.out(l), withGradient, leaves);
        }
        NDArray x = m.create(batch.inputs()[band], new Shape(n, InterpModel.inputs(band)));
        NDArray h0 = Activation.leakyRelu(Linear.linear(x, w[0].reshape(g * h, InterpModel.inputs(band)), b[0])
                .singletonOrThrow(), InterpNet.LEAKY_SLOPE);
        NDArray h1 = Activation.leakyRelu(grouped(h0, w[1], b[1], n, g, h, h), InterpNet.LEAKY_SLOPE);
        NDArray out = grouped(h1, w[2], b[2], n, g, h, InterpModel.OUTPUTS / g);
        int[] t = batch.targets()[band];
        float[] v = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            v[i] = t[i];
        }
        return bits(out, m.create(v, new Shape(n, 3)));
    }

    /** A grouped layer: (n, g*in) x per-group (out, in) weights -> (n, g*out), plus bias. */
    private static NDArray grouped(NDArray x, NDArray w, NDArray b, int n, int g, int in, int out) {
        NDArray parts = x.reshape(n, g, in).transpose(1, 0, 2);                 // (g, n, in)
        NDArray y = parts.matMul(w.reshape(g, out, in).transpose(0, 2, 1));      // (g, n, out)
        return y.transpose(1, 0, 2).reshape(n, (long) g * out).add(b);
    }

    private static NDArray param(NDManager m, double[] params, int offset, int count, boolean withGradient,
                                 List<NDArray> leaves) {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) {
            f[i] = (float) params[offset + i];
        }
        NDArray a = m.create(f, new Shape(count));
        if (withGradient) {
            a.setRequiresGradient(true);
            leaves.add(a);
        }
        return a;
    }

    private static void copy(NDArray grad, double[] into, int offset) {
        float[] g = grad.toFloatArray();
        for (int i = 0; i < g.length; i++) {
            into[offset + i] = g[i];
        }
    }

    /** Summed -log2 p of the samples, from the outputs (n x 60) and the true Y, Co, Cg (n x 3). */
    static NDArray bits(NDArray out, NDArray values) {
        long n = out.getShape().get(0);
        int mix = InterpModel.MIXTURES;
        NDArray sigma = out.get(":, 0:15").reshape(n, 3, mix);
        sigma = sigma.maximum(io.llic.train.Scalars.like(sigma, InterpNet.SIGMA_MIN));
        NDArray means = out.get(":, 15:30").reshape(n, 3, mix);
        NDArray logw = out.get(":, 30:45").reshape(n, 3, mix).logSoftmax(2);
        NDArray a = out.get(":, 45:50");
        NDArray bb = out.get(":, 50:55");
        NDArray d = out.get(":, 55:60");
        NDArray y = values.get(":, 0:1").sub(InterpModel.Y_ZERO).div(io.llic.train.Scalars.like(values, 255.0));
        NDArray co = values.get(":, 1:2").div(io.llic.train.Scalars.like(values, 255.0));
        NDArray cg = values.get(":, 2:3").div(io.llic.train.Scalars.like(values, 255.0));
        NDArray muY = means.get(":, 0, :");
        NDArray muCo = means.get(":, 1, :").add(a.mul(y));
        NDArray muCg = means.get(":, 2, :").add(bb.mul(y)).add(d.mul(co));
        NDArray mu = NDArrays.stack(new NDList(muY, muCo, muCg), 1);
        NDArray x = NDArrays.concat(new NDList(y, co, cg), 1).reshape(n, 3, 1);
        NDArray upper = LossModel.cdf(x.add(0.5 / 255).sub(mu).div(sigma));
        NDArray lower = LossModel.cdf(x.sub(0.5 / 255).sub(mu).div(sigma));
        // Y's edge bins take the tails (values 0 and 255); chroma's edges are per image and rarely hit
        NDArray yv = values.get(":, 0:1");
        NDArray zero = m0(yv.eq(0).toType(DataType.FLOAT32, false), n);
        NDArray full = m0(yv.eq(255).toType(DataType.FLOAT32, false), n);
        upper = upper.mul(full.neg().add(1)).add(full);
        lower = lower.mul(zero.neg().add(1));
        NDArray p = upper.sub(lower).mul(logw.exp()).sum(new int[] {2});
        return LossModel.bits(p);
    }

    /** A per-sample Y flag as a (n, 3, 1) mask that applies to the Y channel only. */
    private static NDArray m0(NDArray flag, long n) {
        NDArray zeros = flag.zerosLike();
        return NDArrays.concat(new NDList(flag, zeros, zeros), 1).reshape(n, 3, 1);
    }

    @Override
    public void close() {
        base.close();
    }
}
