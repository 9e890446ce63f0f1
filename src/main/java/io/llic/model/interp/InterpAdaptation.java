package io.llic.model.interp;

import io.llic.model.Adaptation;
import io.llic.prob.MixtureCdf;

/**
 * The interp family's adaptation while coding: the integer stage of {@link Adaptation} (error
 * predictor, bias classes, spread classes), on the geometry of the scales. The settings come from
 * the model's adaptation block; the rules below are this family's and are part of its bitstream
 * format (a change needs a new block magic, and the old rules kept).
 *
 * <p>A sample of level L sits at odd multiples of {@code o = 2^L} in at least one coordinate; its
 * neighbours at distance o (four straight, four diagonal) were coded by coarser levels or earlier
 * passes of this level, or are still unknown; the samples at distance 2o to the left and above
 * belong to the same pass and come before it in raster order. The stage knows the network's error
 * (value - predicted mean, 2^-8 units) of every sample coded so far, updated symbol by symbol as
 * the symbols are coded; an unknown error counts as 0. Per channel (Y, Co, Cg) and sub-image kind
 * (x11, x01, x10):
 * <ul>
 *   <li><b>Error predictor</b>: a linear prediction of the network's error from {@value #TAPS} known
 *       errors: the 10 neighbours above, then for Co the same sample's Y error, for Cg its Co and
 *       Y errors; weights per (channel, kind, octave of the spread), Q16, learned from zero in each
 *       image by normalised LMS after every symbol:
 *       {@code w += floor(floor(e 2^(32 - 7) / (2^16 + |f|^2)) f / 2^16)}, e the remaining error.</li>
 *   <li><b>Bias classes</b>: spread half-octave (16), the known neighbours' mean error relative to
 *       the spread ({@link Adaptation#errorLevel}, 7), the previous channel's residual sign (3);
 *       the mean moves by the class's {@code floor(sumError / (count + 1))}.</li>
 *   <li><b>Spread classes</b>: spread half-octave, the known neighbours' mean |error| relative to
 *       the spread ({@link Adaptation#energyLevel} of twice it, 8), the previous channel's |residual|
 *       level (3); from {@code minCount} samples on, sigmas scale by
 *       {@code clamp(sumAbs / (sumSpread * calibration), 1/2, 2)}.</li>
 * </ul>
 * Classes halve their sums at {@code limit}. Encoder and decoder call {@link #correct} and
 * {@link #record} for the same symbols in the same order, so everything depends only on coded
 * symbols, never on batch size or threads; all of it is integer.
 */
final class InterpAdaptation {
    static final int TAPS = 12;
    static final int KINDS = 3;
    static final int SETS_PER_KIND = 8;
    static final int LMS_STEP_SHIFT = 7;
    static final int WEIGHT_BITS = 16;
    static final long WEIGHT_LIMIT = 16L << WEIGHT_BITS;
    static final long EPSILON = 1L << 16;
    static final long ERROR_LIMIT = Short.MAX_VALUE;
    static final short UNKNOWN = Short.MIN_VALUE;
    static final int BIAS_CLASSES = KINDS * Adaptation.SPREAD_BUCKETS * Adaptation.ERROR_LEVELS * Adaptation.CHANNEL_LEVELS;
    static final int SPREAD_CLASSES = KINDS * Adaptation.SPREAD_BUCKETS * Adaptation.ENERGY_LEVELS
            * Adaptation.CHANNEL_LEVELS;

    /** The neighbours, in units of o: left, right, above, below, the four diagonals, then 2o left and 2o above. */
    private static final int[] DR = {0, 0, -1, 1, -1, -1, 1, 1, 0, -2};
    private static final int[] DC = {-1, 1, 0, 0, -1, 1, -1, 1, -2, 0};
    private static final int NEIGHBOURS = DR.length;

    private final Adaptation a;
    private final int width;
    private final int height;
    private final short[][] errors;
    private final long[] weight = new long[3 * KINDS * SETS_PER_KIND * TAPS];
    private final long[] sumError = new long[3 * BIAS_CLASSES];
    private final int[] count = new int[3 * BIAS_CLASSES];
    private final long[] energyAbs = new long[3 * SPREAD_CLASSES];
    private final long[] energySpread = new long[3 * SPREAD_CLASSES];
    private final int[] energyCount = new int[3 * SPREAD_CLASSES];
    // the symbol being coded (set by correct, used by record)
    private final long[] taps = new long[TAPS];
    private long tapEnergy;
    private int set;
    private int biasClass;
    private int spreadClass;
    private long mean;
    private long spread;
    private long bias;
    private long prediction;
    // the network's spread for Y and Co of every sample coded so far (2^-8 units, at most 65535): the
    // next channel's context compares the sample's residual in them with them
    private final char[][] spreads;
    private long absAfter;
    private long spreadTotal;

    InterpAdaptation(Adaptation settings, int width, int height) {
        this.a = settings;
        this.width = width;
        this.height = height;
        this.errors = new short[3][width * height];
        this.spreads = new char[2][width * height];
        for (short[] e : errors) {
            java.util.Arrays.fill(e, UNKNOWN);
        }
    }

