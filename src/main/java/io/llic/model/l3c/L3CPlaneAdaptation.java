package io.llic.model.l3c;

import io.llic.prob.MixtureCdf;

/**
 * Adaptation while coding for one coded plane of the l3c family (schedule {@value L3CPlan#PREDICTIVE_SCHEDULE}:
 * the image, z1 and z2 each have their own): integer arithmetic that learns, from the symbols already
 * coded in the same plane, what the decoder network's mixtures cannot know. D1 models every pixel
 * independently given z1, whose colour means sit on 25 levels, so a block's share of that rounding is
 * common to its four pixels and to its neighbours, and once a pixel is coded its error tells the next
 * ones; D2 and D3 model z1 and z2 so too. The decoder knows the same errors at the same points, so
 * decoding stays exact.
 *
 * <p>A plane is coded channel by channel (the image: all R, then all G, then all B; a latent: its 5
 * channels), positions in raster order. Before each symbol: the network's mixture mean mu and spread
 * (weighted mean sigma, both in 2^-8 of a symbol step) give the error e = 256 x - mu of what is coded.
 * An <em>error predictor</em> forecasts e from 12 known errors: 6 of the same channel (left, above,
 * above-left, above-right, two to the left, two above) and, from each of the two channels coded just
 * before (if any), its error at the position itself, to its right and below (known: that channel is
 * coded in full). One weight set (Q16, clamped to +-16) per channel, position in its 2x2 block and
 * octave of the spread, learned from zero by normalised LMS after every symbol:
 * {@code w += 2^-4 r f / (2^16 + |f|^2)}, r the residual e - prediction. The prediction moves every
 * component mean. Then <em>spread classes</em> (channel, block position, octave, and the energy |r| of
 * the left and upper residuals in 8 levels) scale every sigma by the class's mean |r| over the mean
 * |r| a logistic of the mixture's spread would give (1.386 spread), with a prior of 8 steps on both,
 * within [1/2, 2]; a class's sums halve at 4096 steps. Unknown errors count as 0; integers throughout
 * ({@link MixtureCdf#adjust}). These settings are part of the format. They were first tried on four
 * 256 x 256 Kodak crops with the float model (about -16% of the image's bits); the step size was then
 * checked on 9 of llic-l3c-3's held-out validation images: 2^-5, 2^-4 and 0.1 took their image term
 * 9.38%, 9.33% and 9.02% down, a flat optimum (the README has the commands).
 */
final class L3CPlaneAdaptation implements L3CPlan.PlaneStage {
    static final int TAPS = 12;
    private static final int OCTAVES = Nlms.OCTAVES;
    private static final int ENERGIES = 8;
    private static final int STEP_SHIFT = 4;
    private static final long PRIOR = 8L << 8;
    private static final long HALVE_AT = 4096L << 8;
    private static final long LOGISTIC_MEAN_ABS_Q10 = 1419; // 2 ln 2 = 1.386, in 2^-10

    private final int width;
    private final int height;
    private final int stride;
    private final int[][] error;    // per channel, the network's error at each coded position (2^-8 units)
    private final int[][] residual; // per channel, the error minus the prediction
    private final long[] weights;
    private final long[] absSum;
    private final long[] predSum;
    private final long[] f = new long[TAPS];
    // the symbol being coded: its network mean, prediction, weight set, class, spread
    private long mean;
    private long predicted;
    private int set;
    private int cls;
    private long spread;

    /**
     * @param channels coded one after the other, each over the whole plane
     * @param stride   positions are {@code row * stride + column}; {@code width} x {@code height} of them are coded
     */
    L3CPlaneAdaptation(int channels, int width, int height, int stride, int planeSize) {
        this.width = width;
        this.height = height;
        this.stride = stride;
        this.error = new int[channels][planeSize];
        this.residual = new int[channels][planeSize];
        this.weights = new long[channels * 4 * OCTAVES * TAPS];
        this.absSum = new long[channels * 4 * OCTAVES * ENERGIES];
        this.predSum = new long[channels * 4 * OCTAVES * ENERGIES];
    }

    /** Corrects {@code cdf} (set to the network's mixture of {@code channel} at {@code position}) before its symbol is coded. */
    void adjust(MixtureCdf cdf, int channel, int position) {
        int row = position / stride;
        int col = position - row * stride;
        mean = cdf.meanQ8();
        spread = cdf.spreadQ8();
        int[] e = error[channel];
        f[0] = col > 0 ? e[position - 1] : 0;
        f[1] = row > 0 ? e[position - stride] : 0;
        f[2] = row > 0 && col > 0 ? e[position - stride - 1] : 0;
        f[3] = row > 0 && col + 1 < width ? e[position - stride + 1] : 0;
        f[4] = col > 1 ? e[position - 2] : 0;
        f[5] = row > 1 ? e[position - 2 * stride] : 0;
        for (int k = 0; k < 2; k++) {
            int[] prev = k < channel ? error[channel - 1 - k] : null;
            f[6 + 3 * k] = prev == null ? 0 : prev[position];
            f[7 + 3 * k] = prev == null || col + 1 >= width ? 0 : prev[position + 1];
            f[8 + 3 * k] = prev == null || row + 1 >= height ? 0 : prev[position + stride];
        }
        int octave = Nlms.octave(spread);
        int block = channel * 4 + (row & 1) * 2 + (col & 1);
        set = (block * OCTAVES + octave) * TAPS;
        predicted = Math.max(-MixtureCdf.MAX_SHIFT_Q8, Math.min(MixtureCdf.MAX_SHIFT_Q8, Nlms.forecast(weights, set, f, TAPS)));
        int[] r = residual[channel];
        long energy = (col > 0 ? Math.abs(r[position - 1]) : 0) + (row > 0 ? Math.abs(r[position - stride]) : 0);
        int level = Math.min(ENERGIES - 1, 63 - Long.numberOfLeadingZeros(256 + energy) - 8);
        cls = (block * OCTAVES + octave) * ENERGIES + level;
        long scale = ((absSum[cls] + PRIOR) << 12) / (predSum[cls] + PRIOR);
        cdf.adjust(predicted, Math.max(1L << 11, Math.min(1L << 13, scale)));
    }

    @Override
    public io.llic.prob.IntCdf correct(MixtureCdf network, int channel, int position) {
        adjust(network, channel, position);
        return network;
    }

    /** Learns from the symbol just coded at the position and channel of the last {@link #adjust}. */
    @Override
    public void update(int channel, int position, int symbol) {
        long e = ((long) symbol << 8) - mean;
        long r = e - predicted;
        error[channel][position] = (int) e;
        residual[channel][position] = (int) r;
        Nlms.learn(weights, set, f, TAPS, r, STEP_SHIFT);
        absSum[cls] += Math.abs(r);
        predSum[cls] += (spread * LOGISTIC_MEAN_ABS_Q10) >> 10;
        if (predSum[cls] > HALVE_AT) {
            absSum[cls] >>= 1;
            predSum[cls] >>= 1;
        }
    }
}
