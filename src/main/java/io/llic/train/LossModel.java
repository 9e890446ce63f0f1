package io.llic.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.engine.PtNDArray;
import io.llic.model.causal.CausalModel;
import java.util.ArrayList;
import java.util.List;

/**
 * The training objective of the causal family with DJL (PyTorch engine): the network in float32,
 * the discretised Gaussian-mixture likelihood (ALGORITHMS.md A.3), in bits.
 *
 * <p>The likelihood of an 8-bit value v is CDF((v+0.5)/255) - CDF((v-0.5)/255), except that the
 * bins of 0 and 255 take the tails, as they do when coding. Mixture weights are a softmax per
 * channel; G's means are shifted by alpha * R and B's by beta * R + gamma * G (true values / 255);
 * standard deviations are bounded below by 0.11/255. The probability is floored at 1e-9.
 *
 * <p>Everything is float32 (PyTorch's casts do not carry gradients in DJL); in the far tails the
 * difference of two CDF values near 1 loses relative precision, as in the reference training code.
 *
 * <p>One instance per thread (it owns a PyTorch manager); not thread-safe.
 */
public final class LossModel implements FamilyLoss {
    static final double P_MIN = 1e-9;
    private static final double LOG2E = 1 / Math.log(2);
    private final CausalNet net;
    private final NDManager base;
    private final int threads;

    /** On the CPU; @param threads PyTorch intra-op threads (0 keeps the engine's setting) */
    public LossModel(CausalNet net, int threads) {
        this(net, threads, "cpu");
    }

    /** @param device DJL device name ("cpu", "gpu0", ...) */
    public LossModel(CausalNet net, int threads, String device) {
        this.net = net;
        this.threads = threads;
        this.base = NDManager.newBaseManager(Device.fromName(device), "PyTorch");
    }

    /** Loss and gradient of one batch: {@code bits} is the summed code length, {@code gradient} of {@code weight * bits}. */
    public record Result(double bits, long subpixels, double[] gradient) {}

    /**
     * Sum of bits of the batch and, if {@code withGradient}, the gradient of {@code weight * bits}
     * with respect to every parameter (flat, in {@link CausalNet} order).
     */
    @Override
    public Result evaluate(double[] params, TrainBatch batch, double weight, boolean withGradient) {
        return evaluate(params, (Batch) batch, weight, withGradient);
    }

    public Result evaluate(double[] params, Batch batch, double weight, boolean withGradient) {
        if (threads > 0) {
            // OpenMP's thread count is per calling thread, and Spark runs this on whichever task thread
            // it has: set it here, or a thread that never set it sums in another order (with 2 threads
            // on 2 cores) and Adam amplifies the rounding, so a resumed run would not end the same
            JniUtils.setNumThreads(threads);
        }
        try (NDManager m = base.newSubManager()) {
            if (!withGradient) {
                return new Result(bits(m, params, batch, false, null).getDouble(), 3L * batch.pixels(), null);
            }
            // Grad mode is per thread in PyTorch, but DJL's GradientCollector allows one per JVM; Spark
            // runs several tasks per executor JVM, so this sets the thread's grad mode directly.
            boolean before = JniUtils.isGradMode();
            JniUtils.setGradMode(true);
            try {
                List<NDArray> leaves = new ArrayList<>();
                NDArray sum = bits(m, params, batch, true, leaves);
                double bits = sum.getDouble();
                NDArray target = sum.mul(Scalars.like(sum, weight));
                JniUtils.backward((PtNDArray) target, (PtNDArray) m.ones(target.getShape(), target.getDataType()),
                        false, false);
                double[] gradient = new double[params.length];
                for (int l = 0; l < net.layers(); l++) {
                    copy(leaves.get(2 * l).getGradient(), gradient, net.weightOffset(l));
                    copy(leaves.get(2 * l + 1).getGradient(), gradient, net.biasOffset(l));
                }
                return new Result(bits, 3L * batch.pixels(), gradient);
            } finally {
                JniUtils.setGradMode(before);
            }
        }
    }

