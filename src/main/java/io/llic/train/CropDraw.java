package io.llic.train;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Where the crops of a step come from, for every family: an image with probability proportional to
 * its pixels, then a uniform position and a coin for a left-right mirror. The draw is a pure function
 * of (seed, step, shard), so a resumed run sees the same data as an uninterrupted one, and the order
 * in which executors run tasks does not matter.
 */
public final class CropDraw {
    /** One crop: its image, top-left corner and whether it is mirrored left-right. */
    public record Crop(TrainImage image, int row0, int col0, boolean mirror) {}

    private final List<TrainImage> images;
    private final long[] cumulative;
    private final int crop;

    public CropDraw(List<TrainImage> images, int crop) {
        this.images = images;
        this.crop = crop;
        this.cumulative = new long[images.size()];
        long total = 0;
        for (int i = 0; i < images.size(); i++) {
            TrainImage im = images.get(i);
            if (im.width() < crop || im.height() < crop) {
                throw new IllegalArgumentException(im.id() + " (" + im.width() + "x" + im.height()
                        + ") is smaller than the crop size " + crop);
            }
            total += im.pixels();
            cumulative[i] = total;
        }
    }

    public boolean isEmpty() {
        return images.isEmpty();
    }

    /** The random stream of one (seed, step, shard): SplitMix64 mixing of the three. */
    public static SplittableRandom random(long seed, long step, int shard) {
        long x = seed * 0x9E3779B97F4A7C15L + step;
        x = x * 0xBF58476D1CE4E5B9L + shard;
        return new SplittableRandom(x ^ (x >>> 31));
    }

    /** The next crop from {@code rng}: four draws (image, row, column, mirror), always in this order. */
    public Crop next(SplittableRandom rng) {
        long pick = rng.nextLong(cumulative[cumulative.length - 1]);
        int idx = java.util.Arrays.binarySearch(cumulative, pick + 1);
        if (idx < 0) {
            idx = -idx - 1;
        }
        TrainImage im = images.get(idx);
        int row0 = rng.nextInt(im.height() - crop + 1);
        int col0 = rng.nextInt(im.width() - crop + 1);
        return new Crop(im, row0, col0, rng.nextBoolean());
    }
}