    /** The network's error of channel c at the sample {@code position} (coded before: always known). */
    private long error(int c, int position) {
        short e = errors[c][position];
        return e == UNKNOWN ? 0 : e;
    }

    /**
     * Corrects the distribution just loaded into {@code cdf} for channel {@code c} (0 Y, 1 Co, 2 Cg)
     * of the sample at {@code position}, of sub-image kind {@code kind} (0 x11, 1 x01, 2 x10) at
     * {@code level}, and remembers what it did for {@link #record}.
     */
    void correct(MixtureCdf cdf, int c, int position, int level, int kind) {
        mean = cdf.meanQ8();
        spread = cdf.spreadQ8();
        if (c < 2) {
            spreads[c][position] = (char) Math.min(Character.MAX_VALUE, spread);
        }
        int row = position / width;
        int col = position - row * width;
        int o = 1 << level;
        long sum = 0;
        long abs = 0;
        int n = 0;
        tapEnergy = 0;
        short[] known = errors[c];
        for (int t = 0; t < NEIGHBOURS; t++) {
            int r = row + DR[t] * o;
            int q = col + DC[t] * o;
            long e = 0;
            if (r >= 0 && q >= 0 && r < height && q < width) {
                short v = known[r * width + q];
                if (v != UNKNOWN) {
                    e = v;
                    n++;
                    sum += e;
                    abs += Math.abs(e);
                }
            }
            taps[t] = e;
        }
        taps[10] = c > 0 ? error(c - 1, position) : 0;
        taps[11] = c > 1 ? error(0, position) : 0;
        for (long f : taps) {
            tapEnergy += f * f;
        }
        int bucket = Adaptation.bucket(spread);
        int chan = 0;
        int chanEnergy = 0;
        if (c > 0) {
            long e = error(c - 1, position);
            long s = spreads[c - 1][position];
            chan = 2 * e < -s ? 1 : 2 * e > s ? 2 : 0;
            long ae = 2 * Math.abs(e);
            chanEnergy = ae < s ? 0 : ae < 4 * s ? 1 : 2;
        }
        // neighbours' mean error and mean |error|, scaled to two neighbours as in the causal stage
        long meanError = n == 0 ? 0 : Math.floorDiv(2 * sum, n);
        long meanAbs = n == 0 ? 0 : 2 * abs / n;
        biasClass = c * BIAS_CLASSES + ((kind * Adaptation.CHANNEL_LEVELS + chan) * Adaptation.SPREAD_BUCKETS + bucket)
                * Adaptation.ERROR_LEVELS + Adaptation.errorLevel(meanError, spread);
        spreadClass = c * SPREAD_CLASSES + ((kind * Adaptation.CHANNEL_LEVELS + chanEnergy) * Adaptation.SPREAD_BUCKETS
                + bucket) * Adaptation.ENERGY_LEVELS + Adaptation.energyLevel(meanAbs, spread);
        set = (c * KINDS + kind) * SETS_PER_KIND + Math.min(SETS_PER_KIND - 1, bucket / 2);
        prediction = 0;
        if (a.lms()) {
            long p = 0;
            for (int t = 0, w = set * TAPS; t < TAPS; t++) {
                p += weight[w + t] * taps[t];
            }
            prediction = Adaptation.boundShift(p >> WEIGHT_BITS);
        }
        bias = a.biasShift(sumError[biasClass], count[biasClass]);
        Adaptation.apply(cdf, bias + prediction,
                a.spreadScale(energyAbs[spreadClass], energySpread[spreadClass], energyCount[spreadClass]));
    }

    /** The value just coded for channel {@code c} of {@code position} (the one {@link #correct} saw last). */
    void record(int position, int c, int value) {
        long networkError = ((long) value << 8) - mean;
        errors[c][position] = (short) Math.max(-ERROR_LIMIT, Math.min(ERROR_LIMIT, networkError));
        long error = networkError - prediction;
        if (a.lms()) {
            long e = Math.max(-ERROR_LIMIT, Math.min(ERROR_LIMIT, error));
            long factor = Math.floorDiv(e << (2 * WEIGHT_BITS - LMS_STEP_SHIFT), tapEnergy + EPSILON);
            for (int t = 0, w = set * TAPS; t < TAPS; t++) {
                long v = weight[w + t] + ((factor * taps[t]) >> WEIGHT_BITS);
                weight[w + t] = Math.max(-WEIGHT_LIMIT, Math.min(WEIGHT_LIMIT, v));
            }
        }
        long residual = Math.abs(error - bias);
        absAfter += residual;
        spreadTotal += spread;
        sumError[biasClass] += error;
        if (++count[biasClass] >= a.limit()) {
            sumError[biasClass] >>= 1;
            count[biasClass] >>= 1;
        }
        energyAbs[spreadClass] += residual;
        energySpread[spreadClass] += spread;
        if (++energyCount[spreadClass] >= a.limit()) {
            energyAbs[spreadClass] >>= 1;
            energySpread[spreadClass] >>= 1;
            energyCount[spreadClass] >>= 1;
        }
    }

    long residualTotal() {
        return absAfter;
    }

    long spreadTotal() {
        return spreadTotal;
    }
}
