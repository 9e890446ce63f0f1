package io.llic.model.interp;

import io.llic.image.RgbImage;
import io.llic.image.YCoCgR;
import io.llic.model.Adaptation;
import io.llic.model.CodingPlan;
import io.llic.prob.IntCdf;
import io.llic.prob.MixtureCdf;
import io.llic.prob.UniformCdf;
import io.llic.schedule.Polyphase;
import java.util.ArrayList;
import java.util.List;

/**
 * The interp family's plans, coarse to fine in YCoCg-R (ALGORITHMS.md B.2, B.6):
 * <pre>
 *   step 0      the Co and Cg ranges of the image (min, max), stored (uniform)
 *   step 1      the coarsest x00 (level 4: every 32nd row and column), stored (uniform in its ranges)
 *   interp:       per level 4 .. 0: x11 (band 0) | x01 (band 1) | x10 (band 2)     3 passes per level
 *   checkerboard: per level 4 .. 0: x11 (band 0) | x01 and x10 (band 1)            2 passes per level
 * </pre>
 * In {@code checkerboard}, x00 and x11 are the anchors of a checkerboard on the level's grid and x01,
 * x10 the non-anchors, predicted together in one pass from anchors only (method D): x10 with band 1's
 * network on the transposed windows. Within a step all Y, then all Co, then all Cg, raster order.
 * One stream per level (the stored values go with level 4).
 */
public final class InterpPlan implements CodingPlan {
    public static final String INTERP = "interp";
    public static final String CHECKERBOARD = "checkerboard";
    private static final int RANGES = -1;
    private static final int COARSEST = -2;
    private static final int NON_ANCHORS = -3;

    private final String schedule;
    private final Polyphase split;
    private final int width;
    private final YCoCgR.Planes planes;
    private final short[][] plane;
    private final RgbImage original;
    /** minCo, maxCo, minCg, maxCg */
    private final int[] ranges = new int[4];
    // per step: level, band network (or RANGES / COARSEST), sub-image kinds, stream
    private final List<int[]> steps = new ArrayList<>();
    private final int maxPositions;
    private final MixtureCdf mixture = new MixtureCdf(InterpModel.MIXTURES);
    private final long[] coupling = new long[InterpModel.MIXTURES];
    private final UniformCdf rangeCdf = new UniformCdf(2 * 255 + 1);
    private final UniformCdf[] stored = new UniformCdf[3];
    /** The model's adaptation stage for this image (null: none). */
    private final InterpAdaptation adapt;
    private final boolean measureUnadapted;
    private double unadaptedBits;
    /** Whether the symbol being coded went through the adaptation stage (network steps only). */
    private boolean adapting;

    private InterpPlan(String schedule, int width, int height, YCoCgR.Planes planes, RgbImage original,
                       Adaptation adaptation, boolean measureUnadapted) {
        if (!INTERP.equals(schedule) && !CHECKERBOARD.equals(schedule)) {
            throw new IllegalArgumentException("unknown interp schedule " + schedule);
        }
        this.schedule = schedule;
        this.width = width;
        this.split = new Polyphase(width, height, InterpModel.LEVELS);
        this.planes = planes;
        this.plane = new short[][] {planes.y(), planes.co(), planes.cg()};
        this.original = original;
        this.adapt = adaptation == null ? null : new InterpAdaptation(adaptation, width, height);
        this.measureUnadapted = measureUnadapted && adaptation != null;
        int top = InterpModel.LEVELS - 1;
        steps.add(new int[] {top, RANGES, -1});
        steps.add(new int[] {top, COARSEST, Polyphase.X00});
        for (int level = top; level >= 0; level--) {
            steps.add(new int[] {level, 0, Polyphase.X11});
            if (CHECKERBOARD.equals(schedule)) {
                steps.add(new int[] {level, NON_ANCHORS, Polyphase.X01, Polyphase.X10});
            } else {
                steps.add(new int[] {level, 1, Polyphase.X01});
                steps.add(new int[] {level, 2, Polyphase.X10});
            }
        }
        int most = 4;
        for (int[] s : steps) {
            int n = 0;
            for (int k = 2; k < s.length; k++) {
                n += s[k] < 0 ? 0 : split.samples(s[0], s[k]);
            }
            most = Math.max(most, n);
        }
        this.maxPositions = most;
    }

