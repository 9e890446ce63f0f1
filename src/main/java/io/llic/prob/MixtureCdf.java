package io.llic.prob;

/**
 * The one shared function that turns a pixel's integer network outputs into the integer CDF used to
 * code one colour channel. Encoder, decoder and the code-length estimate all go through it, so they
 * cannot disagree; everything in it is integer arithmetic, with the kernel CDFs and the exponential
 * of the softmax taken from integer tables (the determinism contract).
 *
 * <p>Model (ALGORITHMS.md A.3): a mixture of {@code M} Gaussians (or logistics, as in L3C: then the
 * "sigma" parameter is the logistic scale) over pixel values; channel
 * coupling shifts the G means by {@code alpha_m * R} and the B means by {@code beta_m * R + gamma_m * G},
 * with R and G the true values of the current pixel. All parameters arrive as integers in units of
 * {@code 2^-24} on the [0,1] pixel scale; in pixel units the mean of a component is
 * {@code (255 mu + alpha R + ...) / 2^24}, which stays an exact integer numerator.
 *
 * <p>Coding CDF (16 bits, 257 entries): {@code cdf[0] = 0}, {@code cdf[256] = 65536} and, for
 * {@code k = 1..255}, {@code cdf[k] = round(C(k - 0.5) * (65536 - 256)) + k}, where C is the mixture
 * CDF at the edge between values k-1 and k. Symbols 0 and 255 therefore take the tails; every symbol
 * has a frequency of at least 1 and the total is exactly 65536.
 *
 * <p>Other integer ranges (YCoCg-R chroma, ALGORITHMS.md B.5): after {@link #range(int, int)} the
 * symbols {@code 0 .. n-1} stand for the values {@code low .. low + n - 1}, and
 * {@code cdf[k] = round(C(low + k - 0.5) * (65536 - n)) + k}; with the default range (0, 256) this is
 * the table above.
 *
 * <p>Instances are reusable and not thread-safe: {@link #set} loads one channel's distribution.
 */
public final class MixtureCdf implements IntCdf {
    public static final int SYMBOLS = 256;
    /** Largest alphabet {@link #range} takes (and largest |low|): 9-bit chroma needs 511. */
    public static final int MAX_SYMBOLS = 1024;
    /** Units of the network outputs: 2^-24. */
    public static final int PARAM_FRACTION_BITS = 24;
    /**
     * Largest |parameter| (mean, sigma, logit, coupling coefficient; 2^-24 units) the CDF arithmetic
     * takes without overflowing a long, whatever the values: a mean numerator is at most
     * 255 P + 2 * 255 P (coupling with values up to 255) plus offsets and corrections below 2^33,
     * an edge is below 2^35 ({@link #MAX_SYMBOLS}), and {@code (edge - mean) << 16} must stay below
     * 2^63 (765 * 2^36 + 2^36 < 2^46); a denominator 255 P times a correction scale below 2^16 stays
     * below 2^60. A family checks its networks' output clip against it.
     */
    public static final long MAX_PARAM = 1L << 36;
    /** Lower bound of the standard deviation, 0.11/255, in units of 2^-24. */
    public static final long SIGMA_MIN = 7237;

    private static final int WEIGHT_BITS = 16;
    private static final int MIXTURE_BITS = WEIGHT_BITS + CdfTable.CDF_BITS; // 46
    private int low = 0;
    private int symbols = SYMBOLS;
    private long spread = TOTAL - SYMBOLS;                 // 65280 for pixel values

    private final int components;
    private final CdfTable kernel;
    private final long[] meanNumerator;  // 255*mu + coupling, in 2^-24 pixel units
    private final long[] denominator;    // 255*sigma, in 2^-24 units
    private final long[] weight;         // mixture weights summing to 2^16
    private final long[] expBuffer;
    private int foundStart;
    private int foundFreq;

    /** A Gaussian mixture of {@code components} components. */
    public MixtureCdf(int components) {
        this(components, CdfTable.GAUSSIAN);
    }

    /** A mixture of {@code components} components of the given kernel (Gaussian or logistic). */
    public MixtureCdf(int components, CdfTable kernel) {
        this.components = components;
        this.kernel = kernel;
        this.meanNumerator = new long[components];
        this.denominator = new long[components];
        this.weight = new long[components];
        this.expBuffer = new long[components];
    }

    /**
     * Loads the distribution of one channel.
     *
     * @param means        M means, 2^-24 units, [0,1] scale
     * @param meanOff      offset of the first mean in {@code means}
     * @param sigmas       M standard deviations (raw, lower-bounded here)
     * @param logits       M mixture logits
     * @param couplingSum  per component, {@code sum coefficient * true value} already multiplied out,
     *                     2^-24 units on the pixel-value scale; null for no coupling
     */
    public void set(long[] means, int meanOff, long[] sigmas, int sigmaOff, long[] logits, int logitOff,
                    long[] couplingSum) {
        long max = Long.MIN_VALUE;
        for (int m = 0; m < components; m++) {
            long mu = means[meanOff + m];
            meanNumerator[m] = 255 * mu + (couplingSum == null ? 0 : couplingSum[m]);
            denominator[m] = 255 * Math.max(sigmas[sigmaOff + m], SIGMA_MIN);
            max = Math.max(max, logits[logitOff + m]);
        }
        // softmax in integers: e_m = exp(logit_m - max) from the integer table, weights = e_m / sum e
        long sum = 0;
        int largest = 0;
        for (int m = 0; m < components; m++) {
            long e = ExpTable.expNegative(max - logits[logitOff + m]);
            expBuffer[m] = e;
            sum += e;
            if (e > expBuffer[largest]) {
                largest = m;
            }
        }
        long given = 0;
        for (int m = 0; m < components; m++) {
            weight[m] = (expBuffer[m] << WEIGHT_BITS) / sum;
            given += weight[m];
        }
        weight[largest] += (1L << WEIGHT_BITS) - given;
    }

