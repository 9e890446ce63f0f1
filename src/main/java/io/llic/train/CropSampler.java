package io.llic.train;

import io.llic.model.causal.CausalModel;
import io.llic.schedule.CausalTaps;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws random square crops from a shard of images and turns every pixel of a crop into a training
 * example. The causal context of a crop pixel is read from the whole image (zero only outside the
 * image), exactly as the codec sees it. Each crop is mirrored left-right with probability 1/2.
 *
 * <p>The crops come from {@link CropDraw}: a pure function of (seed, step, shard).
 */
public final class CropSampler {
    private final CropDraw draw;
    private final int crop;

    public CropSampler(List<TrainImage> images, int crop) {
        this.draw = new CropDraw(images, crop);
        this.crop = crop;
    }

    public boolean isEmpty() {
        return draw.isEmpty();
    }

    /** {@code crops} crops for (seed, step, shard). */
    public Batch sample(long seed, long step, int shard, int crops) {
        SplittableRandom rng = CropDraw.random(seed, step, shard);
        int perCrop = crop * crop;
        int n = crops * perCrop;
        float[] inputs = new float[n * CausalModel.INPUTS];
        int[] targets = new int[n * 3];
        for (int k = 0; k < crops; k++) {
            CropDraw.Crop c = draw.next(rng);
            fill(c.image(), c.row0(), c.col0(), crop, crop, c.mirror(), inputs, targets, k * perCrop);
        }
        return new Batch(n, inputs, targets);
    }

    /** Every pixel of rows {@code row0 .. row0+rows-1} of an image, unmirrored: for measuring whole images. */
    public static Batch rows(TrainImage im, int row0, int rows) {
        int n = rows * im.width();
        float[] inputs = new float[n * CausalModel.INPUTS];
        int[] targets = new int[n * 3];
        fill(im, row0, 0, rows, im.width(), false, inputs, targets, 0);
        return new Batch(n, inputs, targets);
    }

    private static void fill(TrainImage im, int row0, int col0, int rows, int cols, boolean mirror, float[] inputs,
                             int[] targets, int first) {
        int w = im.width();
        int h = im.height();
        byte[] s = im.samples();
        float scale = 1f / 255f;
        int p = first;
        for (int i = 0; i < rows; i++) {
            int row = row0 + i;
            for (int j = 0; j < cols; j++) {
                int col = col0 + j; // logical column; the mirrored image reads physical column w-1-col
                int o = p * CausalModel.INPUTS;
                for (int t = 0; t < CausalTaps.COUNT; t++) {
                    int r = row + CausalTaps.DR[t];
                    int c = col + CausalTaps.DC[t];
                    if (r < 0 || c < 0 || r >= h || c >= w) {
                        inputs[o] = 0;
                        inputs[o + 1] = 0;
                        inputs[o + 2] = 0;
                    } else {
                        int k = (r * w + (mirror ? w - 1 - c : c)) * 3;
                        inputs[o] = (s[k] & 0xFF) * scale;
                        inputs[o + 1] = (s[k + 1] & 0xFF) * scale;
                        inputs[o + 2] = (s[k + 2] & 0xFF) * scale;
                    }
                    o += 3;
                }
                int k = (row * w + (mirror ? w - 1 - col : col)) * 3;
                targets[p * 3] = s[k] & 0xFF;
                targets[p * 3 + 1] = s[k + 1] & 0xFF;
                targets[p * 3 + 2] = s[k + 2] & 0xFF;
                p++;
            }
        }
    }
}
