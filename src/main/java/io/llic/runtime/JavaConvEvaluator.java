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

    private final FixedPointConvNet net;
    private final Kernel kernel;

    public JavaConvEvaluator(FixedPointConvNet net) {
        this.net = net;
        this.kernel = (k, c, x, hi, wi, ho, wo) -> conv(c, x, hi, wi, ho, wo);
    }

    /** The same walk over the operations, with convolutions computed by {@code kernel}. */
    JavaConvEvaluator(FixedPointConvNet net, Kernel kernel) {
        this.net = net;
        this.kernel = kernel;
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
        net.checkInput(input, height * width);
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

    private static long[] conv(Conv c, long[] x, int hi, int wi, int ho, int wo) {
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
