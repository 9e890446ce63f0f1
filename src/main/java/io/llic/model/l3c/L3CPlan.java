package io.llic.model.l3c;

import io.llic.image.RgbImage;
import io.llic.model.CodingPlan;
import io.llic.prob.AdaptiveCdf;
import io.llic.prob.CdfTable;
import io.llic.prob.IntCdf;
import io.llic.prob.MixtureCdf;
import io.llic.prob.UniformCdf;

/**
 * How the l3c family codes an image (ALGORITHMS.md C.3), as a {@link CodingPlan} of plane steps. The
 * image is zero-padded at the bottom and right to multiples of 8 (the padding is implied by the
 * header's size, never coded); z(s) has a 2^s-th of the padded size.
 *
 * <p>Steps of a decoder: (0) z3, no network: with schedule {@value #SCHEDULE} (the paper's) under the
 * uniform distribution over 25 levels, with {@value #ADAPTIVE_SCHEDULE} under an {@link AdaptiveCdf}
 * per channel, counting the channel's symbols as they are coded (a constant channel of n symbols then
 * costs about 12 log2(n) bits, about 125 on a Kodak image, instead of n log2(25); everything else is the
 * same; {@value #PREDICTIVE_SCHEDULE} codes z3 so too, {@value #LOGISTIC_SCHEDULE} per channel under those
 * counts or a {@link L3CLogisticAdaptation} over a flat prior, whichever has spent less on the channel so
 * far); (1) D3 on
 * z3 gives f3 and the mixtures of z2, which is coded; (2) D2 on z2 and f3 gives f2 and z1's mixtures;
 * (3) D1 on z1 and f2 gives the image's mixtures, and R, G, B of the image's own pixels are coded
 * (G's and B's means coupled to the true R, G). A model with the checkerboard context
 * ({@link L3CStructure#context()}) codes only the first half of the pixels there ({@link L3CStructure#anchor}:
 * row plus column even), then (4) C1 on those pixels and D1's f1 gives the second half's mixtures,
 * and R, G, B of the second half are coded (into the same three streams). With {@value #PREDICTIVE_SCHEDULE} every mixture of
 * z2, z1 and the image is first corrected by a {@link L3CPlaneAdaptation} of its plane from the
 * symbols already coded there; with {@value #LOGISTIC_SCHEDULE} every symbol of those planes is coded under
 * the single logistic of its plane's {@link L3CLogisticAdaptation} instead. An encoder first runs E1, E2, E3 (three plane steps
 * that code nothing) to make the latents. Each (scale, channel) is its own stream: 5 for each latent
 * plane from z3 down, then R, G, B.
 */
public final class L3CPlan implements CodingPlan {
    public static final String SCHEDULE = "l3c";
    /** {@link #SCHEDULE} with z3 coded by adaptive counts. */
    public static final String ADAPTIVE_SCHEDULE = "l3c-adaptive";
    /**
     * {@link #ADAPTIVE_SCHEDULE} with the mixtures of the image, z1 and z2 corrected while coding by what
     * the symbols already coded in the same plane tell ({@link L3CPlaneAdaptation}: an error predictor
     * and spread classes).
     */
    public static final String PREDICTIVE_SCHEDULE = "l3c-predictive";
    /**
     * Every symbol of the image, z1 and z2 coded under a single logistic centred on the network's mean plus
     * a learned correction, its spread learned from error-energy classes ({@link L3CLogisticAdaptation});
     * each z3 channel under {@link #ADAPTIVE_SCHEDULE}'s counts or such a logistic over a flat prior,
     * whichever has spent less on it so far.
     */
    public static final String LOGISTIC_SCHEDULE = "l3c-logistic";
    /** The l3c schedules, the default first. */
    public static final java.util.List<String> SCHEDULES =
            java.util.List.of(LOGISTIC_SCHEDULE, PREDICTIVE_SCHEDULE, ADAPTIVE_SCHEDULE, SCHEDULE);

    /** A correction while coding of one plane: it turns the network's mixture into the symbol's distribution, then learns from the symbol. */
    interface PlaneStage {
        /** The distribution to code the symbol of {@code channel} at {@code position} with, given the network's mixture (which it may change). */
        IntCdf correct(MixtureCdf network, int channel, int position);

