package io.llic.model;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A stack of {@link FixedPointLayer}s evaluated per pixel, with the input bound that makes every
 * partial sum provably exact in float64 (checked on construction).
 *
 * <p>Serialised form ({@code weights.bin}, whose SHA-256 names the model in bitstreams): magic
 * {@code LLICFXP1}, u32 input bound, u32 layer count, then per layer u32 in, u32 out, u32 shift,
 * u8 leaky, i64 clip, {@code out*in} i64 weights, {@code out} i64 biases. Big-endian. A network with
 * grouped layers is written as {@code LLICFXP2}: the same, with a u32 group count after each
 * layer's shift and {@code out*in/groups} weights; dense networks keep {@code LLICFXP1}, so their
 * bytes (and the hashes that name them) never change.
 */
public final class FixedPointNet {
    private static final byte[] MAGIC = {'L', 'L', 'I', 'C', 'F', 'X', 'P', '1'};
    private static final byte[] MAGIC_GROUPED = {'L', 'L', 'I', 'C', 'F', 'X', 'P', '2'};
    private static final int MAX_LAYERS = 64;
    private static final int MAX_WIDTH = 1 << 12;

    private final long inputBound;
    private final List<FixedPointLayer> layers;

    public FixedPointNet(long inputBound, List<FixedPointLayer> layers) throws ModelException {
        this.inputBound = inputBound;
        this.layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new ModelException("a network needs at least one layer");
        }
        long bound = inputBound;
        for (int l = 0; l < layers.size(); l++) {
            FixedPointLayer layer = layers.get(l);
            if (l > 0 && layer.in() != layers.get(l - 1).out()) {
                throw new ModelException("layer " + l + " takes " + layer.in() + " inputs but layer " + (l - 1)
                        + " gives " + layers.get(l - 1).out());
            }
            long worst;
            try {
                worst = layer.worstPartialSum(bound);
            } catch (ArithmeticException e) {
                worst = Long.MAX_VALUE;
            }
            if (worst >= FixedPointLayer.EXACT_LIMIT) {
                throw new ModelException("layer " + l + " can reach a partial sum of " + worst
                        + ", not below 2^53: float64 evaluation would not be exact (lower the clip or the scale)");
            }
            // the leaky ReLU multiplies the floored sum by the slope's numerator before flooring again:
            // that product, too, must stay an exact float64 integer
            long reach = (worst >> layer.shift()) + 1;
            if (layer.leaky() && reach > (FixedPointLayer.EXACT_LIMIT - 1) / FixedPointLayer.LEAKY_SLOPE) {
                throw new ModelException("layer " + l + " can reach " + reach + " before its leaky ReLU; times the slope "
                        + FixedPointLayer.LEAKY_SLOPE + "/2^" + FixedPointLayer.SLOPE_BITS
                        + " that is not below 2^53: float64 evaluation would not be exact (lower the scale)");
            }
            bound = layer.clip();
        }
    }

    public long inputBound() {
        return inputBound;
    }

    /**
     * Checks that every input of {@code count} rows lies within the input bound the exactness proof
     * assumed: an input beyond it could break the 2^53 bound, so every evaluator refuses it.
     */
    public void checkInputs(long[] inputs, int count) {
        int n = count * inputs();
        for (int i = 0; i < n; i++) {
            long x = inputs[i];
            if (x > inputBound || x < -inputBound) {
                throw new IllegalArgumentException("network input " + x + " (row " + i / inputs() + ", column " + i % inputs()
                        + ") is outside the model's input bound " + inputBound);
            }
        }
    }

    public List<FixedPointLayer> layers() {
        return layers;
    }

    public int inputs() {
        return layers.get(0).in();
    }

    public int outputs() {
        return layers.get(layers.size() - 1).out();
    }

    public long parameterCount() {
        long n = 0;
        for (FixedPointLayer l : layers) {
            n += l.weights().length + l.bias().length;
        }
        return n;
    }

    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            boolean grouped = layers.stream().anyMatch(l -> l.groups() != 1);
            out.write(grouped ? MAGIC_GROUPED : MAGIC);
            out.writeInt((int) inputBound);
            out.writeInt(layers.size());
            for (FixedPointLayer l : layers) {
                out.writeInt(l.in());
                out.writeInt(l.out());
                out.writeInt(l.shift());
                if (grouped) {
                    out.writeInt(l.groups());
                }
                out.writeByte(l.leaky() ? 1 : 0);
                out.writeLong(l.clip());
                for (long w : l.weights()) {
                    out.writeLong(w);
                }
                for (long b : l.bias()) {
                    out.writeLong(b);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    public static FixedPointNet fromBytes(byte[] data, String what) throws ModelException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            FixedPointNet net = read(in, what);
            if (in.read() != -1) {
                throw new ModelException(what + ": unexpected bytes after the last layer");
            }
            return net;
        } catch (IOException e) {
            throw new ModelException(what + ": " + e.getMessage(), e);
        }
    }

    /** Reads a network from the start of {@code in}, leaving whatever follows the last layer unread. */
    static FixedPointNet read(DataInputStream in, String what) throws ModelException {
        try {
            byte[] magic = in.readNBytes(MAGIC.length);
            boolean grouped = java.util.Arrays.equals(magic, MAGIC_GROUPED);
            if (!grouped && !java.util.Arrays.equals(magic, MAGIC)) {
                throw new ModelException(what + " is not an llic fixed-point weights file");
            }
            long inputBound = in.readInt() & 0xFFFFFFFFL;
            int count = in.readInt();
            if (count < 1 || count > MAX_LAYERS) {
                throw new ModelException(what + ": bad layer count " + count);
            }
            List<FixedPointLayer> layers = new ArrayList<>();
            for (int l = 0; l < count; l++) {
                int inputs = in.readInt();
                int outputs = in.readInt();
                if (inputs < 1 || outputs < 1 || inputs > MAX_WIDTH || outputs > MAX_WIDTH) {
                    throw new ModelException(what + ": bad shape of layer " + l);
                }
                int shift = in.readInt();
                int groups = grouped ? in.readInt() : 1;
                if (groups < 1 || inputs % groups != 0 || outputs % groups != 0) {
                    throw new ModelException(what + ": layer " + l + " of " + inputs + " -> " + outputs + " cannot have "
                            + groups + " groups");
                }
                boolean leaky = in.readByte() != 0;
                long clip = in.readLong();
                long[] w = new long[inputs / groups * outputs];
                for (int i = 0; i < w.length; i++) {
                    w[i] = in.readLong();
                }
                long[] b = new long[outputs];
                for (int i = 0; i < b.length; i++) {
                    b[i] = in.readLong();
                }
                try {
                    layers.add(new FixedPointLayer(inputs, outputs, w, b, shift, leaky, clip, groups));
                } catch (IllegalArgumentException e) {
                    throw new ModelException(what + ": layer " + l + ": " + e.getMessage());
                }
            }
            return new FixedPointNet(inputBound, layers);
        } catch (EOFException e) {
            throw new ModelException(what + " is truncated");
        } catch (IOException e) {
            throw new ModelException(what + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new ModelException(what + ": " + e.getMessage());
        }
    }
}