    /** Builds the parameters (recording them in {@code leaves} if gradients are wanted) and returns the summed bits. */
    private NDArray bits(NDManager m, double[] params, Batch batch, boolean withGradient, List<NDArray> leaves) {
        List<NDArray> ws = new ArrayList<>();
        List<NDArray> bs = new ArrayList<>();
        for (int l = 0; l < net.layers(); l++) {
            float[] w = new float[net.out(l) * net.in(l)];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) params[net.weightOffset(l) + i];
            }
            float[] b = new float[net.out(l)];
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) params[net.biasOffset(l) + i];
            }
            NDArray wa = m.create(w, new Shape(net.out(l), net.in(l)));
            NDArray ba = m.create(b, new Shape(net.out(l)));
            if (withGradient) {
                wa.setRequiresGradient(true);
                ba.setRequiresGradient(true);
                leaves.add(wa);
                leaves.add(ba);
            }
            ws.add(wa);
            bs.add(ba);
        }
        float[] features = new float[batch.pixels() * CausalNet.FEATURES];
        CausalNet.features(batch.inputs(), batch.pixels(), features);
        NDArray x = m.create(features, new Shape(batch.pixels(), CausalNet.FEATURES));
        float[] t = new float[batch.targets().length];
        for (int i = 0; i < t.length; i++) {
            t[i] = batch.targets()[i];
        }
        NDArray values = m.create(t, new Shape(batch.pixels(), 3));
        return bits(forward(x, ws, bs), values);
    }

    private static void copy(NDArray grad, double[] into, int offset) {
        float[] g = grad.toFloatArray();
        for (int i = 0; i < g.length; i++) {
            into[offset + i] = g[i];
        }
    }

    private NDArray forward(NDArray x, List<NDArray> ws, List<NDArray> bs) {
        NDArray h = x;
        for (int l = 0; l < ws.size(); l++) {
            h = Linear.linear(h, ws.get(l), bs.get(l)).singletonOrThrow();
            if (l < ws.size() - 1) {
                h = Activation.leakyRelu(h, CausalNet.LEAKY_SLOPE);
            }
        }
        return h;
    }

    /** Summed -log2 p over all sub-pixels, from the network outputs (N x 36) and the true values (N x 3, 0..255). */
    static NDArray bits(NDArray out, NDArray values) {
                long n = out.getShape().get(0);
        int m = CausalModel.MIXTURES;
        NDArray means = out.get(":, 0:9").reshape(n, 3, m);
        NDArray sigma = out.get(":, 9:18").reshape(n, 3, m);
        sigma = sigma.maximum(Scalars.like(sigma, CausalNet.SIGMA_MIN));
        NDArray logw = out.get(":, 18:27").reshape(n, 3, m).logSoftmax(2);
        NDArray alpha = out.get(":, 27:30");
        NDArray beta = out.get(":, 30:33");
        NDArray gamma = out.get(":, 33:36");
        NDArray x = values.div(Scalars.like(values, 255.0));
        NDArray red = x.get(":, 0:1");
        NDArray green = x.get(":, 1:2");
        NDArray muR = means.get(":, 0, :");
        NDArray muG = means.get(":, 1, :").add(alpha.mul(red));
        NDArray muB = means.get(":, 2, :").add(beta.mul(red)).add(gamma.mul(green));
        NDArray mu = NDArrays.stack(new NDList(muR, muG, muB), 1);
        NDArray xs = x.reshape(n, 3, 1);
        NDArray upper = cdf(xs.add(0.5 / 255).sub(mu).div(sigma));
        NDArray lower = cdf(xs.sub(0.5 / 255).sub(mu).div(sigma));
        NDArray top = values.eq(255).toType(DataType.FLOAT32, false).reshape(n, 3, 1);
        NDArray bottom = values.eq(0).toType(DataType.FLOAT32, false).reshape(n, 3, 1);
        upper = upper.mul(top.neg().add(1)).add(top);
        lower = lower.mul(bottom.neg().add(1));
        NDArray p = upper.sub(lower).mul(logw.exp()).sum(new int[] {2});
        return bits(p);
    }

    /** The summed code length in bits of probabilities {@code p}, each floored at {@link #P_MIN}. */
    public static NDArray bits(NDArray p) {
        return p.maximum(Scalars.like(p, P_MIN)).log().neg().sum().mul(Scalars.like(p, LOG2E));
    }

    /** The standard Gaussian CDF of {@code u}, through erf. */
    public static NDArray cdf(NDArray u) {
        return u.div(Scalars.like(u, Math.sqrt(2))).erf().add(1).mul(Scalars.like(u, 0.5));
    }

    @Override
    public void close() {
        base.close();
    }

}