        /** Learns from the symbol just coded at the position and channel of the last {@link #correct}. */
        void update(int channel, int position, int symbol);
    }
    public static final int STREAMS = 3 * L3CStructure.Z + 3;

    // step kinds
    private static final int ANALYSE_1 = 0;
    private static final int ANALYSE_2 = 1;
    private static final int ANALYSE_3 = 2;
    private static final int Z3 = 3;
    private static final int Z2 = 4;
    private static final int Z1 = 5;
    private static final int IMAGE = 6;
    private static final int IMAGE_SECOND = 7;  // the image's second checkerboard half, under C1

    private final L3CStructure shape;
    private final String schedule;
    private final int nets;
    private final int[] kinds;
    private final int width;
    private final int height;
    private final int paddedWidth;
    private final int paddedHeight;
    private final byte[][] rgb;         // the padded image, per channel
    private final int[][] latent;       // z1, z2, z3: symbols 0..24, channel-major planes
    private long[] f1;                  // E1's features (encoding), E2's input
    private long[] f2;                  // E2's features
    private long[] g;                   // D(s)'s features f(s), the next D's input
    private final MixtureCdf latentCdf = new MixtureCdf(L3CStructure.MIXTURES, CdfTable.LOGISTIC);
    private final MixtureCdf imageCdf = new MixtureCdf(L3CStructure.MIXTURES, CdfTable.LOGISTIC);
    private final UniformCdf uniform = new UniformCdf(L3CStructure.LEVELS);
    private final AdaptiveCdf[] counted;  // z3's counts per channel; null: z3 under the uniform distribution
    // the correction while coding of each corrected plane: [0] the image, [1] z1, [2] z2, [3] z3 (l3c-logistic
    // only); null: none
    private final PlaneStage[] corrections;
    private final boolean z3Learned;  // z3 per channel under its counts or corrections[3]
    private final long[] coupling = new long[L3CStructure.MIXTURES];
    // z3's "network" under l3c-logistic: one logistic at the centre level with a spread of 6 levels
    private final MixtureCdf z3Prior = new MixtureCdf(1, CdfTable.LOGISTIC);
    // per z3 channel, the bits its symbols would have cost so far under the counts [2c] and the logistic [2c + 1]
    private final double[] z3Spent = new double[2 * L3CStructure.Z];
    private final IntCdf[] z3Candidates = new IntCdf[2];

    /**
     * @param nets index of the first convolutional network in plan numbering (the model's per-position
     *             networks come first; l3c has none)
     */
    private L3CPlan(L3CStructure shape, int nets, String schedule, int width, int height, RgbImage image) {
        this.shape = shape;
        this.schedule = schedule;
        if (!SCHEDULES.contains(schedule)) {
            throw new IllegalArgumentException("not an l3c schedule: " + schedule);
        }
        this.counted = schedule.equals(SCHEDULE) ? null : new AdaptiveCdf[L3CStructure.Z];
        if (counted != null) {
            for (int c = 0; c < counted.length; c++) {
                counted[c] = new AdaptiveCdf(L3CStructure.LEVELS);
            }
        }
        this.nets = nets;
        this.width = width;
        this.height = height;
        this.paddedWidth = L3CStructure.pad(width);
        this.paddedHeight = L3CStructure.pad(height);
        int[] coded = shape.context() ? new int[] {Z3, Z2, Z1, IMAGE, IMAGE_SECOND} : new int[] {Z3, Z2, Z1, IMAGE};
        if (image != null) {
            this.kinds = new int[3 + coded.length];
            this.kinds[0] = ANALYSE_1;
            this.kinds[1] = ANALYSE_2;
            this.kinds[2] = ANALYSE_3;
            System.arraycopy(coded, 0, this.kinds, 3, coded.length);
        } else {
            this.kinds = coded;
        }
        int plane = paddedWidth * paddedHeight;
        rgb = new byte[3][plane];
        latent = new int[3][];
        for (int s = 1; s <= 3; s++) {
            latent[s - 1] = new int[L3CStructure.Z * (paddedWidth >> s) * (paddedHeight >> s)];
        }
        if (image != null) {
            byte[] samples = image.samples();
            for (int r = 0; r < height; r++) {
                for (int c = 0; c < width; c++) {
                    for (int ch = 0; ch < 3; ch++) {
                        rgb[ch][r * paddedWidth + c] = samples[(r * width + c) * 3 + ch];
                    }
                }
            }
        }
        if (schedule.equals(PREDICTIVE_SCHEDULE)) {
            corrections = new PlaneStage[3];
            corrections[0] = new L3CPlaneAdaptation(3, width, height, paddedWidth, plane);
            for (int s = 1; s <= 2; s++) {
                int w = paddedWidth >> s;
                int h = paddedHeight >> s;
                corrections[s] = new L3CPlaneAdaptation(L3CStructure.Z, w, h, w, w * h);
            }
        } else if (schedule.equals(LOGISTIC_SCHEDULE)) {
            corrections = new PlaneStage[4];
            corrections[0] = new L3CLogisticAdaptation(256, 3, width, height, paddedWidth, plane);
            for (int s = 1; s <= 3; s++) {
                int w = paddedWidth >> s;
                int h = paddedHeight >> s;
                corrections[s] = new L3CLogisticAdaptation(L3CStructure.LEVELS, L3CStructure.Z, w, h, w, w * h);
            }
        } else {
            corrections = null;
        }
        z3Learned = corrections != null && corrections.length > 3;
        imageCdf.range(0, 256);
        latentCdf.range(0, L3CStructure.LEVELS);
        z3Prior.range(0, L3CStructure.LEVELS);
        z3Prior.set(new long[] {(long) L3CStructure.CENTRE * (1 << 24) / 255}, 0, new long[] {6L * (1 << 24) / 255}, 0,
                new long[1], 0, null);
    }

