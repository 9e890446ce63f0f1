package io.llic.model;

import io.llic.prob.MixtureCdf;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adaptation while coding: an integer stage after the network that learns from the pixels already
 * coded in the same image, in the manner of CALIC's bias cancellation and JPEG XL's self-correcting
 * predictor. It is part of the model: its settings are stored in {@code weights.bin} after the
 * layers (so the model's SHA-256 covers them) and listed in the manifest.
 *
 * <p>Two tables of context classes per colour channel c, both built from what the decoder already
 * knows: the network's prediction (mean mu, spread s = weighted sigma), its errors x - mu at the left
 * and the upper neighbour (the network cannot see its own errors, and neighbouring errors are
 * correlated), and for G and B the residual of the channel coded just before in the same pixel.
 * <ul>
 *   <li><b>Bias classes</b> (1344 per channel): the half-octave of s (16 buckets), the neighbours'
 *       summed error relative to s (7 levels, {@link #errorLevel}), the previous channel's signed
 *       residual (3 levels), and whether the left and upper neighbours lie above mu (2 bits). Each
 *       keeps sumError = sum of (x - mu) and a count; the pixel's every component mean moves by
 *       {@code floor(sumError / (count + 1))} (at most 32 values).</li>
 *   <li><b>Spread classes</b> (384 per channel): the half-octave of s, the neighbours' error energy
 *       |e_left| + |e_above| relative to s (8 levels, {@link #energyLevel}) and the previous channel's
 *       |residual| (3 levels), in the manner of the error-energy contexts of CALIC and JPEG-LS. Each
 *       keeps sumAbs = sum of |x - mu - bias| and sumSpread = sum of s; from {@link #minCount}
 *       pixels on, every sigma is scaled by {@code clamp(sumAbs / (sumSpread * calibration), 1/2, 2)},
 *       where {@code calibration} (Q12) is the ratio the network shows on its own validation images
 *       ({@code AdaptationCalibration}), so that the scale is 1 where the network is as right as it
 *       was in training.</li>
 * </ul>
 * All sums are in units of 2^-8 of a pixel value, and a class halves its sums and count when the
 * count reaches {@link #limit} (old pixels fade out). Settings (limit 1024, minCount 8, the class
 * layout) were chosen on held-out training images, never on Kodak.
 *
 * <p>The class layout, the level edges and the update rule are part of the bitstream format: the
 * block magic {@code LLICADP1} names exactly this stage, and any change to it needs a new magic (and
 * keeps this one decodable), since files coded with a model must decode for ever.
 *
 * <p>Encoder and decoder update the classes at the same points: after each step of the schedule,
 * with all pixels of the step in the step's order, channel by channel. The corrections therefore
 * depend only on completed steps, never on batch size or threads, and everything is integer.
 */
public record Adaptation(boolean bias, boolean spread, int limit, int minCount, int calibrationQ12) {
    static final byte[] MAGIC = {'L', 'L', 'I', 'C', 'A', 'D', 'P', '1'};
    public static final int SPREAD_BUCKETS = 16;
    /** Levels of the neighbours' error context: the network's errors at the left and upper pixel, summed. */
    public static final int ERROR_LEVELS = 7;
    /** Levels of the residual of the channel coded before in the same pixel (G and B only). */
    public static final int CHANNEL_LEVELS = 3;
    public static final int CLASSES_PER_CHANNEL = SPREAD_BUCKETS * ERROR_LEVELS * CHANNEL_LEVELS * 4;
    /** Levels of the neighbours' error energy (|left error| + |upper error|) relative to the spread. */
    public static final int ENERGY_LEVELS = 8;
    public static final int SPREAD_CLASSES_PER_CHANNEL = SPREAD_BUCKETS * ENERGY_LEVELS * CHANNEL_LEVELS;
    static final int Q = 12;
    static final long SCALE_MIN = 1L << (Q - 1);
    static final long SCALE_MAX = 2L << Q;
    /** Largest mean shift, in 2^-8 pixel units (32 pixel values). */
    static final long BIAS_LIMIT = 32L << 8;
    /** Settings chosen on the training data (see the model cards); calibration comes from the network. */
    public static final int DEFAULT_LIMIT = 1024;
    public static final int DEFAULT_MIN_COUNT = 8;

    public Adaptation {
        if (limit < 2 || limit > (1 << 16) || minCount < 1 || minCount > limit || calibrationQ12 < 1 || calibrationQ12 > (1 << 16)) {
            throw new IllegalArgumentException("adaptation settings out of range: limit " + limit + ", minCount " + minCount
                    + ", calibration " + calibrationQ12);
        }
    }

    /** The default settings with a network's calibration. */
    public static Adaptation defaults(int calibrationQ12) {
        return new Adaptation(true, true, DEFAULT_LIMIT, DEFAULT_MIN_COUNT, calibrationQ12);
    }

    /** What the manifest lists. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", "per-class bias cancellation and spread correction, updated after every schedule step");
        m.put("bias", bias);
        m.put("spread", spread);
        m.put("classesPerChannel", CLASSES_PER_CHANNEL);
        m.put("limit", limit);
        m.put("minCount", minCount);
        m.put("calibrationQ12", calibrationQ12);
        return m;
    }

    void write(DataOutputStream out) throws IOException {
        out.write(MAGIC);
        out.writeByte((bias ? 1 : 0) | (spread ? 2 : 0));
        out.writeInt(limit);
        out.writeInt(minCount);
        out.writeInt(calibrationQ12);
    }

    /** Reads the block that follows the layers, or returns null at the end of the file. */
    static Adaptation read(DataInputStream in, String what) throws IOException, ModelException {
        byte[] magic = in.readNBytes(MAGIC.length);
        if (magic.length == 0) {
            return null;
        }
        if (!Arrays.equals(magic, MAGIC)) {
            throw new ModelException(what + ": unexpected bytes after the last layer");
        }
        int flags = in.readUnsignedByte();
        if ((flags & ~3) != 0) {
            throw new ModelException(what + ": unknown adaptation flags " + flags);
        }
        try {
            return new Adaptation((flags & 1) != 0, (flags & 2) != 0, in.readInt(), in.readInt(), in.readInt());
        } catch (IllegalArgumentException e) {
            throw new ModelException(what + ": " + e.getMessage());
        }
    }

    /** The running state of one image: create one per encode or decode. */
    public State newState(byte[] samples, int width) {
        return new State(this, samples, width);
    }

    /**
     * Class statistics of one image and the per-pixel record of the current step (what was predicted
     * and which correction was used), so the step's pixels can be added once they are all known.
     */
    public static final class State {
        private final Adaptation a;
        private final int classes = 3 * CLASSES_PER_CHANNEL;
        private final long[] sumError = new long[classes];
        private final int[] count = new int[classes];
        // spread correction by error energy: (channel, spread bucket, neighbours' |error| level, previous channel's)
        private final int spreadClasses = 3 * SPREAD_CLASSES_PER_CHANNEL;
        private final long[] energyAbs = new long[spreadClasses];
        private final long[] energySpread = new long[spreadClasses];
        private final int[] energyCount = new int[spreadClasses];
        private int[] stepEnergyClass = new int[0];
        // per (channel, pixel of the step)
        private int[] stepClass = new int[0];
        private long[] stepMean = new long[0];
        private long[] stepSpread = new long[0];
        private long[] stepBias = new long[0];
        private int stepPixels;
        // totals of the image, for calibration: |x - mu - bias| and the spreads
        private long absAfter;
        private long spreadTotal;

        // the image being coded (RGB interleaved, values written as they are coded) and the network's errors
        private final byte[] samples;
        private final short[] errors;
        private final int width;

        State(Adaptation a, byte[] samples, int width) {
            this.a = a;
            this.samples = samples;
            this.width = width;
            this.errors = new short[samples.length];
        }

        /** Starts a step of {@code pixels} pixels. */
        public void beginStep(int pixels) {
            if (stepClass.length < 3 * pixels) {
                int n = Math.max(3 * pixels, 2 * stepClass.length);
                stepClass = new int[n];
                stepMean = new long[n];
                stepSpread = new long[n];
                stepBias = new long[n];
                stepEnergyClass = new int[n];
            }
            stepPixels = pixels;
        }

        /**
         * Corrects the distribution just loaded into {@code cdf} for channel {@code c} of pixel {@code p}
         * of the step (0-based), whose left and upper neighbours in that channel have the values given
         * (-1 outside the image).
         */
        public void correct(MixtureCdf cdf, int c, int p, int index, int left, int above) {
            long mean = cdf.meanQ8();
            long spread = cdf.spreadQ8();
            long errorSum = (left >= 0 ? errors[(index - 1) * 3 + c] : 0) + (above >= 0 ? errors[(index - width) * 3 + c] : 0);
            long energy = (left >= 0 ? Math.abs(errors[(index - 1) * 3 + c]) : 0)
                    + (above >= 0 ? Math.abs(errors[(index - width) * 3 + c]) : 0);
            int chan = 0;
            int chanEnergy = 0;
            if (c > 0) {
                int prev = (c - 1) * stepPixels + p;
                long e = ((long) (samples[index * 3 + c - 1] & 0xFF) << 8) - stepMean[prev];
                chan = 2 * e < -stepSpread[prev] ? 1 : 2 * e > stepSpread[prev] ? 2 : 0;
                long ae = 2 * Math.abs(e);
                chanEnergy = ae < stepSpread[prev] ? 0 : ae < 4 * stepSpread[prev] ? 1 : 2;
            }
            int ecls = c * SPREAD_CLASSES_PER_CHANNEL + (chanEnergy * SPREAD_BUCKETS + bucket(spread)) * ENERGY_LEVELS
                    + energyLevel(energy, spread);
            int level = errorLevel(errorSum, spread);
            int cls = c * CLASSES_PER_CHANNEL + (((chan * SPREAD_BUCKETS + bucket(spread)) * ERROR_LEVELS + level) * 4)
                    + (left >= 0 && (long) left << 8 > mean ? 2 : 0) + (above >= 0 && (long) above << 8 > mean ? 1 : 0);
            int slot = c * stepPixels + p;
            stepClass[slot] = cls;
            stepMean[slot] = mean;
            stepSpread[slot] = spread;
            int n = count[cls];
            long shift = 0;
            long scale = 1L << Q;
            if (a.bias && n > 0) {
                shift = Math.max(-BIAS_LIMIT, Math.min(BIAS_LIMIT, Math.floorDiv(sumError[cls], n + 1)));
            }
            if (a.spread && energyCount[ecls] >= a.minCount) {
                long expected = Math.max(1, (energySpread[ecls] * a.calibrationQ12) >> Q);
                scale = Math.max(SCALE_MIN, Math.min(SCALE_MAX, (energyAbs[ecls] << Q) / expected));
            }
            stepEnergyClass[slot] = ecls;
            stepBias[slot] = shift;
            if (shift != 0 || scale != 1L << Q) {
                cdf.adjust(shift, scale);
            }
        }

        /** Adds the step's pixels (linear indices {@code pixels[from ..]}), now that their values are known. */
        public void endStep(int[] pixels, int from) {
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < stepPixels; p++) {
                    int slot = c * stepPixels + p;
                    int cls = stepClass[slot];
                    int at = pixels[from + p] * 3 + c;
                    long x = (long) (samples[at] & 0xFF) << 8;
                    long error = x - stepMean[slot];
                    errors[at] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, error));
                    long residual = Math.abs(error - stepBias[slot]);
                    absAfter += residual;
                    spreadTotal += stepSpread[slot];
                    sumError[cls] += error;
                    if (++count[cls] >= a.limit) {
                        sumError[cls] >>= 1;
                        count[cls] >>= 1;
                    }
                    int ecls = stepEnergyClass[slot];
                    energyAbs[ecls] += residual;
                    energySpread[ecls] += stepSpread[slot];
                    if (++energyCount[ecls] >= a.limit) {
                        energyAbs[ecls] >>= 1;
                        energySpread[ecls] >>= 1;
                        energyCount[ecls] >>= 1;
                    }
                }
            }
        }

        /** Sum over the image so far of |x - mu - bias| (2^-8 pixel units): what calibration compares with the spreads. */
        public long residualTotal() {
            return absAfter;
        }

        /** Sum of the network's spreads over the image so far (2^-8 pixel units). */
        public long spreadTotal() {
            return spreadTotal;
        }
    }

    /**
     * Level (0..6) of the neighbours' summed error e relative to the spread s: the edges of 4e/s are
     * -6, -3, -1, 1, 3, 6 (the middle level takes |4e| <= s).
     */
    static int errorLevel(long errorSum, long spread) {
        long e4 = errorSum * 4;
        return e4 < -6 * spread ? 0 : e4 < -3 * spread ? 1 : e4 < -spread ? 2 : e4 <= spread ? 3
                : e4 <= 3 * spread ? 4 : e4 <= 6 * spread ? 5 : 6;
    }

    /** Level (0..7) of the neighbours' error energy m relative to the spread s: edges of 4m/s at 2, 4, 6, 8, 12, 16, 24. */
    static int energyLevel(long energy, long spread) {
        long e4 = energy * 4;
        return e4 < 2 * spread ? 0 : e4 < 4 * spread ? 1 : e4 < 6 * spread ? 2 : e4 < 8 * spread ? 3
                : e4 < 12 * spread ? 4 : e4 < 16 * spread ? 5 : e4 < 24 * spread ? 6 : 7;
    }

    /** Half-octave bucket of a spread in 2^-8 pixel units: 0 below ~0.18, 15 from 32 pixel values on. */
    static int bucket(long spreadQ8) {
        if (spreadQ8 <= 0) {
            return 0;
        }
        int log = 63 - Long.numberOfLeadingZeros(spreadQ8);
        // upper half of the octave when spread >= 2^log * sqrt(2), i.e. spread^2 >= 2^(2 log + 1)
        int half = spreadQ8 * spreadQ8 >= 1L << (2 * log + 1) ? 1 : 0;
        return Math.max(0, Math.min(SPREAD_BUCKETS - 1, 2 * log + half - 10));
    }
}
