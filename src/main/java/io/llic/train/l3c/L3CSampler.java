package io.llic.train.l3c;

import io.llic.image.RgbImage;
import io.llic.model.l3c.L3CStructure;
import io.llic.train.CropDraw;
import io.llic.train.TrainBatch;
import io.llic.train.TrainImage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random square crops for the l3c family (sides a multiple of 8, mirrored left-right with probability
 * 1/2, as L3C trains), and whole images cut into pieces for measurement. The draw is a pure function of
 * (seed, step, shard).
 */
public final class L3CSampler {
    private final CropDraw draw;
    private final int crop;

    public L3CSampler(List<TrainImage> images, int crop) {
        if (crop % 8 != 0) {
            throw new IllegalArgumentException("l3c crops must be a multiple of 8 pixels, got " + crop);
        }
        this.draw = new CropDraw(images, crop);
        this.crop = crop;
    }

    public L3CBatch sample(long seed, long step, int shard, int crops) {
        SplittableRandom rng = CropDraw.random(seed, step, shard);
        int plane = crop * crop;
        byte[] planes = new byte[crops * 3 * plane];
        for (int k = 0; k < crops; k++) {
            CropDraw.Crop c = draw.next(rng);
            TrainImage im = c.image();
            byte[] s = im.samples();
            for (int r = 0; r < crop; r++) {
                for (int j = 0; j < crop; j++) {
                    int src = ((c.row0() + r) * im.width() + c.col0() + (c.mirror() ? crop - 1 - j : j)) * 3;
                    for (int ch = 0; ch < 3; ch++) {
                        planes[(k * 3 + ch) * plane + r * crop + j] = s[src + ch];
                    }
                }
            }
        }
        return new L3CBatch(crops, crop, crop, planes);
    }

    /**
     * An image as the codec sees it (zero-padded to multiples of 8 at the bottom and right), cut into
     * horizontal strips of at most about {@code maxPixels} pixels (a multiple of 8 rows each) so that
     * the loss's memory stays bounded. The strips' bits add up to a little more than the whole
     * image's (their borders lose context), a measurement, not the code length.
     */
    public static Iterator<TrainBatch> strips(RgbImage image, int maxPixels) {
        int w = L3CStructure.pad(image.width());
        int h = L3CStructure.pad(image.height());
        int rows = Math.max(8, Math.min(h, maxPixels / w / 8 * 8));
        List<TrainBatch> out = new ArrayList<>();
        byte[] s = image.samples();
        for (int top = 0; top < h; top += rows) {
            int n = Math.min(rows, h - top);
            byte[] planes = new byte[3 * n * w];
            for (int r = 0; r < n && top + r < image.height(); r++) {
                for (int c = 0; c < image.width(); c++) {
                    for (int ch = 0; ch < 3; ch++) {
                        planes[(ch * n + r) * w + c] = s[((top + r) * image.width() + c) * 3 + ch];
                    }
                }
            }
            out.add(new L3CBatch(1, n, w, Math.max(1, Math.min(n, image.height() - top)), image.width(), planes));
        }
        return out.iterator();
    }
}
