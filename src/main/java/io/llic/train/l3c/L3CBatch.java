package io.llic.train.l3c;

import io.llic.train.TrainBatch;

/**
 * Whole images or crops for the l3c family, all of one size ({@code count} images of
 * {@code height x width}, sides multiples of 8): their RGB samples, channel-major per image. Only the
 * top-left {@code validHeight x validWidth} pixels are the image's (the rest is the zero padding the
 * codec adds and does not code): the loss counts the bits of those pixels, and of every latent.
 * The schedule of the step the crops are for shapes the gradient only: {@code rateWeight} (0..1) is
 * the weight with which the latents' bits reach the encoders ({@link io.llic.train.TrainConfig#rateWeight}),
 * and {@code encodersFrozen} keeps every gradient from the encoders
 * ({@link io.llic.train.TrainConfig#encodersFrozen}); the bits are always the whole code length.
 */
public record L3CBatch(int count, int height, int width, int validHeight, int validWidth, byte[] planes,
                       double rateWeight, boolean encodersFrozen) implements TrainBatch {
    public L3CBatch(int count, int height, int width, byte[] planes) {
        this(count, height, width, height, width, planes, 1, false);
    }

    public L3CBatch(int count, int height, int width, int validHeight, int validWidth, byte[] planes) {
        this(count, height, width, validHeight, validWidth, planes, 1, false);
    }

    /** The same crops under another step's schedule. */
    public L3CBatch withSchedule(double newRateWeight, boolean frozen) {
        return new L3CBatch(count, height, width, validHeight, validWidth, planes, newRateWeight, frozen);
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

    /** Consecutive runs of whole crops (images), each under this batch's schedule. */
    @Override
    public java.util.List<TrainBatch> pieces(long maxSubpixels) {
        int size = 3 * height * width;
        int per = (int) Math.max(1, Math.min(count, maxSubpixels / size));
        if (per == count) {
            return java.util.List.of(this);
        }
        java.util.List<TrainBatch> out = new java.util.ArrayList<>();
        for (int k = 0; k < count; k += per) {
            int n = Math.min(per, count - k);
            byte[] part = java.util.Arrays.copyOfRange(planes, k * size, (k + n) * size);
            out.add(new L3CBatch(n, height, width, validHeight, validWidth, part, rateWeight, encodersFrozen));
        }
        return out;
    }
}
