package io.llic.model.l3c;

import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointConvNet.Add;
import io.llic.model.FixedPointConvNet.Concat;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import io.llic.model.FixedPointConvNet.Shuffle;
import io.llic.model.FixedPointConvNet.Slice;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of an L3C model (ALGORITHMS.md C) of {@code channels} feature channels and {@code blocks}
 * residual blocks per body: six convolutional networks (seven with the checkerboard context), as operation lists with the convolutions'
 * weights left at zero (a template: training fills them in float, export in fixed point). Tensor 0
 * of each network is its input, the last tensor its output.
 *
 * <ul>
 *   <li>{@link #E1}: the RGB image (values x / 2^7) -> a 3x3 head conv, the body at half size (a 5x5
 *       stride-2 conv, residual blocks, a 3x3 conv and the skip around them): feature F1; then a 1x1
 *       conv to the {@value #Z} latent channels u1 in symbol units. Output: F1 then u1.</li>
 *   <li>{@link #E2}, {@link #E3}: the same on F1 (F2): a 3x3 head conv, the body at half size. E3's
 *       output is u3 alone.</li>
 *   <li>{@link #D3}: z3 (symbol - 12, as values / 2^4) -> 1x1 conv, body, a 3x3 conv to 4C channels and
 *       a pixel shuffle: feature f3 at twice the size; the probability head on f3 (three 3x3 convs with
 *       dilations 1, 2 and 4 and ReLU, concatenated, a 1x1 conv) gives the mixture parameters of z2.
 *       Output: f3 then the parameters.</li>
 *   <li>{@link #D2}: z2 and f3 -> the 1x1 conv of z2 plus f3, then as D3: f2 and z1's parameters.</li>
 *   <li>{@link #D1}: z1 and f2 -> as D2, the head gives the image's parameters. Output: the parameters
 *       (with the checkerboard context: f1 then the parameters).</li>
 *   <li>{@link #C1}, only in a structure with the checkerboard context ({@link #context()}, not in the
 *       paper): the first half's pixels (values x / 2^7 where {@link #anchor} holds, 0 elsewhere) and f1
 *       -> f1 plus a {@value #CONTEXT_KERNEL}x{@value #CONTEXT_KERNEL} conv of the pixels, then a
 *       probability head as D1's: the parameters of the image's second half, whose pixels each see their
 *       four first-half neighbours. One more network pass; the first half is coded under D1's mixtures.</li>
 * </ul>
 * Every residual block is conv 3x3, ReLU, conv 3x3, plus its input. Latent symbols are the rounded u
 * clamped to [-12, 12], plus 12 ({@value #LEVELS} levels).
 *
 * <p>Fixed point: features carry {@value #FEATURE_FRACTION} fraction bits, u {@value #LATENT_FRACTION},
 * mixture parameters {@value #PARAM_FRACTION} (as every family's outputs).
 */
public final class L3CStructure {
    public static final int Z = 5;
    public static final int LEVELS = 25;
    public static final int CENTRE = 12;
    /** Logistic mixture components of every distribution. */
    public static final int MIXTURES = 5;
    public static final int E1 = 0;
    public static final int E2 = 1;
    public static final int E3 = 2;
    public static final int D3 = 3;
    public static final int D2 = 4;
    public static final int D1 = 5;
    /** Networks of a model without the image's checkerboard context. */
    public static final int NETWORKS = 6;
    /**
     * The checkerboard context network of a model that has one ({@link #context()}): the mixtures of the
     * image's second half given D1's feature f1 and the first half's pixels.
     */
    public static final int C1 = 6;
    public static final String[] NAMES = {"E1", "E2", "E3", "D3", "D2", "D1", "C1"};
    /** Kernel of C1's convolution over the first half's pixels. */
    public static final int CONTEXT_KERNEL = 5;

    public static final int IMAGE_FRACTION = 7;
    public static final int Z_FRACTION = 4;
    public static final int FEATURE_FRACTION = 12;
    public static final int LATENT_FRACTION = 8;
    public static final int PARAM_FRACTION = 24;

    /** Parameters per position of a latent plane: per channel, K means, K sigmas, K logits. */
    public static final int Z_PARAMS = 3 * Z * MIXTURES;
    /** Parameters per pixel: per channel (R, G, B) K means, K sigmas, K logits; then K each of c_gr, c_br, c_bg. */
    public static final int RGB_PARAMS = 12 * MIXTURES;
    public static final int MEAN = 0;
    public static final int SIGMA = 1;
    public static final int LOGIT = 2;
    public static final int COUPLING = 9 * MIXTURES;

    private final int channels;
    private final int blocks;
    private final boolean context;

    public L3CStructure(int channels, int blocks) {
        this(channels, blocks, false);
    }

    /**
     * @param context whether the image is coded in two checkerboard halves, the second under network
     *                {@link #C1} ({@link #anchor}): D1 then also outputs its feature f1
     */
    public L3CStructure(int channels, int blocks, boolean context) {
        if (channels < 1 || channels > 256 || blocks < 0 || blocks > 16) {
            throw new IllegalArgumentException("an L3C model needs 1..256 channels and 0..16 residual blocks, got "
                    + channels + " and " + blocks);
        }
        this.channels = channels;
        this.blocks = blocks;
        this.context = context;
    }

    /** Whether the image is coded in two checkerboard halves, the second with {@link #C1}. */
    public boolean context() {
        return context;
    }

    /** The number of networks: {@value #NETWORKS}, and {@link #C1} with the checkerboard context. */
    public int networks() {
        return context ? NETWORKS + 1 : NETWORKS;
    }

    /**
     * Whether the pixel at (row, column) of the padded image (or of a training crop) is in the image's
     * first half, coded under D1 alone: rows plus columns even. The second half's pixels each have four
     * first-half neighbours, which C1 reads.
     */
    public static boolean anchor(int row, int column) {
        return ((row + column) & 1) == 0;
    }

    public int channels() {
        return channels;
    }

    public int blocks() {
        return blocks;
    }

    /** Index of parameter {@code kind} (MEAN, SIGMA, LOGIT) of component k of channel c, in a latent plane's row. */
    public static int zParam(int c, int kind, int k) {
        return (c * 3 + kind) * MIXTURES + k;
    }

    /** Index of parameter {@code kind} of component k of colour channel c (0 R, 1 G, 2 B) in an image row. */
    public static int rgbParam(int c, int kind, int k) {
        return (c * 3 + kind) * MIXTURES + k;
    }

    /** The input channels of network {@code net}. */
    public int inputChannels(int net) {
        return switch (net) {
            case E1 -> 3;
            case E2, E3 -> channels;
            case D3 -> Z;
            case C1 -> 3 + channels;
            default -> Z + channels;
        };
    }

    /** Fraction bits of each input channel of network {@code net}. */
    public int[] inputFractions(int net) {
        int[] f = new int[inputChannels(net)];
        for (int c = 0; c < f.length; c++) {
            f[c] = switch (net) {
                case E1 -> IMAGE_FRACTION;
                case E2, E3 -> FEATURE_FRACTION;
                case C1 -> c < 3 ? IMAGE_FRACTION : FEATURE_FRACTION;
                default -> c < Z ? Z_FRACTION : FEATURE_FRACTION;
            };
        }
        return f;
    }

    /** The operations of network {@code net}, convolutions with zero weights. */
    public List<Op> template(int net) {
        Builder b = new Builder();
        int c = channels;
        switch (net) {
            case E1, E2, E3 -> {
                int head = b.conv(0, inputChannels(net), c, 3, 1, 1, FixedPointConvNet.NONE);
                int f = body(b, b.conv(head, c, c, 5, 2, 1, FixedPointConvNet.NONE));
                int u = b.conv(f, c, Z, 1, 1, 1, FixedPointConvNet.NONE);
                if (net != E3) {
                    b.add(new Concat(f, u));
                }
            }
            case C1 -> {
                // f1 plus a convolution of the first half's pixels (0 at the second half's), then a head
                int pixels = b.add(new Slice(0, 0, 3));
                int f = b.add(new Slice(0, 3, 3 + c));
                int seen = b.conv(pixels, 3, c, CONTEXT_KERNEL, 1, 1, FixedPointConvNet.NONE);
                head(b, b.add(new Add(f, seen)), RGB_PARAMS);
            }
            default -> {
                int x;
                if (net == D3) {
                    x = b.conv(0, Z, c, 1, 1, 1, FixedPointConvNet.NONE);
                } else {
                    int z = b.add(new Slice(0, 0, Z));
                    int g = b.add(new Slice(0, Z, Z + c));
                    x = b.add(new Add(b.conv(z, Z, c, 1, 1, 1, FixedPointConvNet.NONE), g));
                }
                int f = body(b, x);
                int up = b.add(new Shuffle(b.conv(f, c, 4 * c, 3, 1, 1, FixedPointConvNet.NONE)));
                int params = head(b, up, net == D1 ? RGB_PARAMS : Z_PARAMS);
                if (net != D1 || context) {
                    b.add(new Concat(up, params));
                }
            }
        }
        return b.ops;
    }

    /** The probability head on feature {@code f}: three 3x3 convs (dilations 1, 2, 4, ReLU), concatenated, a 1x1 conv. */
    private int head(Builder b, int f, int params) {
        int c = channels;
        int h1 = b.conv(f, c, c, 3, 1, 1, FixedPointConvNet.RELU);
        int h2 = b.conv(f, c, c, 3, 1, 2, FixedPointConvNet.RELU);
        int h4 = b.conv(f, c, c, 3, 1, 4, FixedPointConvNet.RELU);
        int heads = b.add(new Concat(b.add(new Concat(h1, h2)), h4));
        return b.conv(heads, 3 * c, params, 1, 1, 1, FixedPointConvNet.NONE);
    }

    /** Residual blocks, a 3x3 conv, and the skip around them all. */
    private int body(Builder b, int x) {
        int y = x;
        for (int k = 0; k < blocks; k++) {
            int r = b.conv(y, channels, channels, 3, 1, 1, FixedPointConvNet.RELU);
            y = b.add(new Add(y, b.conv(r, channels, channels, 3, 1, 1, FixedPointConvNet.NONE)));
        }
        return b.add(new Add(x, b.conv(y, channels, channels, 3, 1, 1, FixedPointConvNet.NONE)));
    }

    /** Output channels of network {@code net}'s last tensor. */
    public int outputChannels(int net) {
        return switch (net) {
            case E1, E2 -> channels + Z;
            case E3 -> Z;
            case D3, D2 -> channels + Z_PARAMS;
            case D1 -> context ? channels + RGB_PARAMS : RGB_PARAMS;
            default -> RGB_PARAMS;
        };
    }

    /** Number of float parameters of network {@code net}: every conv's weights then its biases, in order. */
    public int parameters(int net) {
        int n = 0;
        for (Op op : template(net)) {
            if (op instanceof Conv c) {
                n += c.weights().length + c.bias().length;
            }
        }
        return n;
    }

    public int parameters() {
        int n = 0;
        for (int net = 0; net < networks(); net++) {
            n += parameters(net);
        }
        return n;
    }

    /** Offset of network {@code net}'s parameters in the flat vector of all six. */
    public int offset(int net) {
        int n = 0;
        for (int k = 0; k < net; k++) {
            n += parameters(k);
        }
        return n;
    }

    /**
     * Gain of the encoders' latent convs at initialisation: latents of deviation ~6 levels, so that they
     * use most of the 25 levels from the first step (as L3C's, whose encoders see pixels in -128..128).
     * With gain 1 the latents took 3 levels, and the rate's gradient (which pulls them towards the
     * centre) outweighed the image's: the first 15,000-step run ended with z1 at 0.2 bits per
     * sub-pixel and the image at 5.2, worse than PNG.
     */
    static final double LATENT_GAIN = 6;

    /** Initial sigmas of the image's and the latents' mixture components (on the 1/255 scale). */
    static final double IMAGE_SIGMA = 0.05;
    static final double LATENT_SIGMA = 2.0 / 255;

    /**
     * Random initial parameters: He-initialised convolutions (the second conv of each residual block
     * scaled by 0.1, so that the network starts near its skips, the parameter heads by 0.01), biases
     * drawn with deviation 0.1 (with zero biases, all-zero latents would make every activation 0 and
     * every ReLU's gradient 0, so nothing would ever reach the encoders), and the heads' biases set:
     * sigmas that cover the values, image means at mid-grey, latent means at the centre level. The
     * encoders' latent convs have gain {@link #LATENT_GAIN}, so that the latents take most levels from
     * the start.
     */
    public double[] initial(long seed) {
        java.util.Random r = new java.util.Random(seed);
        double[] p = new double[parameters()];
        for (int net = 0; net < networks(); net++) {
            int at = offset(net);
            List<Op> ops = template(net);
            int last = lastConv(ops);
            for (int k = 0; k < ops.size(); k++) {
                if (!(ops.get(k) instanceof Conv c)) {
                    continue;
                }
                boolean residual = k + 1 < ops.size() && ops.get(k + 1) instanceof Add;
                double gain = k == last ? (net <= E3 ? LATENT_GAIN : 0.01) : residual ? 0.1 : 1;
                double scale = Math.sqrt(2.0 / (c.in() * c.kernel() * c.kernel())) * gain;
                for (int i = 0; i < c.weights().length; i++) {
                    p[at + i] = r.nextGaussian() * scale;
                }
                at += c.weights().length;
                for (int i = 0; i < c.bias().length; i++) {
                    p[at + i] = k == last ? 0 : r.nextGaussian() * 0.1;
                }
                if (k == last && net >= D3) {
                    boolean image = net >= D1;
                    for (int ch = 0; ch < (image ? 3 : Z); ch++) {
                        for (int m = 0; m < MIXTURES; m++) {
                            p[at + zParam(ch, MEAN, m)] = image ? 0.5 : CENTRE / 255.0;
                            p[at + zParam(ch, SIGMA, m)] = image ? IMAGE_SIGMA : LATENT_SIGMA;
                        }
                    }
                }
                at += c.bias().length;
            }
        }
        return p;
    }

    /**
     * The "pyramid" start: {@link #initial} with the encoders set so that latent channels 0..2 begin as
     * the colour image's means over 2x2 (z1), 4x4 (z2) and 8x8 (z3) blocks on the 25 levels (symbol
     * {@code 12 (mean / 128 - 1)}, rounded), an RGB pyramid, and channels 3 and 4 at the centre symbol
     * (zero weights: nothing to code until training gives them a use); the decoders start random. Each encoder's head conv passes its input's channels 0..2 through, its stride-2 conv
     * averages them over 2x2 blocks, and the convs that add into channels 0..2 (each residual block's
     * second conv and the body's last) start at zero there, so the features' channels 0..2 are the block
     * means (x / 128) through the whole encoder. Training is free to move away from it: the start only
     * spares the latents the slow way from noise to a representation that carries the image (D1 given
     * such a z1 learns in a few hundred steps what llic-l3c-1's predictor never reached).
     */
    public double[] pyramid(long seed) {
        return pyramid(seed, 0);
    }

    /**
     * Quantisation step of the {@link #haar} start's details, in intensity units (0..255): symbol
     * {@code 12 + round(mean difference / DETAIL_STEP)}, clamped, so differences up to 48 are told apart.
     */
    public static final double DETAIL_STEP = 4;

    /**
     * The "haar" start: {@link #pyramid} with latent channels 3 and 4 of z1 and z2 carrying the block's
     * luminance detail, as a Haar transform's: channel 3 the mean of its left half minus its right
     * half, channel 4 top minus bottom (over R, G and B and the block's 2x2 sub-blocks: pixels for z1,
     * z1's means for z2), on the latent levels in steps of {@link #DETAIL_STEP}. Each 2x2 block then
     * tells the image's predictor where within the block the colour rises, which the means alone leave
     * to every pixel's own distribution; z3's channels 3 and 4 stay at the centre. The detail passes
     * through the encoders' feature channels 3 and 4 the way the means pass through 0..2.
     */
    public double[] haar(long seed) {
        return pyramid(seed, DETAIL_STEP);
    }

    private double[] pyramid(long seed, double detailStep) {
        if (channels < (detailStep > 0 ? Z : 3)) {
            throw new IllegalArgumentException("the " + (detailStep > 0 ? "haar" : "pyramid") + " start carries "
                    + (detailStep > 0 ? "R, G, B and two details in 5" : "R, G and B in 3") + " feature channels; this"
                    + " model has " + channels);
        }
        double[] p = initial(seed);
        for (int net = E1; net <= E3; net++) {
            boolean detail = detailStep > 0 && net != E3;
            int kept = detail ? Z : 3;  // feature channels the encoder carries through unchanged
            List<Op> ops = template(net);
            List<int[]> convs = new ArrayList<>(); // {op index, weight offset}
            int at = offset(net);
            for (int k = 0; k < ops.size(); k++) {
                if (ops.get(k) instanceof Conv c) {
                    convs.add(new int[] {k, at});
                    at += c.weights().length + c.bias().length;
                }
            }
            for (int i = 0; i < convs.size(); i++) {
                Conv c = (Conv) ops.get(convs.get(i)[0]);
                int w = convs.get(i)[1];
                int b = w + c.weights().length;
                int kk = c.kernel() * c.kernel();
                boolean head = i == 0;
                boolean stride = i == 1;
                boolean latent = i == convs.size() - 1;
                boolean residualSecond = i >= 2 && i < 2 + 2 * blocks && (i - 2) % 2 == 1;
                boolean bodyLast = i == 2 + 2 * blocks;
                if (!(head || stride || latent || residualSecond || bodyLast)) {
                    continue;  // the residual blocks' first convs read the carried channels and stay random
                }
                if (latent) {
                    java.util.Arrays.fill(p, w + 3 * c.in() * kk, w + Z * c.in() * kk, 0);
                    java.util.Arrays.fill(p, b + 3, b + Z, 0);
                }
                int rows = head ? 3 : kept;  // the head passes R, G, B on; the others also carry the details
                for (int o = 0; o < rows; o++) {
                    java.util.Arrays.fill(p, w + o * c.in() * kk, w + (o + 1) * c.in() * kk, 0);
                    p[b + o] = 0;
                    int from = w + (o * c.in() + o) * kk;  // the taps from input channel o
                    int k = c.kernel();
                    int centre = k / 2;                    // a stride-2 conv's tap (centre, centre) reads (2y, 2x)
                    if (head) {
                        p[from + kk / 2] = 1;                              // the centre tap
                    } else if (stride && o < 3) {
                        for (int dy = 0; dy < 2; dy++) {
                            for (int dx = 0; dx < 2; dx++) {
                                p[from + (centre + dy) * k + centre + dx] = 0.25;
                            }
                        }
                    } else if (stride) {
                        // detail: 1/16 of the sum over R, G, B and the block's two rows (3: left minus
                        // right) or columns (4: top minus bottom), which is 3/8 of the mean difference
                        for (int in = 0; in < 3; in++) {
                            int taps = w + (o * c.in() + in) * kk;
                            for (int a = 0; a < 2; a++) {
                                for (int d = 0; d < 2; d++) {
                                    int dy = o == 3 ? a : d;
                                    int dx = o == 3 ? d : a;
                                    p[taps + (centre + dy) * k + centre + dx] = d == 0 ? 1.0 / 16 : -1.0 / 16;
                                }
                            }
                        }
                    } else if (latent && o < 3) {
                        p[from] = CENTRE;                                 // 12 (mean / 128 - 1)
                        p[b + o] = -CENTRE;
                    } else if (latent) {
                        p[from] = 128 / (0.375 * detailStep);             // mean difference / step
                    }
                }
            }
        }
        return p;
    }

    /** Fraction bits of the weights of a conv from {@code in} to {@code out} fraction bits. */
    static int weightFraction(int in, int out) {
        return Math.max(14, out - in + 8);
    }

    /** Feature clips: 1024 in float, never reached by a trained network (its values stay far below). */
    static final int FEATURE_CLIP_BITS = 10;

    /**
     * The clip of a conv's outputs as a float value (training applies it too): features 2^10, latents
     * 2^12 symbol units, mixture parameters 2^12 (the largest the CDF arithmetic takes, 2^36 at 24
     * fraction bits).
     */
    public static double clipInFloat(int net, boolean lastConv) {
        if (!lastConv) {
            return 1 << FEATURE_CLIP_BITS;
        }
        return net <= E3 ? 1 << CENTRE : Math.scalb((double) io.llic.prob.MixtureCdf.MAX_PARAM, -PARAM_FRACTION);
    }

    /**
     * The six fixed-point networks of float parameters (every conv's weights then bias, network after
     * network, as training orders them). Each tensor has a number of fraction bits: the inputs' (image
     * 7, latents 4), features {@value #FEATURE_FRACTION}; a conv from F_in to F_out fraction bits keeps
     * its weights with W = max(14, F_out - F_in + 8) fraction bits, its bias with F_in + W, and shifts
     * by F_in + W - F_out. Input bounds chain: each network's feature inputs are bounded by what the
     * network before it can output.
     */
    public List<FixedPointConvNet> export(double[] params) throws io.llic.model.ModelException {
        if (params.length != parameters()) {
            throw new io.llic.model.ModelException("an l3c model of " + channels + " channels and " + blocks
                    + " blocks has " + parameters() + " parameters, not " + params.length);
        }
        FixedPointConvNet[] out = new FixedPointConvNet[networks()];
        for (int net = 0; net < networks(); net++) {
            int n = inputChannels(net);
            long[] bounds = new long[n];
            for (int c = 0; c < n; c++) {
                bounds[c] = switch (net) {
                    case E1 -> 255;
                    case E2 -> featureBound(out[E1], c);
                    case E3 -> featureBound(out[E2], c);
                    case D3 -> CENTRE;
                    case D2 -> c < Z ? CENTRE : featureBound(out[D3], c - Z);
                    case C1 -> c < 3 ? 255 : featureBound(out[D1], c - 3);
                    default -> c < Z ? CENTRE : featureBound(out[D2], c - Z);
                };
            }
            out[net] = exportNet(net, params, offset(net), bounds);
        }
        return List.of(out);
    }

    private static long featureBound(FixedPointConvNet from, int channel) {
        return from.bounds(from.ops().size())[channel];
    }

    private FixedPointConvNet exportNet(int net, double[] params, int at, long[] bounds) throws io.llic.model.ModelException {
        List<Op> template = template(net);
        List<int[]> fractions = fractions(net);
        List<Op> ops = new ArrayList<>();
        int last = lastConv(template);
        for (int k = 0; k < template.size(); k++) {
            Op op = template.get(k);
            if (op instanceof Conv c) {
                int fi = fractions.get(c.src())[0];
                int fo = fractions.get(k + 1)[0];
                int wf = weightFraction(fi, fo);
                long[] w = new long[c.weights().length];
                for (int i = 0; i < w.length; i++) {
                    w[i] = Math.round(Math.scalb(params[at + i], wf));
                }
                at += w.length;
                long[] b = new long[c.out()];
                for (int i = 0; i < b.length; i++) {
                    b[i] = Math.round(Math.scalb(params[at + i], fi + wf));
                }
                at += b.length;
                long clip = Math.round(Math.scalb(clipInFloat(net, k == last), fo));
                ops.add(new Conv(c.src(), c.in(), c.out(), c.kernel(), c.stride(), c.dilation(), w, b, fi + wf - fo,
                        c.activation(), clip));
            } else {
                ops.add(op);
            }
        }
        try {
            return new FixedPointConvNet(bounds, ops);
        } catch (io.llic.model.ModelException e) {
            throw new io.llic.model.ModelException("network " + NAMES[net] + ": " + e.getMessage(), e);
        }
    }

    /**
     * The fraction bits of every channel of every tensor of network {@code net} (tensor 0 its input,
     * tensor k + 1 the output of operation k): convolutions give features, the last one latents or
     * parameters; adds, shuffles, concatenations and slices carry their inputs' fractions.
     */
    private List<int[]> fractions(int net) {
        List<Op> template = template(net);
        List<int[]> fractions = new ArrayList<>();
        fractions.add(inputFractions(net));
        int last = lastConv(template);
        for (int k = 0; k < template.size(); k++) {
            Op op = template.get(k);
            int[] f;
            if (op instanceof Conv c) {
                int[] in = fractions.get(c.src());
                for (int v : in) {
                    if (v != in[0]) {
                        throw new IllegalStateException("conv " + k + " of " + NAMES[net] + " mixes fraction bits");
                    }
                }
                f = new int[c.out()];
                java.util.Arrays.fill(f, k == last ? (net <= E3 ? LATENT_FRACTION : PARAM_FRACTION) : FEATURE_FRACTION);
            } else if (op instanceof Add a) {
                if (!java.util.Arrays.equals(fractions.get(a.a()), fractions.get(a.b()))) {
                    throw new IllegalStateException("add " + k + " of " + NAMES[net] + " mixes fraction bits");
                }
                f = fractions.get(a.a());
            } else if (op instanceof Shuffle p) {
                f = java.util.Arrays.copyOf(fractions.get(p.src()), fractions.get(p.src()).length / 4);
            } else if (op instanceof Concat c) {
                int[] x = fractions.get(c.a());
                int[] y = fractions.get(c.b());
                f = java.util.Arrays.copyOf(x, x.length + y.length);
                System.arraycopy(y, 0, f, x.length, y.length);
            } else {
                Slice sl = (Slice) op;
                f = java.util.Arrays.copyOfRange(fractions.get(sl.src()), sl.from(), sl.to());
            }
            fractions.add(f);
        }
        return fractions;
    }

    /**
     * The float parameters that {@link #export} turns into {@code nets}: each weight and bias divided by
     * its scale (exact: every fixed-point value is an integer times a power of two), so exporting them
     * again gives the same networks. For fine-tuning a released model ({@code train-job --init}).
     *
     * @throws io.llic.model.ModelException if {@code nets} are not six networks of this structure (another
     *         channel count or number of blocks, or another fixed point)
     */
    public double[] fromFixedPoint(List<FixedPointConvNet> nets) throws io.llic.model.ModelException {
        L3CStructure model = L3CFamily.structure(nets, "the model");  // the networks of one structure's shapes
        if (model.channels != channels || model.blocks != blocks) {
            throw new io.llic.model.ModelException("the model has " + model.channels + " channels and " + model.blocks
                    + " residual blocks per body; this network has " + channels + " channels and " + blocks
                    + " residual blocks per body");
        }
        if (model.context != context) {
            if (context) {
                return withContext(model.fromFixedPoint(nets));
            }
            throw new io.llic.model.ModelException("the model codes the image in two checkerboard halves (network C1);"
                    + " this network has no C1");
        }
        double[] p = new double[parameters()];
        for (int net = 0; net < networks(); net++) {
            List<Op> template = template(net);
            List<Op> ops = nets.get(net).ops();
            List<int[]> fractions = fractions(net);
            int last = lastConv(template);
            int at = offset(net);
            for (int k = 0; k < template.size(); k++) {
                if (!(template.get(k) instanceof Conv c)) {
                    continue;
                }
                Conv m = (Conv) ops.get(k);  // the same shape as c (L3CFamily.structure)
                int fi = fractions.get(c.src())[0];
                int fo = fractions.get(k + 1)[0];
                int wf = weightFraction(fi, fo);
                long clip = Math.round(Math.scalb(clipInFloat(net, k == last), fo));
                if (m.shift() != fi + wf - fo || m.clip() != clip) {
                    throw new io.llic.model.ModelException("network " + NAMES[net] + ", convolution " + k + ": shift "
                            + m.shift() + " and clip " + m.clip() + ", this build's fixed point has " + (fi + wf - fo)
                            + " and " + clip);
                }
                for (int i = 0; i < m.weights().length; i++) {
                    p[at++] = Math.scalb((double) m.weights()[i], -wf);
                }
                for (int i = 0; i < m.bias().length; i++) {
                    p[at++] = Math.scalb((double) m.bias()[i], -(fi + wf));
                }
            }
        }
        return p;
    }

    /**
     * The parameters of this structure (which has {@link #C1}) that start where a model of the same
     * size without it ended: {@code base}'s six networks unchanged, C1's convolution of the pixels zero
     * and its head a copy of D1's, so that C1 gives D1's mixtures until training finds a use for the
     * first half's pixels.
     */
    public double[] withContext(double[] base) {
        if (!context) {
            throw new IllegalStateException("a structure without C1");
        }
        L3CStructure plain = new L3CStructure(channels, blocks, false);
        if (base.length != plain.parameters()) {
            throw new IllegalArgumentException("expected " + plain.parameters() + " parameters, got " + base.length);
        }
        double[] p = new double[parameters()];
        System.arraycopy(base, 0, p, 0, base.length);
        // C1 is its pixel convolution (left at zero) then a head of D1's shape, the end of D1's parameters
        Conv pixels = (Conv) template(C1).stream().filter(o -> o instanceof Conv).findFirst().orElseThrow();
        int head = parameters(C1) - pixels.weights().length - pixels.bias().length;
        System.arraycopy(base, plain.offset(D1) + plain.parameters(D1) - head, p, offset(C1) + parameters(C1) - head, head);
        return p;
    }

    /** Index of the last convolution of {@code ops} (a network's output conv), -1 if none. */
    public static int lastConv(List<Op> ops) {
        for (int k = ops.size() - 1; k >= 0; k--) {
            if (ops.get(k) instanceof Conv) {
                return k;
            }
        }
        return -1;
    }

    /** A side padded up to a multiple of 8 (the codec pads images so; the latents are 1/2, 1/4, 1/8 of it). */
    public static int pad(int side) {
        return (side + 7) / 8 * 8;
    }

    /** The latent symbol (0..24) of an E output u in symbol units with {@link #LATENT_FRACTION} fraction bits. */
    public static int symbol(long u) {
        long s = (u + (1L << (LATENT_FRACTION - 1))) >> LATENT_FRACTION;
        return (int) Math.max(-CENTRE, Math.min(CENTRE, s)) + CENTRE;
    }

    private static final class Builder {
        final List<Op> ops = new ArrayList<>();

        int add(Op op) {
            ops.add(op);
            return ops.size();
        }

        int conv(int src, int in, int out, int k, int stride, int dilation, int activation) {
            return add(new Conv(src, in, out, k, stride, dilation, new long[out * in * k * k], new long[out], 0, activation,
                    1));
        }
    }
}
