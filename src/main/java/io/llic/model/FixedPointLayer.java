package io.llic.model;

/**
 * One fully connected layer in fixed point, optionally grouped. For each output o, whose group
 * {@code g = o / (out / groups)} sees inputs {@code g * in/groups .. (g + 1) * in/groups - 1}:
 * <pre>
 *   acc = sum_i x[g * in/groups + i] * weights[o * in/groups + i] + bias[o]   (exact integer, |acc| < 2^53)
 *   y   = floor(acc / 2^shift)
 *   y   = leaky ? (y >= 0 ? y : floor(y * slope / 2^SLOPE_BITS)) : y
 *   y   = clamp(y, -clip, clip)
 * </pre>
 * With {@code groups = 1} this is a dense layer. Groups are independent sub-networks side by side
 * (LLICTI's separate networks per distribution parameter, ALGORITHMS.md B.4). Every evaluator (pure
 * Java, DJL on CPU or GPU) must produce exactly these integers.
 *
 * @param weights row-major {@code out x (in / groups)}
 */
public record FixedPointLayer(int in, int out, long[] weights, long[] bias, int shift, boolean leaky, long clip, int groups) {
    /** Fraction bits of the leaky-ReLU slope. */
    public static final int SLOPE_BITS = 16;
    /** The PyTorch default slope 0.01, held to 2^-16. */
    public static final long LEAKY_SLOPE = Math.round(0.01 * (1 << SLOPE_BITS)); // 655
    /** Every partial sum of every layer stays below this, so float64 evaluation is exact. */
    public static final long EXACT_LIMIT = 1L << 53;

    public FixedPointLayer {
        if (groups < 1 || in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("a layer of " + in + " -> " + out + " cannot have " + groups + " groups");
        }
        if (weights.length != (long) (in / groups) * out || bias.length != out) {
            throw new IllegalArgumentException("layer shape " + out + "x" + in + " in " + groups
                    + " group(s) does not match its arrays");
        }
        if (shift < 0 || shift > 52 || clip <= 0 || clip > (1L << 52)) {
            throw new IllegalArgumentException("bad shift " + shift + " or clip " + clip);
        }
    }

    /** A dense layer (one group). */
    public FixedPointLayer(int in, int out, long[] weights, long[] bias, int shift, boolean leaky, long clip) {
        this(in, out, weights, bias, shift, leaky, clip, 1);
    }

    /** Inputs each output sees: {@code in / groups}. */
    public int fanIn() {
        return in / groups;
    }

    /** First input of output {@code o}'s group. */
    public int firstInput(int o) {
        return o / (out / groups) * fanIn();
    }

    /**
     * The largest |partial sum| this layer can reach when every input lies in [-inputBound, inputBound],
     * whatever the summation order: sum of |w| * bound plus |bias|, maximised over outputs.
     */
    public long worstPartialSum(long inputBound) {
        long worst = 0;
        int n = fanIn();
        for (int o = 0; o < out; o++) {
            long s = Math.abs(bias[o]);
            for (int i = 0; i < n; i++) {
                s = Math.addExact(s, Math.multiplyExact(Math.abs(weights[o * n + i]), inputBound));
            }
            worst = Math.max(worst, s);
        }
        return worst;
    }

    /** Multiply-accumulates per evaluated row. */
    public long multiplyAccumulates() {
        return (long) out * fanIn();
    }

    /** Applies floor-shift, activation and clip to one accumulator: the shared definition. */
    public long finish(long acc) {
        long y = acc >> shift;
        if (leaky && y < 0) {
            y = Math.floorDiv(y * LEAKY_SLOPE, 1L << SLOPE_BITS);
        }
        return Math.max(-clip, Math.min(clip, y));
    }
}
