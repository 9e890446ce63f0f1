package io.llic.runtime;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluates a {@link FixedPointConvNet} with its convolutions as float64 matrix products in DJL's
 * PyTorch engine; everything else (adds, shuffles, slices) is the Java definition's. Weights and
 * biases are stored times 2^-shift, so every product and partial sum is a multiple of 2^-shift below
 * 2^(53-shift) (the net's load-time bound): exact in any summation order, and floor gives the
 * definition's integer.
 *
 * <p>A conv gathers, for a band of output rows at a time, the k x k taps of the zero-padded input into
 * a (in k k) x (rows x width) matrix in Java and multiplies the (out) x (in k k) weights by it. PyTorch's
 * own float64 convolution kernels are not used: on this CPU they ran a 48-channel 3x3 conv over a Kodak
 * image in 5.8 s (float32: 0.14 s), gathering strided views in PyTorch took longer than the products,
 * and a GPU's cuDNN may choose FFT or Winograd algorithms, which are not exact. Bands hold at most
 * {@value #BAND_VALUES} values, so memory stays bounded whatever the image size. Runs on the CPU.
 */
public final class DjlConvEvaluator implements ConvEvaluator {
    /** Most values of one band's gathered input matrix (64 MB in float64). */
    static final long BAND_VALUES = 1L << 23;
    private final FixedPointConvNet net;
    private final NDManager manager;
    private final int threads;
    private final long bandValues;
    private final List<NDArray> weights = new ArrayList<>();
    private final List<NDArray> biases = new ArrayList<>();
    private final JavaConvEvaluator walk;
    private Thread threadsSetIn;

    /** @param threads PyTorch intra-op threads; 0 keeps the engine's setting */
    public DjlConvEvaluator(FixedPointConvNet net, int threads) {
        this(net, threads, BAND_VALUES);
    }

    /** With bands of at most {@code bandValues} gathered values (tests use tiny bands). */
    DjlConvEvaluator(FixedPointConvNet net, int threads, long bandValues) {
        this.net = net;
        this.threads = threads;
        this.bandValues = bandValues;
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
                weights.add(manager.create(w, new Shape(c.out(), (long) c.in() * c.kernel() * c.kernel())));
                biases.add(manager.create(b, new Shape(c.out(), 1)));
            } else {
                weights.add(null);
                biases.add(null);
            }
        }
        this.walk = new JavaConvEvaluator(net, this::conv);
    }

    @Override
    public FixedPointConvNet net() {
        return net;
    }

    @Override
    public long[] evaluate(long[] input, int height, int width) {
        if (threads > 0 && Thread.currentThread() != threadsSetIn) {
            JniUtils.setNumThreads(threads);
            threadsSetIn = Thread.currentThread();
        }
        return walk.evaluate(input, height, width);
    }

    /** Convolution {@code k} as banded matrix products (see the class comment). */
    private long[] conv(int k, Conv c, long[] x, int hi, int wi, int ho, int wo) {
        int kernel = c.kernel();
        int st = c.stride();
        int d = c.dilation();
        int pad = c.padding();
        int in = c.in();
        int taps = kernel * kernel;
        long perRow = (long) in * taps * wo;
        int band = (int) Math.max(1, Math.min(ho, bandValues / perRow));
        int planeIn = hi * wi;
        int planeOut = ho * wo;
        long[] out = new long[c.out() * planeOut];
        double[] cols = new double[(int) Math.min((long) ho * perRow, (long) band * perRow)];
        for (int r0 = 0; r0 < ho; r0 += band) {
            int rows = Math.min(band, ho - r0);
            int width = rows * wo;
            // row (i k + ky) k + kx of the matrix: input channel i seen through tap (ky, kx), zero outside
            for (int i = 0; i < in; i++) {
                for (int ky = 0; ky < kernel; ky++) {
                    for (int kx = 0; kx < kernel; kx++) {
                        int row = ((i * kernel + ky) * kernel + kx) * width;
                        int dx = kx * d - pad;
                        for (int y = 0; y < rows; y++) {
                            int iy = (r0 + y) * st + ky * d - pad;
                            int to = row + y * wo;
                            if (iy < 0 || iy >= hi) {
                                java.util.Arrays.fill(cols, to, to + wo, 0);
                                continue;
                            }
                            int from = i * planeIn + iy * wi + dx;
                            for (int q = 0; q < wo; q++) {
                                int ix = q * st + dx;
                                cols[to + q] = ix >= 0 && ix < wi ? x[from + q * st] : 0;
                            }
                        }
                    }
                }
            }
            try (NDManager scope = manager.newSubManager()) {
                NDArray matrix = scope.create(cols, new Shape((long) in * taps, width));
                double[] y = weights.get(k).matMul(matrix).add(biases.get(k)).floor().toDoubleArray();
                for (int o = 0; o < c.out(); o++) {
                    int base = o * planeOut + r0 * wo;
                    for (int p = 0; p < width; p++) {
                        out[base + p] = c.activate((long) y[o * width + p]);
                    }
                }
            }
        }
        return out;
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
