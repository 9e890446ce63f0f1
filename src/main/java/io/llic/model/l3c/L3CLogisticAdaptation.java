package io.llic.model.l3c;

import io.llic.prob.CdfTable;
import io.llic.prob.IntCdf;
import io.llic.prob.MixtureCdf;

/**
 * The correction while coding of schedule {@value L3CPlan#LOGISTIC_SCHEDULE} for one coded plane (the
 * image, z1, z2 or z3, each its own; z3 has no network: its "network" is a flat logistic at the centre
 * level, and the plan codes each z3 channel under this stage or adaptive counts, whichever has spent
 * less on the channel so far): where {@link L3CPlaneAdaptation} shifts and scales the network's
 * mixture, this one codes every symbol under a <em>single logistic</em> centred on the network's mean
 * plus a learned correction, with a spread learned from the residuals of the symbols already coded in
 * classes of error energy. Once the neighbours are known, the uncertainty the network's mixture spreads
 * over several components (a block's colour mean is known only to 1 of 25 levels) is mostly gone: on 16
 * held-out training images (never Kodak) this took the image's bits 6.1% below
 * {@link L3CPlaneAdaptation}'s: 2.7% from the single logistic with energy classes, 1.8% from more taps
 * and a second error predictor, 1.2% from blending in a value predictor, 0.3% from blending in plain
 * predictors and their disagreement.
 *
 * <p>Coding order and errors as {@link L3CPlaneAdaptation}: channel by channel, raster order; e = 256 x
 * - mu, mu the network mixture's mean (2^-8 of a symbol step). The mean's correction blends five
 * forecasts of e. The <em>error predictor</em> is the sum of two normalised-LMS predictors: the first over
 * 23 taps (12 errors of the same channel within two rows and columns above and to the left, 5 errors of
 * each of the two channels coded just before: at the position, left, above, right and below, known
 * because those channels are coded in full; and a constant 256); the second over 4 taps (the
 * first's prediction, the final residuals to the left, above and above-right), step 2^-7, learning what
 * the first leaves. One weight set ({@link Nlms}: Q16, clamped to +-16) of each per channel, position in the 2x2 block
 * and octave of the network's spread. The <em>value predictor</em> (normalised LMS, a weight set per
 * channel and block position) reads the same 12 neighbours' values minus this symbol's mean, each
 * earlier channel's differences between the position and its left and upper neighbours, and a
 * constant: where the network's mean is poor it leans on the neighbours instead. Both learn at step
 * 2^-4 in the image and 2^-3 in a latent plane (fewer symbols). Three plain forecasts join them: MED
 * (LOCO-I's median edge detector over the left, upper and upper-left values), the left value and the
 * upper value. The five are blended by the inverse squares of their absolute errors at 10 neighbours
 * (left, above, above-left, above-right, two to the left, two above, and the four a knight's move up)
 * plus 256, the value predictor's counted 5/4 times, the plain ones' three times. The spread: classes of (channel, block position,
 * octave, error energy in half-octaves, 16 levels), the energy being the |residual| to the left and
 * above, half those above-left, above-right, two to the left and two above, for a later channel the earlier one's |residual| at the position and half those to its right and
 * below, and an eighth of the range of the five forecasts; a class's mean |residual|, with a prior of 2
 * symbols at the network's own spread, divided by sqrt 2 (a logistic's mean absolute deviation over its
 * scale is 1.386: the logistic is kept 2% narrower, as measured) is the logistic's scale. Sums halve when a class reaches 4096 symbols. Integers throughout;
 * these settings are part of the format.
 */