    /** The plan that encodes {@code image} without an adaptation stage. */
    public static InterpPlan encoding(String schedule, RgbImage image) {
        return encoding(schedule, image, null, false);
    }

    /**
     * The plan that encodes {@code image} with the adaptation stage {@code adaptation} (null: none),
     * also summing the code length without it when {@code measureUnadapted}.
     */
    public static InterpPlan encoding(String schedule, RgbImage image, Adaptation adaptation, boolean measureUnadapted) {
        YCoCgR.Planes p = YCoCgR.forward(image);
        InterpPlan plan = new InterpPlan(schedule, image.width(), image.height(), p, image, adaptation, measureUnadapted);
        int[] r = plan.ranges;
        r[0] = r[2] = Integer.MAX_VALUE;
        r[1] = r[3] = Integer.MIN_VALUE;
        for (int i = 0; i < p.co().length; i++) {
            r[0] = Math.min(r[0], p.co()[i]);
            r[1] = Math.max(r[1], p.co()[i]);
            r[2] = Math.min(r[2], p.cg()[i]);
            r[3] = Math.max(r[3], p.cg()[i]);
        }
        return plan;
    }

    /** The plan that decodes a {@code width} x {@code height} image without an adaptation stage. */
    public static InterpPlan decoding(String schedule, int width, int height) {
        return decoding(schedule, width, height, null);
    }

    /** The plan that decodes a {@code width} x {@code height} image with the adaptation stage (null: none). */
    public static InterpPlan decoding(String schedule, int width, int height, Adaptation adaptation) {
        return new InterpPlan(schedule, width, height, new YCoCgR.Planes(width, height), null, adaptation, false);
    }

    @Override
    public String schedule() {
        return schedule;
    }

    @Override
    public int steps() {
        return steps.size();
    }

    @Override
    public int maxPositions() {
        return maxPositions;
    }

    @Override
    public int positions(int step, int[] out) {
        int[] s = steps.get(step);
        if (s[1] == RANGES) {
            for (int r = 0; r < 4; r++) {
                out[r] = -1 - r;
            }
            return 4;
        }
        int n = 0;
        for (int k = 2; k < s.length; k++) {
            n += split.pixels(s[0], s[k], out, n);
        }
        return n;
    }

    @Override
    public int network(int step) {
        int net = steps.get(step)[1];
        return net == NON_ANCHORS ? 1 : net < 0 ? -1 : net;
    }

    @Override
    public int inputWidth(int network) {
        return InterpModel.inputs(network);
    }

    @Override
    public int outputWidth(int network) {
        return InterpModel.OUTPUTS;
    }

    @Override
    public void inputs(int step, int[] positions, int first, int count, long[] out, int offset) {
        int[] s = steps.get(step);
        int level = s[0];
        int stride = Polyphase.stride(level);
        int band = network(step);
        int o = offset;
        for (int p = first; p < first + count; p++) {
            int pixel = positions[p];
            int row = pixel / width;
            int col = pixel - row * width;
            int kind = s[1] == NON_ANCHORS ? (row % stride == 0 ? Polyphase.X01 : Polyphase.X10) : s[2];
            int i = (row - Polyphase.rowOffset(level, kind)) / stride;
            int j = (col - Polyphase.colOffset(level, kind)) / stride;
            o = InterpModel.gather(split, planes.y(), planes.co(), planes.cg(), band, level, i, j, kind == Polyphase.X10
                    && s[1] == NON_ANCHORS, out, o);
        }
    }

