package io.llic.train;

/** Training examples of some family: opaque to the training loop, which only counts what they predict. */
public interface TrainBatch {
    /** Sub-pixels (symbols) the examples predict. */
    long subpixels();
}
