package io.llic.runtime;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.jni.JniUtils;
import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointConvNet.Add;
import io.llic.model.FixedPointConvNet.Concat;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import io.llic.model.FixedPointConvNet.Shuffle;
import io.llic.model.FixedPointConvNet.Slice;
import io.llic.model.FixedPointLayer;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluates a {@link FixedPointConvNet} with DJL's PyTorch engine in float64. Weights and biases are
 * stored times 2^-shift, so every product and partial sum is a multiple of 2^-shift below 2^(53-shift)
 * (the net's load-time bound): exact in any summation order, and floor gives the definition's integer.
 * On the CPU, PyTorch computes float64 convolutions as matrix products (no Winograd or FFT kernels
 * exist for float64 there); on a GPU, cuDNN may choose FFT or Winograd algorithms, which are not exact,
 * so this evaluator runs on the CPU only until a GPU path is verified bit-exact.
 */
public final class DjlConvEvaluator implements ConvEvaluator {
    private final FixedPointConvNet net;
    private final NDManager manager;
    private final int threads;
    private final List<NDArray> weights = new ArrayList<>();
    private final List<NDArray> biases = new ArrayList<>();
    private Thread threadsSetIn;

    /** @param threads PyTorch intra-op threads; 0 keeps the engine's setting */
    public DjlConvEvaluator(FixedPointConvNet net, int threads) {
        this.net = net;
        this.threads = threads;
        this.manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        for (Op op : net.ops()) {
            if (op instanceof Conv c) {
                double scale = 1.0 / (1L << c.shift());
                double[] w = new double[c.weights().length];
                for (int i = 0; i < w.length; i++) {
                    w[i] = c.weights()[i] * scale;
                }
                double[] b = new double[c.out()];
                for (int i = 0; i < b.length; i++) {
                    b[i] = c.bias()[i] * scale;
                }
                weights.add(manager.create(w, new Shape(c.out(), c.in(), c.kernel(), c.kernel())));
                biases.add(manager.create(b, new Shape(c.out())));
            } else {
                weights.add(null);
                biases.add(null);
            }
        }
    }

    @Override
    public FixedPointConvNet net() {
        return net;
    }

    @Override
    public long[] evaluate(long[] input, int height, int width) {
        if (!net.fits(height, width)) {
            throw new IllegalArgumentException("a " + width + "x" + height + " input does not fit this network's strides");
        }
        int plane = height * width;
        net.checkInput(input, plane);
        if (threads > 0 && Thread.currentThread() != threadsSetIn) {
            JniUtils.setNumThreads(threads);
            threadsSetIn = Thread.currentThread();
        }
        int channels = net.inputChannels();
        double[] x = new double[channels * plane];
        for (int i = 0; i < x.length; i++) {
            x[i] = input[i];
        }
        float slope = (float) FixedPointLayer.LEAKY_SLOPE / (1 << FixedPointLayer.SLOPE_BITS); // exact: 655 * 2^-16
        int n = net.ops().size();
        try (NDManager scope = manager.newSubManager()) {
            NDArray[] t = new NDArray[n + 1];
            t[0] = scope.create(x, new Shape(1, channels, height, width));
            for (int k = 0; k < n; k++) {
                Op op = net.ops().get(k);
                NDArray y;
                if (op instanceof Conv c) {
                    y = Conv2d.conv2d(t[c.src()], weights.get(k), biases.get(k), new Shape(c.stride(), c.stride()),
                            new Shape(c.padding(), c.padding()), new Shape(c.dilation(), c.dilation()), 1)
                            .singletonOrThrow().floor();
                    if (c.activation() == FixedPointConvNet.RELU) {
                        y = Activation.relu(y);
                    } else if (c.activation() == FixedPointConvNet.LEAKY) {
                        y = Activation.leakyRelu(y, slope).floor(); // y * 655 * 2^-16 is exact, then floored
                    }
                    if (net.needsClip(k)) {
                        y = y.clip(-c.clip(), c.clip());
                    }
                } else if (op instanceof Add a) {
                    y = t[a.a()].add(t[a.b()]);
                } else if (op instanceof Shuffle p) {
                    Shape s = t[p.src()].getShape();
                    long c = s.get(1) / 4;
                    long h = s.get(2);
                    long w = s.get(3);
                    y = t[p.src()].reshape(1, c, 2, 2, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(1, c, 2 * h, 2 * w);
                } else if (op instanceof Concat c) {
                    y = t[c.a()].concat(t[c.b()], 1);
                } else {
                    Slice s = (Slice) op;
                    y = t[s.src()].get(":, " + s.from() + ":" + s.to());
                }
                t[k + 1] = y;
            }
            double[] out = t[n].toDoubleArray();
            long[] result = new long[out.length];
            for (int i = 0; i < out.length; i++) {
                result[i] = (long) out[i];
            }
            return result;
        }
    }

    @Override
    public String description() {
        return "djl-pytorch(cpu," + JniUtils.getNumThreads() + " threads)";
    }

    @Override
    public void close() {
        manager.close();
    }
}