    public static L3CPlan encoding(L3CStructure shape, int nets, String schedule, RgbImage image) {
        return new L3CPlan(shape, nets, schedule, image.width(), image.height(), image);
    }

    public static L3CPlan decoding(L3CStructure shape, int nets, String schedule, int width, int height) {
        return new L3CPlan(shape, nets, schedule, width, height, null);
    }

    @Override
    public String schedule() {
        return schedule;
    }

    @Override
    public int steps() {
        return kinds.length;
    }

    @Override
    public int maxPositions() {
        return Math.max(width * height, (paddedWidth >> 1) * (paddedHeight >> 1));
    }

    /** Scale (1, 2, 3) of a latent step's symbols. */
    private static int scale(int kind) {
        return kind == Z3 ? 3 : kind == Z2 ? 2 : 1;
    }

    @Override
    public int positions(int step, int[] out) {
        int kind = kinds[step];
        if (kind <= ANALYSE_3) {
            return 0;
        }
        if (kind == IMAGE || kind == IMAGE_SECOND) {
            // without the context every pixel; with it, each checkerboard half in its step
            int n = 0;
            for (int r = 0; r < height; r++) {
                for (int c = 0; c < width; c++) {
                    if (!shape.context() || L3CStructure.anchor(r, c) == (kind == IMAGE)) {
                        out[n++] = r * paddedWidth + c;
                    }
                }
            }
            return n;
        }
        int s = scale(kind);
        int count = (paddedWidth >> s) * (paddedHeight >> s);
        for (int i = 0; i < count; i++) {
            out[i] = i;
        }
        return count;
    }

    @Override
    public int network(int step) {
        return switch (kinds[step]) {
            case ANALYSE_1 -> nets + L3CStructure.E1;
            case ANALYSE_2 -> nets + L3CStructure.E2;
            case ANALYSE_3 -> nets + L3CStructure.E3;
            case Z3 -> -1;
            case Z2 -> nets + L3CStructure.D3;
            case Z1 -> nets + L3CStructure.D2;
            case IMAGE_SECOND -> nets + L3CStructure.C1;
            default -> nets + L3CStructure.D1;
        };
    }

    @Override
    public boolean planeStep(int step) {
        return kinds[step] != Z3;
    }

    @Override
    public int[] planeSize(int step) {
        int s = switch (kinds[step]) {
            case ANALYSE_1, IMAGE_SECOND -> 0;
            case ANALYSE_2 -> 1;
            case ANALYSE_3 -> 2;
            case Z2 -> 3;
            case Z1 -> 2;
            default -> 1;
        };
        return new int[] {paddedHeight >> s, paddedWidth >> s};
    }

