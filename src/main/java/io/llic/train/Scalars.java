package io.llic.train;

import ai.djl.ndarray.NDArray;

/**
 * Constants for the training graphs, as tensors that live as long as the graph.
 *
 * <p>DJL's number overloads ({@code a.mul(2.0)}, {@code div}, {@code maximum}, ...) make a scalar
 * tensor over a direct buffer and close it as soon as the operation returns. Autograd keeps that
 * tensor for the backward pass of {@code mul}, {@code div} and {@code maximum}, but once the Java
 * side is closed nothing keeps the buffer: a garbage collection before {@code backward} frees it, and
 * the backward pass reads freed memory (non-finite or silently wrong gradients, seen in Spark tasks,
 * where the heap is busy). A constant made here is the same tensor, left open: attached to the
 * operand's manager (which holds it, and with it its buffer), which is closed only after the
 * gradients are read. {@code TrainCoreTest} shows the
 * difference under a busy heap.
 */
public final class Scalars {
    private Scalars() {}

    /**
     * {@code value} as a 0-dimensional float64 tensor on {@code like}'s manager: the tensor DJL's
     * {@code a.mul(double)} would make (so the arithmetic and its types are unchanged), kept open.
     */
    public static NDArray like(NDArray like, double value) {
        return like.getManager().create(value);
    }

    /** {@code value} as a 0-dimensional float32 tensor on {@code like}'s manager (as {@code a.mul(float)}). */
    public static NDArray like(NDArray like, float value) {
        return like.getManager().create(value);
    }

    /** {@code value} as a 0-dimensional int32 tensor on {@code like}'s manager (as {@code a.div(int)}). */
    public static NDArray like(NDArray like, int value) {
        return like.getManager().create(value);
    }
}
