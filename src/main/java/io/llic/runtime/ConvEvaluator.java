package io.llic.runtime;

import io.llic.model.FixedPointConvNet;

/**
 * Evaluates a {@link FixedPointConvNet} on one image's planes. Every implementation returns exactly
 * the integers the pure-Java definition ({@link JavaConvEvaluator}) gives, whatever the thread count or
 * device (the determinism contract). Not thread-safe: one instance per thread.
 */
public interface ConvEvaluator extends NetworkEvaluator {
    /**
     * @param input  the input tensor, channel-major ({@code channels x height x width}, row-major planes)
     * @return the output tensor, channel-major, of {@code net.outputChannels()} planes of
     *         the last of {@code net.sizes(height)} x the last of {@code net.sizes(width)}
     */
    long[] evaluate(long[] input, int height, int width);

    FixedPointConvNet net();

    @Override
    default long[] planes(long[] input, int height, int width) {
        return evaluate(input, height, width);
    }

    @Override
    default void evaluate(long[] inputs, int count, long[] outputs) {
        throw new UnsupportedOperationException(description() + " evaluates whole planes, not positions");
    }
}
