package io.llic.runtime;

import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointConvNet.Add;
import io.llic.model.FixedPointConvNet.Concat;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import io.llic.model.FixedPointConvNet.Shuffle;
import io.llic.model.FixedPointConvNet.Slice;

/**
 * The pure-Java definition of a {@link FixedPointConvNet}: plain {@code long} arithmetic, the oracle
 * that the DJL evaluator is tested against. A convolution accumulates, per output channel, whole rows
 * of products (the row range where the tap falls inside the input is computed once per row, so no
 * bounds check runs per value); sums of integers are exact in any order, so the result is the
 * definition's.
 */
public final class JavaConvEvaluator implements ConvEvaluator {
    /** How one convolution is computed: the definition in Java, or another exact kernel. */
    interface Kernel {
        /** Output tensor of {@code c} (op {@code k}) on {@code x} ({@code hi x wi} planes), {@code ho x wo} planes. */
        long[] conv(int k, Conv c, long[] x, int hi, int wi, int ho, int wo);
    }

    /**
     * Most bytes of all of one evaluation's tensors together: a larger input is evaluated in bands of
     * rows (see {@link #evaluate}).
     */
    static final long BAND_BYTES = 1L << 30;
    private final FixedPointConvNet net;
    private final Kernel kernel;
    private final long bandBytes;

    public JavaConvEvaluator(FixedPointConvNet net) {
        this(net, null, BAND_BYTES);
    }

    /**
     * The same walk over the operations, with convolutions computed by {@code kernel} (null: the
     * definition's), in bands of rows when all tensors of an evaluation would take more than
     * {@code bandBytes}.
     */
    JavaConvEvaluator(FixedPointConvNet net, Kernel kernel, long bandBytes) {
        this.net = net;
        this.kernel = kernel != null ? kernel : (k, c, x, hi, wi, ho, wo) -> conv(c, x, hi, wi, ho, wo);
        this.bandBytes = bandBytes;
    }

    @Override
    public FixedPointConvNet net() {
        return net;
    }

    /**
     * The network's output. When all its tensors would take more than the band budget, the output is
     * computed in bands of rows, each from the input rows its receptive field needs (every conv's
     * taps, every shuffle's source row, traced back from the band's output rows), aligned to the
     * product of the strides so that every tensor's rows fall on the whole input's: each output value
     * is computed from the same values as without bands, so the result is the same, and memory is
     * bounded by the band's size whatever the image's.
     */
    @Override
    public long[] evaluate(long[] input, int height, int width) {
        if (!net.fits(height, width)) {
            throw new IllegalArgumentException("a " + width + "x" + height + " input does not fit this network's strides");
        }
        net.checkInput(input, height * width);
        int n = net.ops().size();
        int[] h = net.sizes(height);
        int[] w = net.sizes(width);
        long bytes = 0;
        for (int t = 0; t <= n; t++) {
            bytes += (long) net.channels(t) * h[t] * w[t] * Long.BYTES;
        }
        int outRows = h[n];
        int align = alignment();
        int band = (int) Math.max(2L * align, bandBytes / Math.max(1, bytes / Math.max(1, outRows)));
        if (band >= outRows) {
            return whole(input, height, width);
        }
        int outChannels = net.outputChannels();
        int outWidth = w[n];
        long[] out = new long[outChannels * outRows * outWidth];
        int plane = height * width;
        for (int a = 0; a < outRows; a += band) {
            int b = Math.min(outRows, a + band);
            int[] rows = inputRows(a, b, h);
            int from = Math.max(0, rows[0]) / align * align;
            int to = Math.min(height, ceilDiv(rows[1], align) * align);
            long[] sub = new long[net.inputChannels() * (to - from) * width];
            for (int c = 0; c < net.inputChannels(); c++) {
                System.arraycopy(input, c * plane + from * width, sub, c * (to - from) * width, (to - from) * width);
            }
            long[] y = whole(sub, to - from, width);
            int offset = net.sizes(from)[n];        // the sub-band's first output row, in the whole output
            int subRows = net.sizes(to - from)[n];
            for (int c = 0; c < outChannels; c++) {
                System.arraycopy(y, (c * subRows + a - offset) * outWidth, out, (c * outRows + a) * outWidth,
                        (b - a) * outWidth);
            }
        }
        return out;
    }

    /** The product of the convolutions' strides: bands start on multiples of it. */
    private int alignment() {
        int a = 1;
        for (Op op : net.ops()) {
            if (op instanceof Conv c) {
                a = Math.multiplyExact(a, c.stride());
            }
        }
        return a;
    }

