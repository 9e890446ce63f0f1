package io.llic.model.causal;

import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.CodingPlan;
import io.llic.prob.IntCdf;
import io.llic.prob.MixtureCdf;
import io.llic.schedule.Schedule;

/**
 * The causal family's plan: the steps of a pixel {@link Schedule}, one network call per step, and in
 * each step all R values of the step's pixels, then all G, then all B (ALGORITHMS.md A.5), in one
 * stream, written into the image so later contexts can read them.
 *
 * <p>With a model's {@link Adaptation} stage, each channel's distribution is corrected by the
 * statistics of the steps coded so far, and the step's pixels are added after the step: encoder and
 * decoder update at the same points, whatever the batch size.
 */
public final class CausalPlan implements CodingPlan {
    private final Schedule schedule;
    private final RgbImage image;
    private final byte[] samples;
    private final int width;
    private final CausalModel.Distribution dist = new CausalModel.Distribution();
    private final Adaptation.State adapt;
    private final boolean measureUnadapted;
    private double unadaptedBits;

    /**
     * @param image            the image to code (encoding: whole; decoding: empty) and to write into
     * @param adaptation       the model's adaptation stage, or null
     * @param measureUnadapted (encoding only, where every value is known) also sum the code length the
     *                         network's distributions give without the adaptation stage
     */
    public CausalPlan(Schedule schedule, RgbImage image, Adaptation adaptation, boolean measureUnadapted) {
        this.schedule = schedule;
        this.image = image;
        this.samples = image.samples();
        this.width = image.width();
        this.adapt = adaptation == null ? null : adaptation.newState(samples, width);
        this.measureUnadapted = measureUnadapted && adaptation != null;
    }

    @Override
    public String schedule() {
        return schedule.name();
    }

    @Override
    public int steps() {
        return schedule.stepCount(image.height(), width);
    }

    @Override
    public int maxPositions() {
        return schedule.maxPixelsPerStep(image.height(), width);
    }

    @Override
    public int positions(int step, int[] out) {
        return schedule.pixelsOfStep(image.height(), width, step, out);
    }

    @Override
    public int network(int step) {
        return 0;
    }

    @Override
    public int inputWidth(int network) {
        return CausalModel.INPUTS;
    }

    @Override
    public int outputWidth(int network) {
        return CausalModel.OUTPUTS;
    }

    @Override
    public void inputs(int step, int[] positions, int first, int count, long[] out, int offset) {
        CausalModel.contexts(image, schedule, positions, first, count, out, offset);
    }

    @Override
    public int channels(int step) {
        return 3;
    }

    @Override
    public int stream(int step, int channel) {
        return 0;
    }

    @Override
    public void beginStep(int step, int count) {
        if (adapt != null) {
            adapt.beginStep(count);
        }
    }

    @Override
    public IntCdf cdf(int step, int channel, int index, int position, long[] outputs, int offset) {
        int k = position * 3;
        MixtureCdf cdf = dist.channel(outputs, offset, channel, samples[k] & 0xFF, samples[k + 1] & 0xFF);
        if (adapt != null) {
            if (measureUnadapted) {
                unadaptedBits += cdf.bits(samples[k + channel] & 0xFF);
            }
            // the left and upper neighbours: coded in earlier steps by every causal schedule
            int row = position / width;
            int col = position - row * width;
            int left = col > 0 ? samples[k - 3 + channel] & 0xFF : -1;
            int above = row > 0 ? samples[k - 3 * width + channel] & 0xFF : -1;
            adapt.correct(cdf, channel, index, position, left, above);
        }
        return cdf;
    }

    @Override
    public int value(int position, int channel) {
        return samples[position * 3 + channel] & 0xFF;
    }

    @Override
    public void put(int position, int channel, int symbol) {
        samples[position * 3 + channel] = (byte) symbol;
    }

    @Override
    public void endStep(int step, int[] positions, int first, int count) {
        if (adapt != null) {
            adapt.endStep(positions, first);
        }
    }

    @Override
    public RgbImage image() {
        return image;
    }

    @Override
    public double unadaptedBits() {
        return measureUnadapted ? unadaptedBits : Double.NaN;
    }

    @Override
    public long[] adaptationTotals() {
        return adapt == null ? new long[2] : new long[] {adapt.residualTotal(), adapt.spreadTotal()};
    }

    /** The adaptation statistics of the image so far (null without adaptation). */
    public Adaptation.State adaptationState() {
        return adapt;
    }
}
