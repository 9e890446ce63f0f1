package io.llic.runtime;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import io.llic.model.FixedPointLayer;
import io.llic.model.FixedPointNet;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluates a fixed-point network with DJL's PyTorch engine in float64. Inputs, weights and biases
 * are integer-valued and every partial sum is below 2^53 (checked when the net was built), so each
 * matrix product is exact in any summation order; scaling by powers of two and floor are exact too.
 * The integers therefore equal {@link JavaEvaluator}'s on any CPU or GPU, batch size or thread count.
 */
public final class DjlEvaluator implements NetworkEvaluator {
    private final NDManager manager;
    private final List<FixedPointLayer> layers;
    private final List<NDArray> weights = new ArrayList<>();
    private final List<NDArray> biases = new ArrayList<>();
    private final boolean[] needsClip;
    private final FixedPointNet net;
    private final int threads;
    private final int inputs;
    private final int outputs;
    private final String description;
    private Thread threadsSetIn;

    /**
     * @param device  where to run (CPU, or a GPU picked from the task's resources)
     * @param threads PyTorch intra-op threads; 0 keeps the engine's setting
     */
    public DjlEvaluator(FixedPointNet net, Device device, int threads) {
        this.manager = NDManager.newBaseManager(device, "PyTorch"); // loads the engine first
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        this.net = net;
        this.threads = threads;
        this.layers = net.layers();
        this.inputs = net.inputs();
        this.outputs = net.outputs();
        this.needsClip = new boolean[layers.size()];
        long bound = net.inputBound();
        for (int l = 0; l < layers.size(); l++) {
            FixedPointLayer layer = layers.get(l);
            // Weights and bias are stored pre-multiplied by 2^-shift: products and partial sums stay
            // multiples of 2^-shift below 2^(53-shift), hence exact, and floor(result) = acc >> shift.
            double scale = 1.0 / (1L << layer.shift());
            double[] w = new double[layer.weights().length];
            for (int i = 0; i < w.length; i++) {
                w[i] = layer.weights()[i] * scale;
            }
            int g = layer.groups();
            // dense: (out, in) for linear; grouped: (groups, in/groups, out/groups), contiguous, for a
            // batched product
            weights.add(g == 1 ? manager.create(w, new Shape(layer.out(), layer.in()))
                    : manager.create(w, new Shape(g, layer.out() / g, layer.fanIn())).transpose(0, 2, 1).duplicate());
            double[] b = new double[layer.out()];
            for (int o = 0; o < layer.out(); o++) {
                b[o] = layer.bias()[o] * scale;
            }
            biases.add(g == 1 ? manager.create(b, new Shape(layer.out()))
                    : manager.create(b, new Shape(g, 1, layer.out() / g)));
            // the clip is a no-op (and skipped) where interval arithmetic proves |y| <= clip
            long reach = (layer.worstPartialSum(bound) >> layer.shift()) + 1;
            needsClip[l] = reach > layer.clip();
            bound = Math.min(reach, layer.clip());
        }
        this.description = "djl-pytorch(" + device + "," + JniUtils.getNumThreads() + " threads)";
    }

    @Override
    public void evaluate(long[] in, int count, long[] out) {
        if (count == 0) {
            return;
        }
        net.checkInputs(in, count);
        if (threads > 0 && Thread.currentThread() != threadsSetIn) {
            // OpenMP's thread count belongs to the calling thread, and a Spark task may call from a
            // thread other than the one that built this evaluator: set it where the work happens
            JniUtils.setNumThreads(threads);
            threadsSetIn = Thread.currentThread();
        }
        double[] x = new double[count * inputs];
        for (int i = 0; i < x.length; i++) {
            x[i] = in[i];
        }
        float slope = (float) FixedPointLayer.LEAKY_SLOPE / (1 << FixedPointLayer.SLOPE_BITS); // exact: 655 * 2^-16
        try (NDManager batch = manager.newSubManager()) {
            NDArray a = batch.create(x, new Shape(count, inputs));
            // Activations are (count, width), or group-major (groups, count, width / groups) from the
            // first grouped layer on: consecutive grouped layers then multiply without re-laying out
            // (group k of a layer feeds group k of the next), and the order changes only twice.
            int grouped = 1;
            for (int l = 0; l < layers.size(); l++) {
                FixedPointLayer layer = layers.get(l);
                int g = layer.groups();
                if (grouped != g && grouped > 1) {
                    a = a.transpose(1, 0, 2).reshape(count, layer.in());
                    grouped = 1;
                }
                if (g == 1) {
                    a = Linear.linear(a, weights.get(l), biases.get(l)).singletonOrThrow().floor();
                } else {
                    if (grouped != g) {
                        a = a.reshape(count, g, layer.fanIn()).transpose(1, 0, 2).duplicate();
                        grouped = g;
                    }
                    a = a.matMul(weights.get(l)).add(biases.get(l)).floor();
                }
                if (layer.leaky()) {
                    a = Activation.leakyRelu(a, slope).floor(); // y * 655 * 2^-16 is exact, then floored
                }
                if (needsClip[l]) {
                    a = a.clip(-layer.clip(), layer.clip());
                }
            }
            if (grouped > 1) {
                a = a.transpose(1, 0, 2).reshape(count, outputs);
            }
            double[] y = a.toDoubleArray();
            for (int i = 0; i < count * outputs; i++) {
                out[i] = (long) y[i];
            }
        }
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void close() {
        manager.close();
    }
}