final class L3CLogisticAdaptation implements L3CPlan.PlaneStage {
    private static final int[][] SAME = {
            {0, -1}, {-1, 0}, {-1, -1}, {-1, 1}, {0, -2}, {-2, 0}, {-1, -2}, {-1, 2}, {-2, -1}, {-2, 1}, {-2, -2}, {-2, 2}};
    private static final int[][] EARLIER = {{0, 0}, {0, -1}, {-1, 0}, {0, 1}, {1, 0}};
    static final int TAPS = SAME.length + 2 * EARLIER.length + 1;
    private static final int SECOND_TAPS = 4;
    /** The value predictor's taps: the 12 {@link #SAME} values against the mean, 2 gradients of each earlier channel, a constant. */
    static final int VALUE_TAPS = SAME.length + 2 * 2 + 1;
    /** Where the forecasts' recent errors are summed for their blend. */
    private static final int[][] RECENT = {
            {0, -1}, {-1, 0}, {-1, -1}, {-1, 1}, {0, -2}, {-2, 0}, {-1, -2}, {-1, 2}, {-2, -1}, {-2, 1}};
    private static final long BLEND_FLOOR = 256;
    /** The three plain predictors (MED, the left and the upper value) count their recent errors 3 times. */
    private static final long PLAIN_PENALTY = 3;
    private static final int PLAIN = 3;
    private static final int FORECASTS = 2 + PLAIN;
    private static final int LEVELS = 16;
    private static final int STEP_SHIFT = 4;
    /** A latent plane (a quarter of the image or less) learns faster: 2^-3. */
    private static final int LATENT_STEP_SHIFT = 3;
    private static final int SECOND_STEP_SHIFT = 7;
    private static final long PRIOR = 2;
    private static final long HALVE_AT = 4096;
    private static final long LOGISTIC_MEAN_ABS_Q10 = 1419; // 2 ln 2 = 1.386, in 2^-10
    /** A class's mean |residual| over this (sqrt 2, Q10) is the logistic's scale: 2% narrower than a logistic's own ratio. */
    private static final long SCALE_DIVISOR_Q10 = 1448;
    /** The value predictor's recent errors count 5/4 in the blend. */
    private static final long VALUE_PENALTY_Q2 = 5;
    private static final long MIN_SCALE_Q8 = 8;
    private static final long MAX_MEAN_PARAM = 1L << 34;

    private final int step;
    private final int width;
    private final int height;
    private final int stride;
    private final int[][] error;
    private final int[][] residual;
    private final byte[][] value;        // the symbols coded so far
    // per forecast (the error predictor, the value predictor, MED, the left value, the upper value) and
    // channel: e minus the forecast at each coded position
    private final int[][][] errorOf;
    private final long[] forecast = new long[FORECASTS];
    private final long[] weights;
    private final long[] valueWeights;
    private final long[] v = new long[VALUE_TAPS];
    private final long[] second;
    private final long[] absSum;
    private final long[] count;
    private final long[] f = new long[TAPS];
    private final long[] g = new long[SECOND_TAPS];
    private final MixtureCdf logistic = new MixtureCdf(1, CdfTable.LOGISTIC);
    private final long[] mu = new long[1];
    private final long[] sigma = new long[1];
    private final long[] logit = new long[1];
    // the symbol being coded
    private long mean;
    private long first;
    private long fromErrors;
    private long fromValues;
    private long predicted;
    private int set;
    private int valueSet;
    private int secondSet;
    private int cls;

    /**
     * @param symbols  the plane's alphabet (256 for the image, 25 for a latent)
     * @param channels coded one after the other, each over the whole plane
     * @param stride   positions are {@code row * stride + column}; {@code width} x {@code height} of them are coded
     */
    L3CLogisticAdaptation(int symbols, int channels, int width, int height, int stride, int planeSize) {
        this.step = symbols == L3CStructure.LEVELS ? LATENT_STEP_SHIFT : STEP_SHIFT;
        this.width = width;
        this.height = height;
        this.stride = stride;
        this.error = new int[channels][planeSize];
        this.residual = new int[channels][planeSize];
        this.value = new byte[channels][planeSize];
        this.errorOf = new int[FORECASTS][channels][planeSize];
        this.valueWeights = new long[channels * 4 * VALUE_TAPS];
        int sets = channels * 4 * Nlms.OCTAVES;
        this.weights = new long[sets * TAPS];
        this.second = new long[sets * SECOND_TAPS];
        this.absSum = new long[sets * LEVELS];
        this.count = new long[sets * LEVELS];
        logistic.range(0, symbols);
    }

