package io.llic.train.l3c;

import io.llic.train.TrainBatch;

/**
 * Whole images or crops for the l3c family, all of one size ({@code count} images of
 * {@code height x width}, sides multiples of 8): their RGB samples, channel-major per image. Only the
 * top-left {@code validHeight x validWidth} pixels are the image's (the rest is the zero padding the
 * codec adds and does not code): the loss counts the bits of those pixels, and of every latent.
 * {@code rateWeight} (0..1) weights the latents' bits in the gradient only (the rate warm-up of
 * {@link io.llic.train.TrainConfig#rateWeight}); the bits reported are always the whole code length.
 */
public record L3CBatch(int count, int height, int width, int validHeight, int validWidth, byte[] planes,
                       double rateWeight) implements TrainBatch {
    public L3CBatch(int count, int height, int width, byte[] planes) {
        this(count, height, width, height, width, planes, 1);
    }

    public L3CBatch(int count, int height, int width, int validHeight, int validWidth, byte[] planes) {
        this(count, height, width, validHeight, validWidth, planes, 1);
    }

    /** The same crops with the latents' bits weighted by {@code w} in the gradient. */
    public L3CBatch withRateWeight(double w) {
        return new L3CBatch(count, height, width, validHeight, validWidth, planes, w);
    }

    public L3CBatch {
        if (!(rateWeight >= 0 && rateWeight <= 1)) {
            throw new IllegalArgumentException("the rate weight is in [0, 1], got " + rateWeight);
        }
        if (validHeight < 1 || validWidth < 1 || validHeight > height || validWidth > width) {
            throw new IllegalArgumentException("bad valid size " + validWidth + "x" + validHeight);
        }
        if (height % 8 != 0 || width % 8 != 0 || planes.length != (long) count * 3 * height * width) {
            throw new IllegalArgumentException("an l3c batch needs sides that are multiples of 8 and " + count
                    + " images of 3 x " + height + " x " + width + " samples");
        }
    }

    @Override
    public long subpixels() {
        return 3L * count * validHeight * validWidth;
    }
}
