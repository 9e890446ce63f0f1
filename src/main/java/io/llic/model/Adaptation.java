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
 *   <li><b>Error predictor</b> (optional, {@link #lms}): a linear prediction of the network's error
 *       x - mu from {@value #LMS_TAPS} errors the decoder already knows (left, upper, upper-left,
 *       upper-right, second left, second upper, upper-right+2 and upper-left-2 neighbours in the same
 *       channel; the left and upper neighbours in the channel coded before it, G for R; and the
 *       current pixel's errors in the channels already coded), with weights per channel and per
 *       octave of s ({@value #LMS_SETS} sets), learned from zero in each image by block normalised
 *       LMS: after a step, each set's weights move by
 *       {@code 2^-4 * sum(e f) / (2^16 + sum(|f|^2))} over the step's pixels of that set, e the
 *       remaining error. The prediction shifts the mean before the bias classes, which then learn
 *       from what it leaves. Like JPEG XL's self-correcting predictor it follows an image's own
 *       correlations (between neighbours' errors and between colour channels), which a network
 *       trained on other images can only know on average. Q16 weights, clamped to +-16.</li>
 * </ul>
 * All sums are in units of 2^-8 of a pixel value, and a class halves its sums and count when the
 * count reaches {@link #limit} (old pixels fade out). Settings (limit 1024, minCount 8, the class
 * layout) were chosen on held-out training images, never on Kodak.
 *
 * <p>The class layout, the level edges and the update rules are part of the bitstream format: the
 * block magic {@code LLICADP1} names the stage without the error predictor and {@code LLICADP2} the
 * stage that may have it (flag 4); any change to either needs a new magic (and keeps these
 * decodable), since files coded with a model must decode for ever. A stage without the predictor
 * is still written as {@code LLICADP1}, so the models made before it keep their bytes and hashes.
 *
 * <p>Encoder and decoder update the classes at the same points: after each step of the schedule,
 * with all pixels of the step in the step's order, channel by channel. The corrections therefore
 * depend only on completed steps, never on batch size or threads, and everything is integer.
 */
public record Adaptation(boolean bias, boolean spread, boolean lms, int limit, int minCount, int calibrationQ12) {
    static final byte[] MAGIC = {'L', 'L', 'I', 'C', 'A', 'D', 'P', '1'};
    /** The block that may carry the error predictor (flag 4). */
    static final byte[] MAGIC_LMS = {'L', 'L', 'I', 'C', 'A', 'D', 'P', '2'};
    /** Inputs of the error predictor: known errors around the pixel and in its coded channels. */
    public static final int LMS_TAPS = 12;
    /** Weight sets per channel: one per octave of the spread (two spread buckets). */
    public static final int LMS_SETS = 8;
    /** Step size of the block-normalised LMS update: 2^-4. */
    static final int LMS_STEP_SHIFT = 4;
    static final int LMS_WEIGHT_BITS = 16;
    /** Largest |weight| (Q16): 16. */
    static final long LMS_WEIGHT_LIMIT = 16L << LMS_WEIGHT_BITS;
    /** Added to a step's tap energy: one pixel value squared, in (2^-8)^2 units. */
    static final long LMS_EPSILON = 1L << 16;
    /** Bound of an error as the predictor sees it (2^-8 units: 128 pixel values). */
    static final long LMS_ERROR_LIMIT = Short.MAX_VALUE;
    /** Bound of a step's summed gradient before the step-size shift: keeps it far from overflow. */
    static final long LMS_GRADIENT_LIMIT = 1L << 50;
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

    /** A mean shift (2^-8 units) bounded to +-{@link #BIAS_LIMIT}, as every correction of the stage is. */
    public static long boundShift(long shiftQ8) {
        return Math.max(-BIAS_LIMIT, Math.min(BIAS_LIMIT, shiftQ8));
    }

    /**
     * The mean shift of a bias class that has summed {@code sumError} over {@code count} pixels:
     * {@code floor(sumError / (count + 1))}, bounded; 0 without the bias part or for an empty class.
     */
    public long biasShift(long sumError, int count) {
        return bias && count > 0 ? boundShift(Math.floorDiv(sumError, count + 1)) : 0;
    }

    /**
     * The sigma scale (Q12) of a spread class that has summed {@code sumAbs} residuals and
     * {@code sumSpread} spreads over {@code count} pixels: their ratio relative to the calibration,
     * within [1/2, 2]; 1 without the spread part or below {@code minCount} pixels.
     */
    public long spreadScale(long sumAbs, long sumSpread, int count) {
        if (!spread || count < minCount) {
            return 1L << Q;
        }
        long expected = Math.max(1, (sumSpread * calibrationQ12) >> Q);
        return Math.max(SCALE_MIN, Math.min(SCALE_MAX, (sumAbs << Q) / expected));
    }

    /** Moves the distribution's means by {@code shiftQ8} and scales its sigmas by {@code scaleQ12}, unless both are neutral. */
    public static void apply(MixtureCdf cdf, long shiftQ8, long scaleQ12) {
        if (shiftQ8 != 0 || scaleQ12 != 1L << Q) {
            cdf.adjust(shiftQ8, scaleQ12);
        }
    }

    /** The stage as it was before the error predictor (magic {@code LLICADP1}). */
    public Adaptation(boolean bias, boolean spread, int limit, int minCount, int calibrationQ12) {
        this(bias, spread, false, limit, minCount, calibrationQ12);
    }

    /** The default settings (every correction, the error predictor included) with a network's calibration. */
    public static Adaptation defaults(int calibrationQ12) {
        return new Adaptation(true, true, true, DEFAULT_LIMIT, DEFAULT_MIN_COUNT, calibrationQ12);
    }

    /** What the manifest lists. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", lms
                ? "error predictor (block-normalised LMS), per-class bias cancellation and spread correction, updated after every schedule step"
                : "per-class bias cancellation and spread correction, updated after every schedule step");
        m.put("bias", bias);
        m.put("spread", spread);
        if (lms) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("taps", LMS_TAPS);
            p.put("setsPerChannel", LMS_SETS);
            p.put("stepSize", "2^-" + LMS_STEP_SHIFT);
            p.put("start", "zero weights in every image");
            m.put("errorPredictor", p);
        }
        m.put("classesPerChannel", CLASSES_PER_CHANNEL);
        m.put("limit", limit);
        m.put("minCount", minCount);
        m.put("calibrationQ12", calibrationQ12);
        return m;
    }

    void write(DataOutputStream out) throws IOException {
        out.write(lms ? MAGIC_LMS : MAGIC);
        out.writeByte((bias ? 1 : 0) | (spread ? 2 : 0) | (lms ? 4 : 0));
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
        boolean second = Arrays.equals(magic, MAGIC_LMS);
        if (!second && !Arrays.equals(magic, MAGIC)) {
            throw new ModelException(what + ": unexpected bytes after the last layer");
        }
        int flags = in.readUnsignedByte();
        if ((flags & ~(second ? 7 : 3)) != 0) {
            throw new ModelException(what + ": unknown adaptation flags " + flags);
        }
        if (second && (flags & 4) == 0) {
            // written only with the predictor: a stage without it is LLICADP1, so its bytes (and hash) are one
            throw new ModelException(what + ": adaptation block LLICADP2 without the error predictor flag");
        }
        try {
            return new Adaptation((flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, in.readInt(), in.readInt(), in.readInt());
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
        // error predictor: weights (Q16) per (channel, set, tap), the step's gradient and tap energy per set
        private final long[] lmsWeight;
        private final long[] lmsGradient;
        private final long[] lmsEnergy;
        // per (channel, pixel of the step): taps, prediction (2^-8 units) and set
        private long[] stepTaps = new long[0];
        private long[] stepPrediction = new long[0];
        private int[] stepSet = new int[0];
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
            this.lmsWeight = a.lms ? new long[3 * LMS_SETS * LMS_TAPS] : null;
            this.lmsGradient = a.lms ? new long[3 * LMS_SETS * LMS_TAPS] : null;
            this.lmsEnergy = a.lms ? new long[3 * LMS_SETS] : null;
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
                stepPrediction = new long[n];
                if (a.lms) {
                    stepTaps = new long[n * LMS_TAPS];
                    stepSet = new int[n];
                }
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
            long prediction = a.lms ? predictError(c, p, slot, index, spread) : 0;
            stepPrediction[slot] = prediction;
            stepClass[slot] = cls;
            stepMean[slot] = mean;
            stepSpread[slot] = spread;
            long shift = a.biasShift(sumError[cls], count[cls]);
            long scale = a.spreadScale(energyAbs[ecls], energySpread[ecls], energyCount[ecls]);
            stepEnergyClass[slot] = ecls;
            stepBias[slot] = shift;
            apply(cdf, shift + prediction, scale);
        }

        /** The error predictor's taps for channel c of the pixel at {@code index}, stored for the update, and its prediction. */
        private long predictError(int c, int p, int slot, int index, long spread) {
            int row = index / width;
            int col = index - row * width;
            boolean up = row > 0;
            int other = c > 0 ? c - 1 : 1;
            int t = slot * LMS_TAPS;
            long[] f = stepTaps;
            f[t] = col > 0 ? errors[(index - 1) * 3 + c] : 0;
            f[t + 1] = up ? errors[(index - width) * 3 + c] : 0;
            f[t + 2] = up && col > 0 ? errors[(index - width - 1) * 3 + c] : 0;
            f[t + 3] = up && col + 1 < width ? errors[(index - width + 1) * 3 + c] : 0;
            f[t + 4] = col > 1 ? errors[(index - 2) * 3 + c] : 0;
            f[t + 5] = row > 1 ? errors[(index - 2 * width) * 3 + c] : 0;
            f[t + 6] = c > 0 ? channelError(index, c - 1, p) : 0;
            f[t + 7] = c > 1 ? channelError(index, 0, p) : 0;
            f[t + 8] = col > 0 ? errors[(index - 1) * 3 + other] : 0;
            f[t + 9] = up ? errors[(index - width) * 3 + other] : 0;
            f[t + 10] = up && col + 2 < width ? errors[(index - width + 2) * 3 + c] : 0;
            f[t + 11] = up && col > 1 ? errors[(index - width - 2) * 3 + c] : 0;
            int set = c * LMS_SETS + bucket(spread) / 2;
            stepSet[slot] = set;
            long sum = 0;
            for (int i = 0, w = set * LMS_TAPS; i < LMS_TAPS; i++) {
                sum += lmsWeight[w + i] * f[t + i];
            }
            return boundShift(sum >> LMS_WEIGHT_BITS);
        }

        /** The network's error in channel {@code c} (coded before) of the step's pixel p at {@code index}, bounded. */
        private long channelError(int index, int c, int p) {
            long e = ((long) (samples[index * 3 + c] & 0xFF) << 8) - stepMean[c * stepPixels + p];
            return Math.max(-LMS_ERROR_LIMIT, Math.min(LMS_ERROR_LIMIT, e));
        }

        /** Adds the step's pixels (linear indices {@code pixels[from ..]}), now that their values are known. */
        public void endStep(int[] pixels, int from) {
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < stepPixels; p++) {
                    int slot = c * stepPixels + p;
                    int cls = stepClass[slot];
                    int at = pixels[from + p] * 3 + c;
                    long x = (long) (samples[at] & 0xFF) << 8;
                    long networkError = x - stepMean[slot];
                    errors[at] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, networkError));
                    // what the error predictor left: the bias classes and spreads learn from it
                    long error = networkError - stepPrediction[slot];
                    if (a.lms) {
                        long e = Math.max(-LMS_ERROR_LIMIT, Math.min(LMS_ERROR_LIMIT, error));
                        int set = stepSet[slot];
                        for (int i = 0, t = slot * LMS_TAPS, g = set * LMS_TAPS; i < LMS_TAPS; i++) {
                            long f = stepTaps[t + i];
                            lmsGradient[g + i] += e * f;
                            lmsEnergy[set] += f * f;
                        }
                    }
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
            if (a.lms) {
                updateWeights();
            }
        }

        /** One block-normalised LMS step per weight set that had pixels in this step. */
        private void updateWeights() {
            for (int set = 0; set < lmsEnergy.length; set++) {
                if (lmsEnergy[set] == 0) {
                    continue;
                }
                long norm = lmsEnergy[set] + LMS_EPSILON;
                for (int i = 0, g = set * LMS_TAPS; i < LMS_TAPS; i++) {
                    long gradient = Math.max(-LMS_GRADIENT_LIMIT, Math.min(LMS_GRADIENT_LIMIT, lmsGradient[g + i]));
                    long w = lmsWeight[g + i] + Math.floorDiv(gradient << (LMS_WEIGHT_BITS - LMS_STEP_SHIFT), norm);
                    lmsWeight[g + i] = Math.max(-LMS_WEIGHT_LIMIT, Math.min(LMS_WEIGHT_LIMIT, w));
                    lmsGradient[g + i] = 0;
                }
                lmsEnergy[set] = 0;
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
    public static int errorLevel(long errorSum, long spread) {
        long e4 = errorSum * 4;
        return e4 < -6 * spread ? 0 : e4 < -3 * spread ? 1 : e4 < -spread ? 2 : e4 <= spread ? 3
                : e4 <= 3 * spread ? 4 : e4 <= 6 * spread ? 5 : 6;
    }

    /** Level (0..7) of the neighbours' error energy m relative to the spread s: edges of 4m/s at 2, 4, 6, 8, 12, 16, 24. */
    public static int energyLevel(long energy, long spread) {
        long e4 = energy * 4;
        return e4 < 2 * spread ? 0 : e4 < 4 * spread ? 1 : e4 < 6 * spread ? 2 : e4 < 8 * spread ? 3
                : e4 < 12 * spread ? 4 : e4 < 16 * spread ? 5 : e4 < 24 * spread ? 6 : 7;
    }

    /** Half-octave bucket of a spread in 2^-8 pixel units: 0 below ~0.18, 15 from 32 pixel values on. */
    public static int bucket(long spreadQ8) {
        if (spreadQ8 <= 0) {
            return 0;
        }
        int log = 63 - Long.numberOfLeadingZeros(spreadQ8);
        // upper half of the octave when spread >= 2^log * sqrt(2), i.e. spread^2 >= 2^(2 log + 1)
        int half = spreadQ8 * spreadQ8 >= 1L << (2 * log + 1) ? 1 : 0;
        return Math.max(0, Math.min(SPREAD_BUCKETS - 1, 2 * log + half - 10));
    }
}