    private int at(int[] plane, int row, int col, int dr, int dc) {
        int r = row + dr;
        int c = col + dc;
        return r < 0 || c < 0 || r >= height || c >= width ? 0 : plane[r * stride + c];
    }

    @Override
    public IntCdf correct(MixtureCdf network, int channel, int position) {
        int row = position / stride;
        int col = position - row * stride;
        mean = network.meanQ8();
        long spread = network.spreadQ8();
        int[] e = error[channel];
        int t = 0;
        for (int[] o : SAME) {
            f[t++] = at(e, row, col, o[0], o[1]);
        }
        for (int k = 1; k <= 2; k++) {
            for (int[] o : EARLIER) {
                f[t++] = k <= channel ? at(error[channel - k], row, col, o[0], o[1]) : 0;
            }
        }
        f[t] = 256;
        int block = (channel * 4 + (row & 1) * 2 + (col & 1)) * Nlms.OCTAVES + Nlms.octave(spread);
        set = block * TAPS;
        first = Nlms.forecast(weights, set, f, TAPS);
        int[] r = residual[channel];
        secondSet = block * SECOND_TAPS;
        g[0] = first;
        g[1] = at(r, row, col, 0, -1);
        g[2] = at(r, row, col, -1, 0);
        g[3] = at(r, row, col, -1, 1);
        fromErrors = bound(first + Nlms.forecast(second, secondSet, g, SECOND_TAPS));
        // the value predictor: the neighbours' values against this symbol's network mean, and the
        // earlier channels' gradients at the position
        byte[] x = value[channel];
        t = 0;
        for (int[] o : SAME) {
            int rr = row + o[0];
            int cc = col + o[1];
            v[t++] = rr < 0 || cc < 0 || rr >= height || cc >= width ? 0 : ((long) (x[rr * stride + cc] & 0xFF) << 8) - mean;
        }
        for (int k = 1; k <= 2; k++) {
            byte[] before = k <= channel ? value[channel - k] : null;
            int here = before == null ? 0 : before[position] & 0xFF;
            v[t++] = before == null || col == 0 ? 0 : (long) (here - (before[position - 1] & 0xFF)) << 8;
            v[t++] = before == null || row == 0 ? 0 : (long) (here - (before[position - stride] & 0xFF)) << 8;
        }
        v[t] = 256;
        valueSet = (channel * 4 + (row & 1) * 2 + (col & 1)) * VALUE_TAPS;
        fromValues = bound(Nlms.forecast(valueWeights, valueSet, v, VALUE_TAPS));
        // three plain forecasts from the decoded neighbours (MED of LOCO-I, the left and the upper value; a
        // missing neighbour is replaced by the other, both by the network's mean)
        long left = col > 0 ? x[position - 1] & 0xFF : -1;
        long above = row > 0 ? x[position - stride] & 0xFF : -1;
        long corner = row > 0 && col > 0 ? x[position - stride - 1] & 0xFF : -1;
        if (left < 0) {
            left = above < 0 ? mean >> 8 : above;
        }
        if (above < 0) {
            above = left;
        }
        if (corner < 0) {
            corner = above;
        }
        long med = corner >= Math.max(left, above) ? Math.min(left, above)
                : corner <= Math.min(left, above) ? Math.max(left, above) : left + above - corner;
        forecast[0] = fromErrors;
        forecast[1] = fromValues;
        forecast[2] = (med << 8) - mean;
        forecast[3] = (left << 8) - mean;
        forecast[4] = (above << 8) - mean;
        // blended by the inverse squares of their recent absolute errors, as 2^50 / c^2: the errors are
        // bounded to 2^16, so c < 3 (256 + 10 * 2^16) < 2^22 (the value predictor's 5/4 c less), every weight is at least 2^6, and each of the
        // five products (a forecast below 2^17 in size times a weight at most 2^34) below 2^51
        long num = 0;
        long den = 0;
        for (int k = 0; k < FORECASTS; k++) {
            long c = BLEND_FLOOR;
            for (int[] o : RECENT) {
                c += Math.abs(at(errorOf[k][channel], row, col, o[0], o[1]));
            }
            if (k >= 2) {
                c *= PLAIN_PENALTY;
            } else if (k == 1) {
                c = c * VALUE_PENALTY_Q2 / 4;
            }
            long w = (1L << 50) / (c * c);
            num += forecast[k] * w;
            den += w;
        }
        long blended = Math.floorDiv(num + den / 2, den);
        predicted = bound(blended);
        long energy = Math.abs(g[1]) + Math.abs(g[2])
                + (Math.abs(at(r, row, col, -1, -1)) + Math.abs(g[3])) / 2
                + (Math.abs(at(r, row, col, 0, -2)) + Math.abs(at(r, row, col, -2, 0))) / 2;
        if (channel > 0) {
            int[] before = residual[channel - 1];
            energy += Math.abs(before[position])
                    + (Math.abs(at(before, row, col, 0, 1)) + Math.abs(at(before, row, col, 1, 0))) / 2;
        }
        // and an eighth of how far the forecasts disagree
        long highest = forecast[0];
        long lowest = forecast[0];
        for (int k = 1; k < FORECASTS; k++) {
            highest = Math.max(highest, forecast[k]);
            lowest = Math.min(lowest, forecast[k]);
        }
        energy += (highest - lowest) / 8;
        cls = block * LEVELS + level(energy);
        long meanAbs = (absSum[cls] + PRIOR * ((spread * LOGISTIC_MEAN_ABS_Q10) >> 10)) / (count[cls] + PRIOR);
        long scale = Math.max(MIN_SCALE_Q8, (meanAbs << 10) / SCALE_DIVISOR_Q10);
        long centre = mean + predicted;
        mu[0] = Math.max(-MAX_MEAN_PARAM, Math.min(MAX_MEAN_PARAM, (centre << 16) / 255));
        sigma[0] = (scale << 16) / 255;
        logistic.set(mu, 0, sigma, 0, logit, 0, null);
        return logistic;
    }

