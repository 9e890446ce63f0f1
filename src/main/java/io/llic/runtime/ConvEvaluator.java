package io.llic.runtime;

import io.llic.model.FixedPointConvNet;

/**
 * Evaluates a {@link FixedPointConvNet} on one image's planes. Every implementation returns exactly
 * the integers the pure-Java definition ({@link JavaConvEvaluator}) gives, whatever the thread count or
 * device (the determinism contract). Not thread-safe: one instance per thread.
 */
public interface ConvEvaluator extends AutoCloseable {
    /**
     * @param input  the input tensor, channel-major ({@code channels x height x width}, row-major planes)
     * @return the output tensor, channel-major, of {@code net.outputChannels()} planes of
     *         {@code net.size(last, height) x net.size(last, width)}
     */
    long[] evaluate(long[] input, int height, int width);

    FixedPointConvNet net();

    /** A short description for logs and benchmarks. */
    String description();

    @Override
    void close();
}