    @Override
    public long[] planeInput(int step) {
        int kind = kinds[step];
        switch (kind) {
            case ANALYSE_1 -> {
                int plane = paddedWidth * paddedHeight;
                long[] x = new long[3 * plane];
                for (int ch = 0; ch < 3; ch++) {
                    for (int i = 0; i < plane; i++) {
                        x[ch * plane + i] = rgb[ch][i] & 0xFF;
                    }
                }
                return x;
            }
            case ANALYSE_2 -> {
                return f1;
            }
            case ANALYSE_3 -> {
                return f2;
            }
            case Z2 -> {
                return centred(latent[2], null);
            }
            case Z1 -> {
                return centred(latent[1], g);
            }
            case IMAGE_SECOND -> {
                // the first half's pixels (0 at the second half's and in the padding), then f1
                int plane = paddedWidth * paddedHeight;
                long[] x = new long[3 * plane + g.length];
                for (int ch = 0; ch < 3; ch++) {
                    for (int r = 0; r < height; r++) {
                        for (int c = 0; c < width; c++) {
                            if (L3CStructure.anchor(r, c)) {
                                x[ch * plane + r * paddedWidth + c] = rgb[ch][r * paddedWidth + c] & 0xFF;
                            }
                        }
                    }
                }
                System.arraycopy(g, 0, x, 3 * plane, g.length);
                g = null;  // f1 is C1's alone
                return x;
            }
            default -> {
                return centred(latent[0], g);
            }
        }
    }

    /** The latent symbols minus the centre level, then the features {@code features} (if any) after them. */
    private static long[] centred(int[] symbols, long[] features) {
        long[] x = new long[symbols.length + (features == null ? 0 : features.length)];
        for (int i = 0; i < symbols.length; i++) {
            x[i] = symbols[i] - L3CStructure.CENTRE;
        }
        if (features != null) {
            System.arraycopy(features, 0, x, symbols.length, features.length);
        }
        return x;
    }

    @Override
    public void planeOutput(int step, long[] tensor, int[] positions, int count, long[] rows) {
        int kind = kinds[step];
        int c = shape.channels();
        if (kind <= ANALYSE_3) {
            int s = kind - ANALYSE_1 + 1;
            int plane = (paddedWidth >> s) * (paddedHeight >> s);
            int zFrom = kind == ANALYSE_3 ? 0 : c * plane;
            int[] z = latent[s - 1];
            for (int i = 0; i < z.length; i++) {
                z[i] = L3CStructure.symbol(tensor[zFrom + i]);
            }
            if (kind == ANALYSE_1) {
                f1 = java.util.Arrays.copyOf(tensor, c * plane);
            } else if (kind == ANALYSE_2) {
                f2 = java.util.Arrays.copyOf(tensor, c * plane);
            }
            return;
        }
        int[] size = planeSize(step);
        // D's outputs have twice the input's height and width, C1's its size
        int plane = (kind == IMAGE_SECOND ? 1 : 4) * size[0] * size[1];
        int paramsFrom = 0;
        int params = kind >= IMAGE ? L3CStructure.RGB_PARAMS : L3CStructure.Z_PARAMS;
        if (kind != IMAGE_SECOND && (kind != IMAGE || shape.context())) {
            g = java.util.Arrays.copyOf(tensor, c * plane);  // f(s): the next D's input (f1: C1's)
            paramsFrom = c * plane;
        }
        for (int p = 0; p < count; p++) {
            int position = positions[p];
            for (int k = 0; k < params; k++) {
                rows[p * params + k] = tensor[paramsFrom + k * plane + position];
            }
        }
    }

    @Override
    public int inputWidth(int network) {
        return 0;
    }

    @Override
    public int outputWidth(int network) {
        int net = network - nets;
        return net >= L3CStructure.D1 ? L3CStructure.RGB_PARAMS : net >= L3CStructure.D3 ? L3CStructure.Z_PARAMS : 0;
    }

    @Override
    public void inputs(int step, int[] positions, int first, int count, long[] out, int offset) {
        throw new UnsupportedOperationException("l3c steps are plane steps");
    }

    @Override
    public int channels(int step) {
        int kind = kinds[step];
        return kind <= ANALYSE_3 ? 0 : kind >= IMAGE ? 3 : L3CStructure.Z;
    }

    @Override
    public int stream(int step, int channel) {
        int kind = kinds[step];
        return kind >= IMAGE ? 3 * L3CStructure.Z + channel : (3 - scale(kind)) * L3CStructure.Z + channel;
    }

