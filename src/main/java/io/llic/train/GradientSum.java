package io.llic.train;

import java.io.Serializable;

/**
 * Sum of the gradients (and code lengths) of several shards, held in fixed point (2^-40 for
 * gradients, 2^-20 bits for code lengths) so that adding is associative: Spark may combine the
 * shards' results in any order or tree shape and the total is bit-identical.
 */
public final class GradientSum implements Serializable {
    private static final long serialVersionUID = 1L;
    static final double GRADIENT_SCALE = 0x1p40;
    static final double BITS_SCALE = 0x1p20;
    /** Gradients are clamped to +-2^20 per element before the sum (far above any sane value). */
    static final double GRADIENT_LIMIT = 0x1p20;

    private long[] gradient;
    private long bits;
    private long subpixels;
    private long clamped;
    private long computeNanos;
    private int shards;

    public GradientSum(int size) {
        this.gradient = new long[size];
    }

    public static GradientSum of(LossModel.Result r) {
        GradientSum s = new GradientSum(r.gradient() == null ? 0 : r.gradient().length);
        s.bits = Math.round(r.bits() * BITS_SCALE);
        s.subpixels = r.subpixels();
        if (r.gradient() != null) {
            for (int i = 0; i < r.gradient().length; i++) {
                double g = r.gradient()[i];
                if (!(Math.abs(g) <= GRADIENT_LIMIT)) {
                    g = Double.isNaN(g) ? 0 : Math.copySign(GRADIENT_LIMIT, g);
                    s.clamped++;
                }
                s.gradient[i] = Math.round(g * GRADIENT_SCALE);
            }
        }
        return s;
    }

    /** Adds {@code other} into this and returns this. */
    public GradientSum add(GradientSum other) {
        if (gradient.length == 0) {
            gradient = new long[other.gradient.length];
        }
        if (other.gradient.length != 0) {
            if (other.gradient.length != gradient.length) {
                throw new IllegalArgumentException("gradients of different sizes: " + gradient.length + " and "
                        + other.gradient.length);
            }
            for (int i = 0; i < gradient.length; i++) {
                gradient[i] += other.gradient[i];
            }
        }
        bits += other.bits;
        subpixels += other.subpixels;
        clamped += other.clamped;
        computeNanos += other.computeNanos;
        shards += other.shards;
        return this;
    }

    /** Records that one shard spent {@code nanos} drawing its crops and computing; returns this. */
    public GradientSum timed(long nanos) {
        computeNanos += nanos;
        shards++;
        return this;
    }

    /** Mean time a shard spent on its own work (crops, loss, gradient), in seconds. */
    public double meanShardSeconds() {
        return shards == 0 ? 0 : computeNanos / 1e9 / shards;
    }

    public double[] gradient() {
        double[] g = new double[gradient.length];
        for (int i = 0; i < g.length; i++) {
            g[i] = gradient[i] / GRADIENT_SCALE;
        }
        return g;
    }

    public double bits() {
        return bits / BITS_SCALE;
    }

    public long subpixels() {
        return subpixels;
    }

    /** Bits per sub-pixel of the summed batch. */
    public double bitsPerSubpixel() {
        return subpixels == 0 ? Double.NaN : bits() / subpixels;
    }

    /** Gradient elements that were NaN, infinite or beyond the limit (and clamped). */
    public long clamped() {
        return clamped;
    }
}
