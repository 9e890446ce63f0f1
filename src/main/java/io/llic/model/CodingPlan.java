package io.llic.model;

import io.llic.image.RgbImage;
import io.llic.prob.IntCdf;

/**
 * How one image is coded by a model family along one schedule: the family-independent contract
 * between a family and the codec's step loop (ARCHITECTURE.md, "Model families"). The encoder and the
 * decoder walk the same plan, so they cannot drift apart.
 *
 * <p>A plan is a sequence of steps. A step is one batched network call over a set of
 * <em>positions</em> (family-defined integers, e.g. pixel indices, or sample indices of a sub-image),
 * then the coding of {@link #channels} symbols per position, channel by channel and position by
 * position in the order {@link #positions} gives, then {@link #endStep}. Each symbol goes into one of
 * the streams ({@link ModelFamily#streams}, one chunk of the file each).
 *
 * <p>A plan owns the planes it codes: an encoding plan is built from the whole image (so
 * {@link #value} gives every true symbol, and the network inputs of any step may be gathered at any
 * time: the encoder evaluates many steps in one batch); a decoding plan starts empty and is filled
 * through {@link #put}, and {@link #inputs} of a step is only asked once all earlier steps are coded.
 * A family must therefore read only planes the steps before have completed.
 */
public interface CodingPlan {
    /** Name of the schedule this plan follows (written into the header). */
    String schedule();

    int steps();

    /** Upper bound of the positions of any one step. */
    int maxPositions();

    /** Writes the positions of {@code step} into {@code out}, in coding order, and returns how many. */
    int positions(int step, int[] out);

    /**
     * Index of the network ({@link LoadedModel#nets()}) that step {@code step} evaluates, or -1 for a
     * step without one (values stored with a fixed distribution).
     */
    int network(int step);

    /** Integers the network takes per position ({@code network}'s input width). */
    int inputWidth(int network);

    /** Integers the network gives per position. */
    int outputWidth(int network);

    /**
     * Writes the network inputs of {@code count} positions ({@code positions[first ..]}) of step
     * {@code step} into {@code out} from {@code out[offset]} on, {@link #inputWidth} per position.
     */
    void inputs(int step, int[] positions, int first, int count, long[] out, int offset);

    /**
     * Whether step {@code step}'s network is a convolutional one ({@link FixedPointConvNet}), evaluated
     * once over whole planes ({@link #planeInput}, {@link #planeOutput}) instead of per position. A
     * plane step may code no symbols at all (an encoder's analysis network, e.g. L3C's E nets).
     */
    default boolean planeStep(int step) {
        return false;
    }

    /** Height and width of the input planes of plane step {@code step}. */
    default int[] planeSize(int step) {
        throw new UnsupportedOperationException("step " + step + " is not a plane step");
    }

    /** The input tensor (channel-major planes) of plane step {@code step}, asked once all earlier steps are coded. */
    default long[] planeInput(int step) {
        throw new UnsupportedOperationException("step " + step + " is not a plane step");
    }

    /**
     * Takes the output tensor of plane step {@code step}'s network, and writes the output rows of the
     * step's {@code count} positions ({@code positions}, as {@link #positions} gave them),
     * {@link #outputWidth} integers each, into {@code rows}.
     */
    default void planeOutput(int step, long[] tensor, int[] positions, int count, long[] rows) {
        throw new UnsupportedOperationException("step " + step + " is not a plane step");
    }

    /** Symbols coded per position in step {@code step}. */
    int channels(int step);

    /** The stream that channel {@code channel} of step {@code step} is coded into. */
    int stream(int step, int channel);

    /** Called before the symbols of step {@code step} (its {@code count} positions) are coded. */
    void beginStep(int step, int count);

    /**
     * The distribution of channel {@code channel} of the {@code index}-th position ({@code position})
     * of step {@code step}, from the position's network outputs at {@code outputs[offset ..]}. May use
     * the symbols already coded, including earlier channels of the same position.
     */
    IntCdf cdf(int step, int channel, int index, int position, long[] outputs, int offset);

    /** The symbol held for channel {@code channel} of {@code position}: the true one when encoding. */
    int value(int position, int channel);

    /** Stores the symbol coded for channel {@code channel} of {@code position}. */
    void put(int position, int channel, int symbol);

    /** Called after all symbols of the step (positions {@code positions[first .. first + count)}) are coded. */
    void endStep(int step, int[] positions, int first, int count);

    /** The image, once every step is coded (decoding) or as given (encoding). */
    RgbImage image();

    /**
     * Code length in bits the network's own distributions give, without the model's adaptation stage,
     * when the encoding plan was asked to measure it; NaN otherwise.
     */
    default double unadaptedBits() {
        return Double.NaN;
    }

    /**
     * The adaptation stage's totals over the symbols coded so far, in 2^-8 value units: the residual
     * |x - mu - bias| and the network's spreads (what a network's calibration compares); zeros for a
     * plan without the stage.
     */
    default long[] adaptationTotals() {
        return new long[2];
    }
}