    /** The mixture's mean in units of 2^-8 of a pixel value (weights times component means, floored). */
    public long meanQ8() {
        long sum = 0;
        for (int m = 0; m < components; m++) {
            sum += weight[m] * (meanNumerator[m] >> 8);
        }
        return sum >> (WEIGHT_BITS + PARAM_FRACTION_BITS - 16);
    }

    /** The mixture's spread (weighted mean of the components' sigmas) in units of 2^-8 of a pixel value. */
    public long spreadQ8() {
        long sum = 0;
        for (int m = 0; m < components; m++) {
            sum += weight[m] * (denominator[m] >> 8);
        }
        return sum >> (WEIGHT_BITS + PARAM_FRACTION_BITS - 16);
    }

    /** Largest |shift| {@link #adjust} takes, in 2^-8 pixel units (255 pixel values). */
    public static final long MAX_SHIFT_Q8 = 255L << 8;
    /** Largest scale {@link #adjust} takes, Q12 (8x): the CDF arithmetic stays far from overflow. */
    public static final long MAX_SCALE_Q12 = 8L << 12;

    /**
     * Moves every component mean by {@code shiftQ8} (2^-8 pixel units) and multiplies every sigma by
     * {@code scaleQ12 / 2^12} (floored, and kept at or above the lower bound): the adaptation stage's
     * correction, in integers.
     */
    public void adjust(long shiftQ8, long scaleQ12) {
        if (Math.abs(shiftQ8) > MAX_SHIFT_Q8 || scaleQ12 < 1 || scaleQ12 > MAX_SCALE_Q12) {
            throw new IllegalArgumentException("correction out of range: shift " + shiftQ8 + ", scale " + scaleQ12);
        }
        for (int m = 0; m < components; m++) {
            meanNumerator[m] += shiftQ8 << (PARAM_FRACTION_BITS - 8);
            denominator[m] = Math.max(255 * SIGMA_MIN, (denominator[m] * scaleQ12) >> 12);
        }
    }

    /** The cumulative frequency of value {@code k} (0..256): start of k's interval. */
    public int cdf(int k) {
        if (k <= 0) {
            return 0;
        }
        if (k >= symbols) {
            return TOTAL;
        }
        // edge low + k - 0.5 in 2^-24 pixel units: (2 (low + k) - 1) * 2^23
        long edge = (2L * (low + k) - 1) << (PARAM_FRACTION_BITS - 1);
        long mixture = 0;
        for (int m = 0; m < components; m++) {
            if (weight[m] == 0) {
                continue;
            }
            long z = Math.floorDiv((edge - meanNumerator[m]) << CdfTable.Z_FRACTION_BITS, denominator[m]);
            mixture += weight[m] * kernel.cdf(z);
        }
        return (int) ((mixture * spread + (1L << (MIXTURE_BITS - 1))) >> MIXTURE_BITS) + k;
    }

    @Override
    public int symbols() {
        return symbols;
    }

    /**
     * Codes the values {@code low .. low + count - 1} as symbols {@code 0 .. count - 1} from now on
     * (the default is 0 .. 255). Returns this.
     */
    public MixtureCdf range(int low, int count) {
        if (count < 2 || count > MAX_SYMBOLS || Math.abs(low) > MAX_SYMBOLS) {
            throw new IllegalArgumentException("bad range: " + count + " values from " + low);
        }
        this.low = low;
        this.symbols = count;
        this.spread = TOTAL - count;
        return this;
    }

    @Override
    public int start(int symbol) {
        return cdf(symbol);
    }

    /**
     * The symbol whose interval holds {@code target}: the one s with {@code cdf(s) <= target <
     * cdf(s + 1)}. The search starts at the mixture's mean and gallops outwards before bisecting, so a
     * well-predicted symbol costs a few CDF evaluations instead of log2(symbols); the answer is the
     * same unique symbol whatever the path.
     */
    @Override
    public int symbolFor(int target) {
        int lo = 0;
        int hi = symbols;
        int cdfLo = 0;
        int cdfHi = TOTAL;
        int guess = (int) Math.max(1, Math.min(symbols - 1, ((meanQ8() + 128) >> 8) - low));
        int c = cdf(guess);
        if (c <= target) {
            lo = guess;
            cdfLo = c;
            for (int step = 1; lo + step < hi; step <<= 1) {
                int probe = lo + step;
                int cp = cdf(probe);
                if (cp > target) {
                    hi = probe;
                    cdfHi = cp;
                    break;
                }
                lo = probe;
                cdfLo = cp;
            }
        } else {
            hi = guess;
            cdfHi = c;
            for (int step = 1; hi - step > lo; step <<= 1) {
                int probe = hi - step;
                int cp = cdf(probe);
                if (cp <= target) {
                    lo = probe;
                    cdfLo = cp;
                    break;
                }
                hi = probe;
                cdfHi = cp;
            }
        }
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            int cm = cdf(mid);
            if (cm <= target) {
                lo = mid;
                cdfLo = cm;
            } else {
                hi = mid;
                cdfHi = cm;
            }
        }
        foundStart = cdfLo;
        foundFreq = cdfHi - cdfLo;
        return lo;
    }

    @Override
    public int foundStart() {
        return foundStart;
    }

    @Override
    public int foundFreq() {
        return foundFreq;
    }
}