    @Override
    public void beginStep(int step, int count) {
        currentKind = kinds[step];
        if (currentKind == Z3 && counted != null) {
            for (AdaptiveCdf c : counted) {
                c.reset(); // each channel learns its own counts, from its first symbol
            }
        }
    }

    @Override
    public IntCdf cdf(int step, int channel, int index, int position, long[] outputs, int offset) {
        int kind = kinds[step];
        if (kind == Z3) {
            if (z3Learned) {
                // the coder that has spent less on this channel so far: the counts (a constant channel
                // costs them about 12 log2(n) bits) or the logistic (a channel that varies smoothly)
                IntCdf learned = corrections[3].correct(z3Prior, channel, position);
                z3Candidates[0] = counted[channel];
                z3Candidates[1] = learned;
                return z3Spent[2 * channel + 1] < z3Spent[2 * channel] ? learned : counted[channel];
            }
            return counted == null ? uniform : counted[channel];
        }
        if (kind >= IMAGE) {
            long[] cp = null;
            if (channel > 0) {
                long r = (rgb[0][position] & 0xFF) - 127;
                long gr = (rgb[1][position] & 0xFF) - 127;
                for (int m = 0; m < L3CStructure.MIXTURES; m++) {
                    coupling[m] = channel == 1
                            ? outputs[offset + L3CStructure.COUPLING + m] * r
                            : outputs[offset + L3CStructure.COUPLING + L3CStructure.MIXTURES + m] * r
                            + outputs[offset + L3CStructure.COUPLING + 2 * L3CStructure.MIXTURES + m] * gr;
                }
                cp = coupling;
            }
            imageCdf.set(outputs, offset + L3CStructure.rgbParam(channel, L3CStructure.MEAN, 0), outputs,
                    offset + L3CStructure.rgbParam(channel, L3CStructure.SIGMA, 0), outputs,
                    offset + L3CStructure.rgbParam(channel, L3CStructure.LOGIT, 0), cp);
            return corrections == null ? imageCdf : corrections[0].correct(imageCdf, channel, position);
        }
        latentCdf.set(outputs, offset + L3CStructure.zParam(channel, L3CStructure.MEAN, 0), outputs,
                offset + L3CStructure.zParam(channel, L3CStructure.SIGMA, 0), outputs,
                offset + L3CStructure.zParam(channel, L3CStructure.LOGIT, 0), null);
        return corrections == null ? latentCdf : corrections[scale(kind)].correct(latentCdf, channel, position);
    }

    /** Index of the symbol of channel {@code channel} at {@code position} in the step's latent plane. */
    private int latentIndex(int kind, int position, int channel) {
        int s = scale(kind);
        return channel * (paddedWidth >> s) * (paddedHeight >> s) + position;
    }

    // the kind of the step being coded (value and put are not told the step)
    private int currentKind = -1;

    @Override
    public int value(int position, int channel) {
        int kind = currentKind;
        if (kind >= IMAGE) {
            return rgb[channel][position] & 0xFF;
        }
        return latent[scale(kind) - 1][latentIndex(kind, position, channel)];
    }

    @Override
    public void put(int position, int channel, int symbol) {
        int kind = currentKind;
        if (kind >= IMAGE) {
            rgb[channel][position] = (byte) symbol;
        } else {
            latent[scale(kind) - 1][latentIndex(kind, position, channel)] = symbol;
            if (kind == Z3 && counted != null) {
                if (z3Learned) {
                    for (int k = 0; k < 2; k++) {
                        z3Spent[2 * channel + k] += IntCdf.bitsOfFrequency(z3Candidates[k].freq(symbol));
                    }
                }
                counted[channel].update(symbol);
            }
        }
        if (corrections != null && (kind != Z3 || z3Learned)) {
            corrections[kind >= IMAGE ? 0 : scale(kind)].update(channel, position, symbol);
        }
    }

    @Override
    public void endStep(int step, int[] positions, int first, int count) {}

    @Override
    public RgbImage image() {
        RgbImage out = new RgbImage(width, height);
        byte[] d = out.samples();
        for (int r = 0; r < height; r++) {
            for (int c = 0; c < width; c++) {
                for (int ch = 0; ch < 3; ch++) {
                    d[(r * width + c) * 3 + ch] = rgb[ch][r * paddedWidth + c];
                }
            }
        }
        return out;
    }
}
