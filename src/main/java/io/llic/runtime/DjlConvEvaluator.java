package io.llic.runtime;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
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
    private final List<double[]> biasValues = new ArrayList<>();
    /** Each conv's (out) x (k k in) weights with column t in + i for tap t of input channel i. */
    private final List<NDArray> tapMajor = new ArrayList<>();
    /**
     * The right-hand matrix of the products, one per thread: the networks of a model run one after
     * another on a thread, so they share it (at most {@link #BAND_VALUES} values, 64 MB, per thread).
     */
    private static final ThreadLocal<ByteBuffer> DIRECT = new ThreadLocal<>();
    private ByteBuffer direct;
    private final JavaConvEvaluator walk;

    /** @param threads PyTorch intra-op threads; 0 keeps the engine's setting */
    public DjlConvEvaluator(FixedPointConvNet net, int threads) {
        this(net, threads, BAND_VALUES);
    }

    /** With bands of at most {@code bandValues} gathered values (tests use tiny bands). */
    DjlConvEvaluator(FixedPointConvNet net, int threads, long bandValues) {
        this(net, threads, bandValues, JavaConvEvaluator.BAND_BYTES);
    }

    /** ... and rows evaluated in bands when all tensors would take more than {@code rowBandBytes}. */
    DjlConvEvaluator(FixedPointConvNet net, int threads, long bandValues, long rowBandBytes) {
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
                int taps = c.kernel() * c.kernel();
                weights.add(manager.create(w, new Shape(c.out(), (long) c.in() * taps)));
                biasValues.add(b);
                double[] m = new double[w.length];
                for (int o = 0; o < c.out(); o++) {
                    for (int t = 0; t < taps; t++) {
                        for (int i = 0; i < c.in(); i++) {
                            m[(o * taps + t) * c.in() + i] = w[(o * c.in() + i) * taps + t];
                        }
                    }
                }
                tapMajor.add(manager.create(m, new Shape(c.out(), (long) taps * c.in())));
            } else {
                weights.add(null);
                biasValues.add(null);
                tapMajor.add(null);
            }
        }
        this.walk = new JavaConvEvaluator(net, this::conv, rowBandBytes);
    }

    @Override
    public FixedPointConvNet net() {
        return net;
    }

    @Override
    public long[] evaluate(long[] input, int height, int width) {
        if (threads > 0 && JniUtils.getNumThreads() != threads) {
            JniUtils.setNumThreads(threads); // as DjlEvaluator.evaluate
        }
        return walk.evaluate(input, height, width);
    }

    /** Convolution {@code k} as banded matrix products (see the class comment). */
    private long[] conv(int k, Conv c, long[] x, int hi, int wi, int ho, int wo) {
        return c.stride() == 1 ? shiftedConv(k, c, x, hi, wi) : gatheredConv(k, c, x, hi, wi, ho, wo);
    }

    /**
     * A stride-1 conv: a band of output rows reads a band of the zero-padded input (width
     * wp = wi + 2 pad), flattened per channel, in which tap (ky, kx) of output (y, q) of the band is
     * element (y + ky d) wp + q + kx d. So row (tap, channel) of the band's tap matrix is one contiguous
     * run of rows * wp values of the padded band (bulk-copied, no per-value work), and the product gives
     * rows * wp columns, of which the last 2 pad of each row are discarded.
     */
    private long[] shiftedConv(int k, Conv c, long[] x, int hi, int wi) {
        int kernel = c.kernel();
        int d = c.dilation();
        int pad = c.padding();
        int in = c.in();
        int taps = kernel * kernel;
        int wp = wi + 2 * pad;
        int halo = 2 * pad;
        // the tap matrix of a band of r rows holds in k k r wp values
        int band = (int) Math.max(1, Math.min(hi, bandValues / ((long) in * taps * wp)));
        int planeIn = hi * wi;
        long[] out = new long[c.out() * planeIn];
        double[] bias = biasValues.get(k);
        double[] padded = null;
        for (int r0 = 0; r0 < hi; r0 += band) {
            int rows = Math.min(band, hi - r0);
            int length = (rows + halo) * wp + halo;
            if (padded == null || padded.length != in * length) {
                padded = new double[in * length];
            } else {
                java.util.Arrays.fill(padded, 0);
            }
            for (int i = 0; i < in; i++) {
                for (int y = 0; y < rows + halo; y++) {
                    int iy = r0 + y - pad;
                    if (iy < 0 || iy >= hi) {
                        continue;
                    }
                    int from = i * planeIn + iy * wi;
                    int to = i * length + y * wp + pad;
                    for (int q = 0; q < wi; q++) {
                        padded[to + q] = x[from + q];
                    }
                }
            }
            int columns = rows * wp;
            DoubleBuffer matrix = buffer(taps * in * columns);
            for (int t = 0; t < taps; t++) {
                int at = t / kernel * d * wp + t % kernel * d;
                for (int i = 0; i < in; i++) {
                    matrix.put((t * in + i) * columns, padded, i * length + at, columns);
                }
            }
            store(c, product(tapMajor.get(k), taps * in, columns), bias, rows, wp, out, hi, wi, r0);
        }
        return out;
    }

    /**
     * Output rows {@code r0 .. r0 + rows - 1} of conv {@code c} ({@code ho x wo} planes of {@code out})
     * from a band's product {@code y} ((out) x (rows * stride)): the definition's floor of sum plus
     * bias, then the activation; columns from {@code wo} to {@code stride} of each row are dropped.
     */
    private static void store(Conv c, double[] y, double[] bias, int rows, int stride, long[] out, int ho, int wo, int r0) {
        int plane = ho * wo;
        for (int o = 0; o < c.out(); o++) {
            double b = bias[o];
            for (int r = 0; r < rows; r++) {
                int from = (o * rows + r) * stride;
                int to = o * plane + (r0 + r) * wo;
                for (int q = 0; q < wo; q++) {
                    out[to + q] = c.activate((long) Math.floor(y[from + q] + b));
                }
            }
        }
    }

    /** The direct buffer of the next product's right-hand matrix, with room for {@code values} values. */
    private DoubleBuffer buffer(int values) {
        direct = DIRECT.get();
        if (direct == null || direct.capacity() < (long) values * Double.BYTES) {
            direct = ByteBuffer.allocateDirect(values * Double.BYTES).order(ByteOrder.nativeOrder());
            DIRECT.set(direct);
        }
        direct.clear().limit(values * Double.BYTES);
        return direct.asDoubleBuffer();
    }

    /** {@code weights} times the (rows) x (columns) matrix in {@link #buffer}, read back. */
    private double[] product(NDArray weights, int rows, int columns) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray matrix = scope.create(direct, new Shape(rows, columns), DataType.FLOAT64);
            // a result belongs to its first operand's manager (the weights': the evaluator's own), so it
            // is closed here, or every product would stay in native memory until the evaluator closes
            try (NDArray y = weights.matMul(matrix)) {
                return y.toDoubleArray();
            }
        }
    }

    /** A conv of stride > 1: a band's taps gathered in Java into a (in k k) x (rows wo) matrix, one product. */
    private long[] gatheredConv(int k, Conv c, long[] x, int hi, int wi, int ho, int wo) {
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
        double[] bias = biasValues.get(k);
        double[] cols = null;
        for (int r0 = 0; r0 < ho; r0 += band) {
            int rows = Math.min(band, ho - r0);
            int width = rows * wo;
            if (cols == null || cols.length != (int) (rows * perRow)) {
                cols = new double[(int) (rows * perRow)];
            }
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
            buffer(cols.length).put(0, cols, 0, cols.length);
            store(c, product(weights.get(k), in * taps, width), bias, rows, wo, out, ho, wo, r0);
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