    /** The input rows [from, to) that output rows [a, b) read, traced back through every operation (unclamped). */
    private int[] inputRows(int a, int b, int[] h) {
        int n = net.ops().size();
        int[] lo = new int[n + 1];
        int[] hi = new int[n + 1];
        java.util.Arrays.fill(lo, Integer.MAX_VALUE);
        java.util.Arrays.fill(hi, Integer.MIN_VALUE);
        lo[n] = a;
        hi[n] = b;
        for (int k = n - 1; k >= 0; k--) {
            int t = k + 1;
            if (lo[t] >= hi[t]) {
                continue;
            }
            Op op = net.ops().get(k);
            int from;
            int to;
            if (op instanceof Conv c) {
                from = lo[t] * c.stride() - c.padding();
                to = (hi[t] - 1) * c.stride() - c.padding() + c.dilation() * (c.kernel() - 1) + 1;
            } else if (op instanceof Shuffle) {
                from = Math.floorDiv(lo[t], 2);
                to = Math.floorDiv(hi[t] - 1, 2) + 1;
            } else {
                from = lo[t];
                to = hi[t];
            }
            for (int s : FixedPointConvNet.operands(op)) {
                lo[s] = Math.min(lo[s], Math.max(0, from));
                hi[s] = Math.max(hi[s], Math.min(h[s], to));
            }
        }
        return new int[] {lo[0], hi[0]};
    }

    /** The whole input at once. */
    private long[] whole(long[] input, int height, int width) {
        int n = net.ops().size();
        long[][] tensors = new long[n + 1][];
        int[] h = net.sizes(height);
        int[] w = net.sizes(width);
        tensors[0] = input;
        // the last reader of each tensor, so that intermediate tensors are released early
        int[] lastUse = new int[n + 1];
        for (int k = 0; k < n; k++) {
            for (int s : FixedPointConvNet.operands(net.ops().get(k))) {
                lastUse[s] = k;
            }
        }
        for (int k = 0; k < n; k++) {
            Op op = net.ops().get(k);
            int t = k + 1;
            if (op instanceof Conv c) {
                tensors[t] = kernel.conv(k, c, tensors[c.src()], h[c.src()], w[c.src()], h[t], w[t]);
            } else if (op instanceof Add a) {
                long[] x = tensors[a.a()];
                long[] y = tensors[a.b()];
                long[] out = new long[x.length];
                for (int i = 0; i < out.length; i++) {
                    out[i] = x[i] + y[i];
                }
                tensors[t] = out;
            } else if (op instanceof Shuffle p) {
                tensors[t] = shuffle(tensors[p.src()], net.channels(p.src()), h[p.src()], w[p.src()]);
            } else if (op instanceof Concat c) {
                long[] x = tensors[c.a()];
                long[] y = tensors[c.b()];
                long[] out = new long[x.length + y.length];
                System.arraycopy(x, 0, out, 0, x.length);
                System.arraycopy(y, 0, out, x.length, y.length);
                tensors[t] = out;
            } else {
                Slice s = (Slice) op;
                int plane = h[t] * w[t];
                tensors[t] = java.util.Arrays.copyOfRange(tensors[s.src()], s.from() * plane, s.to() * plane);
            }
            for (int s : FixedPointConvNet.operands(op)) {
                if (lastUse[s] == k && s > 0) {
                    tensors[s] = null;
                }
            }
        }
        return tensors[n];
    }

    /** PyTorch's pixel_shuffle by 2: channel 4c + 2i + j at (y, x) becomes channel c at (2y + i, 2x + j). */
    static long[] shuffle(long[] x, int channels, int h, int w) {
        long[] out = new long[x.length];
        int plane = h * w;
        int w2 = 2 * w;
        for (int c = 0; c < channels / 4; c++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    int from = (4 * c + 2 * i + j) * plane;
                    int to = c * 4 * plane;
                    for (int y = 0; y < h; y++) {
                        int row = to + (2 * y + i) * w2 + j;
                        for (int q = 0; q < w; q++) {
                            out[row + 2 * q] = x[from + y * w + q];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The definition of one convolution. */
    static long[] conv(Conv c, long[] x, int hi, int wi, int ho, int wo) {
        int k = c.kernel();
        int s = c.stride();
        int d = c.dilation();
        int pad = c.padding();
        int planeIn = hi * wi;
        int planeOut = ho * wo;
        long[] out = new long[c.out() * planeOut];
        long[] acc = new long[planeOut];
        long[] weights = c.weights();
        for (int o = 0; o < c.out(); o++) {
            java.util.Arrays.fill(acc, c.bias()[o]);
            for (int i = 0; i < c.in(); i++) {
                int inBase = i * planeIn;
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        long wt = weights[((o * c.in() + i) * k + ky) * k + kx];
                        if (wt == 0) {
                            continue;
                        }
                        int dx = kx * d - pad;
                        // output columns q with 0 <= q s + dx < wi
                        int qFrom = Math.max(0, ceilDiv(-dx, s));
                        int qTo = Math.min(wo, ceilDiv(wi - dx, s));
                        for (int y = 0; y < ho; y++) {
                            int iy = y * s + ky * d - pad;
                            if (iy < 0 || iy >= hi) {
                                continue;
                            }
                            int row = inBase + iy * wi + dx;
                            int outRow = y * wo;
                            if (s == 1) {
                                for (int q = qFrom; q < qTo; q++) {
                                    acc[outRow + q] += wt * x[row + q];
                                }
                            } else {
                                for (int q = qFrom; q < qTo; q++) {
                                    acc[outRow + q] += wt * x[row + q * s];
                                }
                            }
                        }
                    }
                }
            }
            int base = o * planeOut;
            for (int p = 0; p < planeOut; p++) {
                out[base + p] = c.finish(acc[p]);
            }
        }
        return out;
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    @Override
    public String description() {
        return "java";
    }

    @Override
    public void close() {}
}