    private static long bound(long shiftQ8) {
        return Math.max(-MixtureCdf.MAX_SHIFT_Q8, Math.min(MixtureCdf.MAX_SHIFT_Q8, shiftQ8));
    }

    /** Half-octaves of {@code 1 + energy / 256}: 0, 1 at sqrt 2, 2 at 2, ..., at most {@code LEVELS - 1}. */
    static int level(long energy) {
        long x = 256 + energy;
        int k = 63 - Long.numberOfLeadingZeros(x) - 8;
        int half = x * x >= 1L << (2 * (k + 8) + 1) ? 1 : 0;
        return Math.min(LEVELS - 1, 2 * k + half);
    }

    @Override
    public void update(int channel, int position, int symbol) {
        long e = ((long) symbol << 8) - mean;
        long r = e - predicted;
        error[channel][position] = (int) e;
        residual[channel][position] = (int) r;
        value[channel][position] = (byte) symbol;
        for (int k = 0; k < FORECASTS; k++) {
            errorOf[k][channel][position] = (int) bound(e - forecast[k]);
        }
        long valueResidual = e - fromValues;
        Nlms.learn(valueWeights, valueSet, v, VALUE_TAPS, valueResidual, step);
        Nlms.learn(weights, set, f, TAPS, e - first, step);
        Nlms.learn(second, secondSet, g, SECOND_TAPS, r, SECOND_STEP_SHIFT);
        absSum[cls] += Math.abs(r);
        if (++count[cls] > HALVE_AT) {
            absSum[cls] >>= 1;
            count[cls] >>= 1;
        }
    }
}
