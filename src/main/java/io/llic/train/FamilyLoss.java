package io.llic.train;

/** A family's training objective on one thread: bits of a batch and their gradient. Not thread-safe. */
public interface FamilyLoss extends AutoCloseable {
    /**
     * Sum of bits of the batch and, if {@code withGradient}, the gradient of {@code weight * bits}
     * with respect to every parameter (flat, in the family's order).
     */
    LossModel.Result evaluate(double[] params, TrainBatch batch, double weight, boolean withGradient);

    @Override
    void close();
}
