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
import java.util.Map;

/**
 * Evaluates a fixed-point network with DJL's PyTorch engine in float64. Inputs, weights and biases
 * are integer-valued and every partial sum is below 2^53 (checked when the net was built), so each
 * matrix product is exact in any summation order; scaling by powers of two and floor are exact too.
 * The integers therefore equal {@link JavaEvaluator}'s on any CPU or GPU, batch size or thread count.
 */
public final class DjlEvaluator implements NetworkEvaluator {
    /**
     * Networks whose weights are on a device once per JVM, shared by every evaluator made with
     * {@link #sharing}: an executor keeps one copy of a model per device whatever number of tasks use
     * it (tensors are only read while evaluating, which PyTorch allows from several threads).
     */
    private static final Map<FixedPointNet, Map<Device, DeviceNet>> SHARED =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private final NDManager manager;
    private final DeviceNet weights;
    private final FixedPointNet net;
    private final int threads;
    private final int inputs;
    private final int outputs;
    private final String description;

    /**
     * An evaluator with its own copy of the weights (closed with it).
     *
     * @param device  where to run (CPU, or a GPU picked from the task's resources)
     * @param threads PyTorch intra-op threads; 0 keeps the engine's setting
     */
    public DjlEvaluator(FixedPointNet net, Device device, int threads) {
        this(net, device, threads, null);
    }

    private DjlEvaluator(FixedPointNet net, Device device, int threads, DeviceNet shared) {
        this.manager = NDManager.newBaseManager(device, "PyTorch"); // loads the engine first
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        this.net = net;
        this.threads = threads;
        this.inputs = net.inputs();
        this.outputs = net.outputs();
        this.weights = shared != null ? shared : new DeviceNet(net, manager);
        this.description = "djl-pytorch(" + device + "," + JniUtils.getNumThreads() + " threads)";
    }

    /**
     * An evaluator that uses the JVM's one copy of {@code net}'s weights on {@code device}, put there
     * by the first call. Closing it frees only its own working memory.
     */
    public static DjlEvaluator sharing(FixedPointNet net, Device device, int threads) {
        DeviceNet shared;
        synchronized (SHARED) {
            shared = SHARED.computeIfAbsent(net, k -> new java.util.concurrent.ConcurrentHashMap<>())
                    .computeIfAbsent(device, d -> new DeviceNet(net, NDManager.newBaseManager(d, "PyTorch")));
        }
        return new DjlEvaluator(net, device, threads, shared);
    }

    /** Frees every shared copy (at JVM shutdown; evaluators made with {@link #sharing} must not be used after). */
    public static void closeShared() {
        synchronized (SHARED) {
            for (Map<Device, DeviceNet> m : SHARED.values()) {
                for (DeviceNet d : m.values()) {
                    d.manager.close();
                }
            }
            SHARED.clear();
        }
    }

    /** Copies of {@code net}'s weights shared on {@code device} in this JVM (for tests and logs). */
    public static int sharedCopies(FixedPointNet net) {
        Map<Device, DeviceNet> m = SHARED.get(net);
        return m == null ? 0 : m.size();
    }

    /** One network's weights and biases as tensors on a device, and which layers need their clip. */
    private static final class DeviceNet {
        final List<NDArray> weights = new ArrayList<>();
        final List<NDArray> biases = new ArrayList<>();
        final List<FixedPointLayer> layers;
        final boolean[] needsClip;
        final NDManager manager;

        DeviceNet(FixedPointNet net, NDManager manager) {
            this.manager = manager;
            this.layers = net.layers();
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
        }
    }

    @Override
    public void evaluate(long[] in, int count, long[] out) {
        if (count == 0) {
            return;
        }
        net.checkInputs(in, count);
        if (threads > 0 && JniUtils.getNumThreads() != threads) {
            // OpenMP's thread count belongs to the calling thread, a Spark task may call from a thread
            // other than the one that built this evaluator, and another evaluator (a tile thread's set
            // of one thread) may have set it on this thread since: set it where the work happens
            JniUtils.setNumThreads(threads);
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
            List<FixedPointLayer> layers = weights.layers;
            for (int l = 0; l < layers.size(); l++) {
                FixedPointLayer layer = layers.get(l);
                int g = layer.groups();
                if (grouped != g && grouped > 1) {
                    a = a.transpose(1, 0, 2).reshape(count, layer.in());
                    grouped = 1;
                }
                if (g == 1) {
                    a = Linear.linear(a, weights.weights.get(l), weights.biases.get(l)).singletonOrThrow().floor();
                } else {
                    if (grouped != g) {
                        a = a.reshape(count, g, layer.fanIn()).transpose(1, 0, 2).duplicate();
                        grouped = g;
                    }
                    a = a.matMul(weights.weights.get(l)).add(weights.biases.get(l)).floor();
                }
                if (layer.leaky()) {
                    a = Activation.leakyRelu(a, slope).floor(); // y * 655 * 2^-16 is exact, then floored
                }
                if (weights.needsClip[l]) {
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