    @Override
    public int channels(int step) {
        return steps.get(step)[1] == RANGES ? 1 : 3;
    }

    @Override
    public int stream(int step, int channel) {
        return InterpModel.LEVELS - 1 - steps.get(step)[0];
    }

    @Override
    public void beginStep(int step, int count) {
        if (steps.get(step)[1] == COARSEST) {
            for (int c = 0; c < 3; c++) {
                stored[c] = new UniformCdf(count(c));
            }
        }
    }

    /** Lowest value of channel c and the size of its alphabet (at least 2). */
    private int low(int c) {
        return c == 0 ? 0 : ranges[2 * c - 2];
    }

    private int count(int c) {
        return c == 0 ? 256 : Math.max(2, ranges[2 * c - 1] - ranges[2 * c - 2] + 1);
    }

    @Override
    public IntCdf cdf(int step, int channel, int index, int position, long[] outputs, int offset) {
        int[] s = steps.get(step);
        int kind = s[1];
        adapting = false;
        if (kind == RANGES) {
            return rangeCdf;
        }
        if (kind == COARSEST) {
            return stored[channel];
        }
        long y = plane[0][position] - InterpModel.Y_ZERO;
        for (int m = 0; m < InterpModel.MIXTURES; m++) {
            coupling[m] = switch (channel) {
                case 0 -> (long) InterpModel.Y_ZERO << MixtureCdf.PARAM_FRACTION_BITS;
                case 1 -> outputs[offset + InterpModel.COUPLING_A + m] * y;
                default -> outputs[offset + InterpModel.COUPLING_B + m] * y
                        + outputs[offset + InterpModel.COUPLING_D + m] * plane[1][position];
            };
        }
        int k = channel * InterpModel.MIXTURES;
        mixture.set(outputs, offset + InterpModel.MEAN + k, outputs, offset + InterpModel.SIGMA + k, outputs,
                offset + InterpModel.LOGIT + k, coupling);
        mixture.range(low(channel), count(channel));
        if (adapt != null) {
            if (measureUnadapted) {
                unadaptedBits += mixture.bits(plane[channel][position] - low(channel));
            }
            int sub = kind == NON_ANCHORS ? ((position / width) % Polyphase.stride(s[0]) == 0 ? 1 : 2) : kind;
            adapt.correct(mixture, channel, position, s[0], sub);
            adapting = true;
        }
        return mixture;
    }

    @Override
    public int value(int position, int channel) {
        if (position < 0) {
            return ranges[-1 - position] + 255;
        }
        return plane[channel][position] - low(channel);
    }

    @Override
    public void put(int position, int channel, int symbol) {
        if (position < 0) {
            ranges[-1 - position] = symbol - 255;
            return;
        }
        // a corrupt stream may name a symbol outside the channel's values: kept in range, and the
        // decoder's pixel checksum reports the file
        int v = Math.min(low(channel) + count(channel) - 1, symbol + low(channel));
        plane[channel][position] = (short) Math.max(channel == 0 ? 0 : -255, Math.min(255, v));
        if (adapting) {
            adapt.record(position, channel, plane[channel][position]);
        }
    }

    @Override
    public void endStep(int step, int[] positions, int first, int count) {
    }

    @Override
    public RgbImage image() {
        return original != null ? original : YCoCgR.inverse(planes);
    }

    @Override
    public double unadaptedBits() {
        return measureUnadapted ? unadaptedBits : Double.NaN;
    }

    @Override
    public long[] adaptationTotals() {
        return adapt == null ? new long[2] : new long[] {adapt.residualTotal(), adapt.spreadTotal()};
    }

    /** Network passes per image (steps that evaluate a network). */
    public int passes() {
        int n = 0;
        for (int s = 0; s < steps.size(); s++) {
            n += network(s) >= 0 ? 1 : 0;
        }
        return n;
    }
}
