package io.llic.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A fixed-point convolutional network over whole planes (L3C's feature extractors, predictors and
 * probability heads, ALGORITHMS.md C), under the same determinism contract as {@link FixedPointNet}:
 * every value is an integer, every partial sum provably below 2^53 for any input within the
 * per-channel input bounds (checked on construction), so float64 evaluation in any summation order
 * gives exactly the integers of the pure-Java definition.
 *
 * <p>The network is a list of operations in static single assignment form: tensor 0 is the input
 * (channels x height x width, one image), operation k writes tensor k + 1 from earlier tensors, the
 * last tensor is the output. Operations:
 * <ul>
 *   <li>{@link Conv}: a k x k convolution (k odd) with stride s and dilation d, zero padding
 *       {@code d (k - 1) / 2} on every side (so the output is {@code ceil(H / s) x ceil(W / s)}), then
 *       per output value {@code y = floor(acc / 2^shift)}, the activation (none, ReLU, or the leaky
 *       ReLU of {@link FixedPointLayer}) and the clamp to [-clip, clip];</li>
 *   <li>{@link Add}: the element-wise sum of two tensors of the same shape (a residual connection);</li>
 *   <li>{@link Shuffle}: PyTorch's {@code pixel_shuffle} by 2: channel {@code 4c + 2i + j} at (y, x)
 *       becomes channel c at (2y + i, 2x + j);</li>
 *   <li>{@link Concat}: the channels of one tensor, then those of another (same height and width);</li>
 *   <li>{@link Slice}: channels {@code from .. to - 1} of a tensor.</li>
 * </ul>
 * Every tensor's per-channel bound (largest possible |value|) follows by interval arithmetic from the
 * input bounds; the constructor refuses any operation whose exact arithmetic could reach 2^53.
 *
 * <p>Serialised form: magic {@code LLICCNV1}, u32 input channels, one u32 bound per input channel,
 * u32 operation count, then per operation a u8 kind and its fields (see {@link #toBytes}). Big-endian.
 * In {@code LLICCNV1} every bound, clip, weight and bias is an 8-byte integer; {@code LLICCNV2} (what
 * networks built here are written in) stores each of them as a zig-zag LEB128 varint (1 to 10 bytes,
 * typically 2 for a weight), everything else as in version 1. A network keeps the version it was
 * read in, so a model written before version 2 re-serialises to the same bytes (its hash names it).
 */
public final class FixedPointConvNet {
    private static final byte[] MAGIC = {'L', 'L', 'I', 'C', 'C', 'N', 'V', '1'};
    private static final byte[] MAGIC_COMPACT = {'L', 'L', 'I', 'C', 'C', 'N', 'V', '2'};
    private static final int MAX_OPS = 256;
    private final boolean compact;
    private static final int MAX_CHANNELS = 1 << 12;
    private static final int MAX_KERNEL = 9;
    private static final int MAX_STRIDE = 4;
    private static final int MAX_DILATION = 16;

    /** Activations of a {@link Conv}. */
    public static final int NONE = 0;
    public static final int RELU = 1;
    public static final int LEAKY = 2;

    /** One operation; {@code src} fields name earlier tensors (0 is the input). */
    public sealed interface Op permits Conv, Add, Shuffle, Concat, Slice {}

    /**
     * A convolution.
     *
     * @param weights {@code out x in x k x k}, row-major
     */
    public record Conv(int src, int in, int out, int kernel, int stride, int dilation, long[] weights, long[] bias,
                       int shift, int activation, long clip) implements Op {
        public Conv {
            if (in < 1 || out < 1 || in > MAX_CHANNELS || out > MAX_CHANNELS) {
                throw new IllegalArgumentException("bad convolution shape " + in + " -> " + out);
            }
            if (kernel < 1 || kernel > MAX_KERNEL || kernel % 2 == 0 || stride < 1 || stride > MAX_STRIDE
                    || dilation < 1 || dilation > MAX_DILATION) {
                throw new IllegalArgumentException("bad convolution kernel " + kernel + ", stride " + stride
                        + ", dilation " + dilation + " (odd kernels up to " + MAX_KERNEL + ")");
            }
            if (weights.length != (long) out * in * kernel * kernel || bias.length != out) {
                throw new IllegalArgumentException("convolution " + in + " -> " + out + " (" + kernel + "x" + kernel
                        + ") does not match its arrays");
            }
            if (shift < 0 || shift > 52 || clip <= 0 || clip > (1L << 52) || activation < NONE || activation > LEAKY) {
                throw new IllegalArgumentException("bad shift " + shift + ", clip " + clip + " or activation " + activation);
            }
        }

        /** Zero padding on every side. */
        public int padding() {
            return dilation * (kernel - 1) / 2;
        }

        /** The shared definition of one output value from its accumulator. */
        public long finish(long acc) {
            return activate(acc >> shift);
        }

        /** The activation and clip of an already shifted (floored) value {@code y = floor(acc / 2^shift)}. */
        public long activate(long y) {
            if (y < 0) {
                if (activation == RELU) {
                    y = 0;
                } else if (activation == LEAKY) {
                    y = Math.floorDiv(y * FixedPointLayer.LEAKY_SLOPE, 1L << FixedPointLayer.SLOPE_BITS);
                }
            }
            return Math.max(-clip, Math.min(clip, y));
        }
    }

    public record Add(int a, int b) implements Op {}

    public record Shuffle(int src) implements Op {}

    public record Concat(int a, int b) implements Op {}

    public record Slice(int src, int from, int to) implements Op {}

    /** A tensor's shape relative to the input: channels, and its size as the input's times num / den. */
    private record Shape(int channels, int num, int den) {}

    private final long[] inputBounds;
    private final List<Op> ops;
    private final Shape[] shapes;
    private final long[][] bounds;
    private final boolean[] needsClip;

    /**
     * @param inputBounds the largest |value| of each input channel
     * @param ops         the operations; operation k writes tensor k + 1
     */
    public FixedPointConvNet(long[] inputBounds, List<Op> ops) throws ModelException {
        this(inputBounds, ops, true);
    }

    private FixedPointConvNet(long[] inputBounds, List<Op> ops, boolean compact) throws ModelException {
        this.compact = compact;
        this.inputBounds = inputBounds.clone();
        this.ops = List.copyOf(ops);
        if (inputBounds.length < 1 || inputBounds.length > MAX_CHANNELS) {
            throw new ModelException("a convolutional network needs 1 to " + MAX_CHANNELS + " input channels");
        }
        if (ops.isEmpty() || ops.size() > MAX_OPS) {
            throw new ModelException("a convolutional network needs 1 to " + MAX_OPS + " operations");
        }
        for (long b : inputBounds) {
            if (b < 0 || b >= FixedPointLayer.EXACT_LIMIT) {
                throw new ModelException("bad input bound " + b);
            }
        }
        shapes = new Shape[ops.size() + 1];
        bounds = new long[ops.size() + 1][];
        needsClip = new boolean[ops.size()];
        shapes[0] = new Shape(inputBounds.length, 1, 1);
        bounds[0] = this.inputBounds;
        for (int k = 0; k < ops.size(); k++) {
            int t = k + 1;
            String where = "operation " + k;
            Op op = ops.get(k);
            if (op instanceof Conv c) {
                Shape s = source(c.src(), t, where);
                if (s.channels() != c.in()) {
                    throw new ModelException(where + ": the convolution takes " + c.in() + " channels, tensor "
                            + c.src() + " has " + s.channels());
                }
                shapes[t] = reduce(new Shape(c.out(), s.num(), s.den() * c.stride()));
                long[] out = new long[c.out()];
                long[] in = bounds[c.src()];
                int kk = c.kernel() * c.kernel();
                for (int o = 0; o < c.out(); o++) {
                    long worst = Math.abs(c.bias()[o]);
                    try {
                        for (int i = 0; i < c.in(); i++) {
                            for (int j = 0; j < kk; j++) {
                                worst = Math.addExact(worst, Math.multiplyExact(Math.abs(c.weights()[(o * c.in() + i) * kk + j]), in[i]));
                            }
                        }
                    } catch (ArithmeticException e) {
                        worst = Long.MAX_VALUE;
                    }
                    if (worst >= FixedPointLayer.EXACT_LIMIT) {
                        throw new ModelException(where + ": output channel " + o + " can reach a partial sum of " + worst
                                + ", not below 2^53: float64 evaluation would not be exact (lower the clip or the scale)");
                    }
                    long reach = (worst >> c.shift()) + 1;
                    if (c.activation() == LEAKY && reach > (FixedPointLayer.EXACT_LIMIT - 1) / FixedPointLayer.LEAKY_SLOPE) {
                        throw new ModelException(where + ": output channel " + o + " can reach " + reach
                                + " before its leaky ReLU; times the slope that is not below 2^53");
                    }
                    out[o] = Math.min(reach, c.clip());
                    needsClip[k] |= reach > c.clip();
                }
                bounds[t] = out;
            } else if (op instanceof Add a) {
                Shape x = source(a.a(), t, where);
                Shape y = source(a.b(), t, where);
                if (!x.equals(y)) {
                    throw new ModelException(where + ": adds tensors of different shapes (" + a.a() + ", " + a.b() + ")");
                }
                shapes[t] = x;
                long[] out = new long[x.channels()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = bounds[a.a()][i] + bounds[a.b()][i];
                    if (out[i] >= FixedPointLayer.EXACT_LIMIT) {
                        throw new ModelException(where + ": a sum can reach " + out[i] + ", not below 2^53");
                    }
                }
                bounds[t] = out;
            } else if (op instanceof Shuffle p) {
                Shape s = source(p.src(), t, where);
                if (s.channels() % 4 != 0) {
                    throw new ModelException(where + ": pixel shuffle needs a multiple of 4 channels, tensor "
                            + p.src() + " has " + s.channels());
                }
                shapes[t] = reduce(new Shape(s.channels() / 4, s.num() * 2, s.den()));
                long[] out = new long[s.channels() / 4];
                for (int c = 0; c < out.length; c++) {
                    for (int j = 0; j < 4; j++) {
                        out[c] = Math.max(out[c], bounds[p.src()][4 * c + j]);
                    }
                }
                bounds[t] = out;
            } else if (op instanceof Concat c) {
                Shape x = source(c.a(), t, where);
                Shape y = source(c.b(), t, where);
                if (x.num() != y.num() || x.den() != y.den()) {
                    throw new ModelException(where + ": concatenates tensors of different sizes (" + c.a() + ", "
                            + c.b() + ")");
                }
                shapes[t] = new Shape(x.channels() + y.channels(), x.num(), x.den());
                long[] out = Arrays.copyOf(bounds[c.a()], x.channels() + y.channels());
                System.arraycopy(bounds[c.b()], 0, out, x.channels(), y.channels());
                bounds[t] = out;
            } else if (op instanceof Slice s) {
                Shape x = source(s.src(), t, where);
                if (s.from() < 0 || s.to() <= s.from() || s.to() > x.channels()) {
                    throw new ModelException(where + ": channels " + s.from() + ".." + s.to() + " of a tensor of "
                            + x.channels());
                }
                shapes[t] = new Shape(s.to() - s.from(), x.num(), x.den());
                bounds[t] = Arrays.copyOfRange(bounds[s.src()], s.from(), s.to());
            }
        }
    }

    private Shape source(int src, int t, String where) throws ModelException {
        if (src < 0 || src >= t) {
            throw new ModelException(where + " reads tensor " + src + ", which is not written before it");
        }
        return shapes[src];
    }

    private static Shape reduce(Shape s) {
        int g = gcd(s.num(), s.den());
        return new Shape(s.channels(), s.num() / g, s.den() / g);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    public List<Op> ops() {
        return ops;
    }

    public int inputChannels() {
        return inputBounds.length;
    }

    public long[] inputBounds() {
        return inputBounds.clone();
    }

    public int outputChannels() {
        return shapes[ops.size()].channels();
    }

    /** Channels of tensor {@code t}. */
    public int channels(int t) {
        return shapes[t].channels();
    }

    /** Whether operation {@code k} (a convolution) can exceed its clip, so an evaluator must apply it. */
    public boolean needsClip(int k) {
        return needsClip[k];
    }

    /** The largest |value| of each channel of tensor {@code t} for inputs within the bounds. */
    public long[] bounds(int t) {
        return bounds[t].clone();
    }

    /**
     * The height of every tensor for an input of {@code inputSize} rows (widths scale the same way):
     * each stride s takes {@code ceil(h / s)}, each shuffle doubles.
     */
    public int[] sizes(int inputSize) {
        int[] sizes = new int[ops.size() + 1];
        sizes[0] = inputSize;
        for (int k = 0; k < ops.size(); k++) {
            Op op = ops.get(k);
            if (op instanceof Conv c) {
                sizes[k + 1] = (sizes[c.src()] + c.stride() - 1) / c.stride();
            } else if (op instanceof Shuffle p) {
                sizes[k + 1] = Math.multiplyExact(sizes[p.src()], 2);
            } else {
                sizes[k + 1] = sizes[operands(op)[0]];
            }
        }
        return sizes;
    }

    /**
     * Whether an input of {@code height x width} gives operands of equal sizes everywhere (e.g. a
     * stride-2 encoder and a shuffle back need even sizes): the sizes computed for both operands of
     * every Add and Concat agree.
     */
    public boolean fits(int height, int width) {
        int[] h = sizes(height);
        int[] w = sizes(width);
        for (Op op : ops) {
            int[] src = operands(op);
            if (src.length == 2 && (h[src[0]] != h[src[1]] || w[src[0]] != w[src[1]])) {
                return false;
            }
        }
        return true;
    }

    /** The tensors an operation reads. */
    public static int[] operands(Op op) {
        if (op instanceof Conv c) {
            return new int[] {c.src()};
        } else if (op instanceof Add a) {
            return new int[] {a.a(), a.b()};
        } else if (op instanceof Shuffle p) {
            return new int[] {p.src()};
        } else if (op instanceof Concat c) {
            return new int[] {c.a(), c.b()};
        }
        return new int[] {((Slice) op).src()};
    }

    /** Multiply-accumulates of one evaluation on a {@code height x width} input. */
    public long multiplyAccumulates(int height, int width) {
        int[] h = sizes(height);
        int[] w = sizes(width);
        long n = 0;
        for (int k = 0; k < ops.size(); k++) {
            if (ops.get(k) instanceof Conv c) {
                n += (long) h[k + 1] * w[k + 1] * c.out() * c.in() * c.kernel() * c.kernel();
            }
        }
        return n;
    }

    public long parameterCount() {
        long n = 0;
        for (Op op : ops) {
            if (op instanceof Conv c) {
                n += c.weights().length + c.bias().length;
            }
        }
        return n;
    }

    /**
     * Checks that every value of a {@code channels x plane} input lies within its channel's bound:
     * beyond it the exactness proof does not hold, so every evaluator refuses it.
     */
    public void checkInput(long[] input, int plane) {
        int channels = inputChannels();
        if (input.length < (long) channels * plane) {
            throw new IllegalArgumentException("input holds " + input.length + " values, " + channels + " channels of "
                    + plane + " need " + (long) channels * plane);
        }
        for (int c = 0; c < channels; c++) {
            long bound = inputBounds[c];
            for (int i = c * plane, end = i + plane; i < end; i++) {
                if (input[i] > bound || input[i] < -bound) {
                    throw new IllegalArgumentException("network input " + input[i] + " (channel " + c + ", position "
                            + (i - c * plane) + ") is outside the model's input bound " + bound);
                }
            }
        }
    }

    private static final int CONV = 1;
    private static final int ADD = 2;
    private static final int SHUFFLE = 3;
    private static final int CONCAT = 4;
    private static final int SLICE = 5;

    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            write(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** Writes the serialised form: see the class comment; per operation a u8 kind, then its u32 fields. */
    public void write(DataOutputStream out) throws IOException {
        out.write(compact ? MAGIC_COMPACT : MAGIC);
        out.writeInt(inputBounds.length);
        for (long b : inputBounds) {
            writeLong(out, b);
        }
        out.writeInt(ops.size());
        for (Op op : ops) {
            if (op instanceof Conv c) {
                out.writeByte(CONV);
                for (int v : new int[] {c.src(), c.in(), c.out(), c.kernel(), c.stride(), c.dilation(), c.shift(),
                        c.activation()}) {
                    out.writeInt(v);
                }
                writeLong(out, c.clip());
                for (long w : c.weights()) {
                    writeLong(out, w);
                }
                for (long b : c.bias()) {
                    writeLong(out, b);
                }
            } else if (op instanceof Add a) {
                out.writeByte(ADD);
                out.writeInt(a.a());
                out.writeInt(a.b());
            } else if (op instanceof Shuffle p) {
                out.writeByte(SHUFFLE);
                out.writeInt(p.src());
            } else if (op instanceof Concat c) {
                out.writeByte(CONCAT);
                out.writeInt(c.a());
                out.writeInt(c.b());
            } else if (op instanceof Slice s) {
                out.writeByte(SLICE);
                out.writeInt(s.src());
                out.writeInt(s.from());
                out.writeInt(s.to());
            }
        }
    }

    public static FixedPointConvNet fromBytes(byte[] data, String what) throws ModelException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            FixedPointConvNet net = read(in, what);
            if (in.read() != -1) {
                throw new ModelException(what + ": unexpected bytes after the last operation");
            }
            return net;
        } catch (IOException e) {
            throw new ModelException(what + ": " + e.getMessage(), e);
        }
    }

    /** Reads a network from the start of {@code in}, leaving whatever follows unread. */
    public static FixedPointConvNet read(DataInputStream in, String what) throws ModelException {
        try {
            byte[] magic = in.readNBytes(MAGIC.length);
            boolean compact = Arrays.equals(magic, MAGIC_COMPACT);
            if (!compact && !Arrays.equals(magic, MAGIC)) {
                throw new ModelException(what + " is not an llic fixed-point convolutional network");
            }
            int channels = in.readInt();
            if (channels < 1 || channels > MAX_CHANNELS) {
                throw new ModelException(what + ": bad input channel count " + channels);
            }
            long[] bounds = new long[channels];
            for (int c = 0; c < channels; c++) {
                bounds[c] = readLong(in, compact, what);
            }
            int count = in.readInt();
            if (count < 1 || count > MAX_OPS) {
                throw new ModelException(what + ": bad operation count " + count);
            }
            List<Op> ops = new ArrayList<>();
            for (int k = 0; k < count; k++) {
                int kind = in.readUnsignedByte();
                if (kind == CONV) {
                    int[] f = new int[8];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = in.readInt();
                    }
                    long clip = readLong(in, compact, what);
                    // shape limits before allocating: a corrupt count cannot ask for gigabytes
                    if (f[1] < 1 || f[2] < 1 || f[1] > MAX_CHANNELS || f[2] > MAX_CHANNELS || f[3] < 1 || f[3] > MAX_KERNEL) {
                        throw new ModelException(what + ": bad shape of operation " + k);
                    }
                    long[] w = new long[f[2] * f[1] * f[3] * f[3]];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = readLong(in, compact, what);
                    }
                    long[] b = new long[f[2]];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = readLong(in, compact, what);
                    }
                    try {
                        ops.add(new Conv(f[0], f[1], f[2], f[3], f[4], f[5], w, b, f[6], f[7], clip));
                    } catch (IllegalArgumentException e) {
                        throw new ModelException(what + ": operation " + k + ": " + e.getMessage());
                    }
                } else if (kind == ADD) {
                    ops.add(new Add(in.readInt(), in.readInt()));
                } else if (kind == SHUFFLE) {
                    ops.add(new Shuffle(in.readInt()));
                } else if (kind == CONCAT) {
                    ops.add(new Concat(in.readInt(), in.readInt()));
                } else if (kind == SLICE) {
                    ops.add(new Slice(in.readInt(), in.readInt(), in.readInt()));
                } else {
                    throw new ModelException(what + ": operation " + k + " has unknown kind " + kind);
                }
            }
            return new FixedPointConvNet(bounds, ops, compact);
        } catch (EOFException e) {
            throw new ModelException(what + " is truncated");
        } catch (IOException e) {
            throw new ModelException(what + ": " + e.getMessage(), e);
        }
    }

    /** Whether this network is written as {@code LLICCNV2} (varints) rather than {@code LLICCNV1}. */
    public boolean compact() {
        return compact;
    }

    private void writeLong(DataOutputStream out, long v) throws IOException {
        if (!compact) {
            out.writeLong(v);
            return;
        }
        long z = (v << 1) ^ (v >> 63);  // zig-zag: small magnitudes of either sign take few bytes
        while ((z & ~0x7FL) != 0) {
            out.writeByte((int) (z & 0x7F) | 0x80);
            z >>>= 7;
        }
        out.writeByte((int) z);
    }

    private static long readLong(DataInputStream in, boolean compact, String what) throws IOException, ModelException {
        if (!compact) {
            return in.readLong();
        }
        long z = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = in.readUnsignedByte();
            z |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (shift == 63 && b > 1) {
                    break;
                }
                return (z >>> 1) ^ -(z & 1);
            }
        }
        throw new ModelException(what + ": a varint longer than 64 bits (damaged weights)");
    }
}
