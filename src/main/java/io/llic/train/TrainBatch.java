package io.llic.train;

/** Training examples of some family: opaque to the training loop, which only counts what they predict. */
public interface TrainBatch {
    /** Sub-pixels (symbols) the examples predict. */
    long subpixels();

    /**
     * The same examples in consecutive pieces of at most about {@code maxSubpixels} sub-pixels each (at
     * least one example per piece), so that a measurement without a gradient can run in bounded memory;
     * their bits add up to the batch's. By default the batch whole: a family whose examples are small
     * (causal: one pixel's context each) has nothing to gain.
     */
    default java.util.List<TrainBatch> pieces(long maxSubpixels) {
        return java.util.List.of(this);
    }
}
