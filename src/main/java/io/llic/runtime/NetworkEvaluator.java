package io.llic.runtime;

/**
 * Evaluates a fixed-point network on a batch of pixels. Every implementation returns exactly the
 * integers defined by {@link io.llic.model.FixedPointLayer}, whatever the batch size, thread count
 * or device (the determinism contract). Not thread-safe: one instance per thread.
 */
public interface NetworkEvaluator extends AutoCloseable {
    /**
     * @param inputs  {@code count} rows of the network's inputs, row-major
     * @param count   number of pixels (rows)
     * @param outputs receives {@code count} rows of the network's outputs
     */
    void evaluate(long[] inputs, int count, long[] outputs);

    /**
     * Evaluates a convolutional network on one image's planes ({@link ConvEvaluator}); a per-position
     * network has none.
     *
     * @param input channel-major planes of {@code height x width}
     * @return the output tensor, channel-major
     */
    default long[] planes(long[] input, int height, int width) {
        throw new UnsupportedOperationException(description() + " evaluates per position, not whole planes");
    }

    /** A short description for logs and benchmarks, e.g. "djl-pytorch(cpu,2 threads)". */
    String description();

    @Override
    void close();
}
