package io.llic.train.interp;

import io.llic.image.RgbImage;
import io.llic.image.YCoCgR;
import io.llic.model.interp.InterpModel;
import io.llic.schedule.Polyphase;
import io.llic.train.CropDraw;
import io.llic.train.TrainImage;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random crops for the interp family: each crop is split and coded as the codec would code an image
 * of that size (the same {@link Polyphase} split and {@link InterpModel#gather} windows, so training
 * sees exactly the coder's contexts), and every sample of every band at every level becomes an
 * example. Crops are mirrored left-right with probability 1/2 (as LLICTI trains) and transposed with
 * probability 1/2: a transposed crop's x01 is the original's x10 seen sideways, which is how the
 * checkerboard schedule uses band 1's network for x10. The draw is a pure function of (seed, step,
 * shard).
 */
public final class InterpSampler {
    private final CropDraw draw;
    private final int crop;

    public InterpSampler(List<TrainImage> images, int crop) {
        this.draw = new CropDraw(images, crop);
        this.crop = crop;
    }

    /** {@code crops} crops for (seed, step, shard). */
    public InterpBatch sample(long seed, long step, int shard, int crops) {
        SplittableRandom rng = CropDraw.random(seed, step, shard);
        RgbImage[] picked = new RgbImage[crops];
        for (int k = 0; k < crops; k++) {
            CropDraw.Crop c = draw.next(rng);
            boolean transpose = rng.nextBoolean();
            TrainImage im = c.image();
            RgbImage out = new RgbImage(crop, crop);
            byte[] s = im.samples();
            byte[] d = out.samples();
            for (int r = 0; r < crop; r++) {
                for (int j = 0; j < crop; j++) {
                    int src = ((c.row0() + r) * im.width() + c.col0() + (c.mirror() ? crop - 1 - j : j)) * 3;
                    int dst = (transpose ? j * crop + r : r * crop + j) * 3;
                    d[dst] = s[src];
                    d[dst + 1] = s[src + 1];
                    d[dst + 2] = s[src + 2];
                }
            }
            picked[k] = out;
        }
        return examples(picked);
    }

    /** Every coded sample of the given images (as training examples of whole images). */
    public static InterpBatch examples(RgbImage... images) {
        int[] count = new int[3];
        for (RgbImage im : images) {
            Polyphase split = new Polyphase(im.width(), im.height(), InterpModel.LEVELS);
            for (int level = 0; level < InterpModel.LEVELS; level++) {
                for (int band = 0; band < 3; band++) {
                    count[band] += split.samples(level, InterpModel.TARGET[band]);
                }
            }
        }
        float[][] inputs = new float[3][];
        int[][] targets = new int[3][];
        for (int band = 0; band < 3; band++) {
            inputs[band] = new float[count[band] * InterpModel.inputs(band)];
            targets[band] = new int[count[band] * 3];
        }
        int[] at = new int[3];
        for (RgbImage im : images) {
            YCoCgR.Planes p = YCoCgR.forward(im);
            Polyphase split = new Polyphase(im.width(), im.height(), InterpModel.LEVELS);
            for (int level = 0; level < InterpModel.LEVELS; level++) {
                for (int band = 0; band < 3; band++) {
                    at[band] = fill(p, split, level, band, 0, split.rows(level, InterpModel.TARGET[band]), inputs[band],
                            targets[band], at[band]);
                }
            }
        }
        return new InterpBatch(count, inputs, targets);
    }

    /**
     * The examples of a whole image in pieces of at most about {@code maxSamples} samples (one band of
     * one level, some rows of it, per piece), so measuring a large image never holds all its windows.
     */
    public static java.util.Iterator<io.llic.train.TrainBatch> chunks(RgbImage image, int maxSamples) {
        YCoCgR.Planes p = YCoCgR.forward(image);
        Polyphase split = new Polyphase(image.width(), image.height(), InterpModel.LEVELS);
        List<int[]> pieces = new java.util.ArrayList<>(); // level, band, first row, rows
        for (int level = 0; level < InterpModel.LEVELS; level++) {
            for (int band = 0; band < 3; band++) {
                int kind = InterpModel.TARGET[band];
                int rows = split.rows(level, kind);
                int cols = split.cols(level, kind);
                if (cols == 0) {
                    continue;
                }
                int step = Math.max(1, maxSamples / cols);
                for (int r = 0; r < rows; r += step) {
                    pieces.add(new int[] {level, band, r, Math.min(step, rows - r)});
                }
            }
        }
        java.util.Iterator<int[]> it = pieces.iterator();
        return new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public io.llic.train.TrainBatch next() {
                int[] piece = it.next();
                int band = piece[1];
                int n = piece[3] * split.cols(piece[0], InterpModel.TARGET[band]);
                int[] count = new int[3];
                count[band] = n;
                float[][] inputs = {new float[0], new float[0], new float[0]};
                int[][] targets = {new int[0], new int[0], new int[0]};
                inputs[band] = new float[n * InterpModel.inputs(band)];
                targets[band] = new int[n * 3];
                fill(p, split, piece[0], band, piece[2], piece[2] + piece[3], inputs[band], targets[band], 0);
                return new InterpBatch(count, inputs, targets);
            }
        };
    }

    /** Writes the examples of rows [rowFrom, rowTo) of band {@code band}'s sub-image at {@code level}; returns the next index. */
    private static int fill(YCoCgR.Planes p, Polyphase split, int level, int band, int rowFrom, int rowTo, float[] inputs,
                            int[] targets, int at) {
        int kind = InterpModel.TARGET[band];
        int width = InterpModel.inputs(band);
        long[] raw = new long[width];
        for (int i = rowFrom; i < rowTo; i++) {
            for (int j = 0; j < split.cols(level, kind); j++) {
                InterpModel.gather(split, p.y(), p.co(), p.cg(), band, level, i, j, false, raw, 0);
                int o = at * width;
                for (int k = 0; k < width; k += 3) {
                    inputs[o + k] = (raw[k] - InterpModel.Y_ZERO) / 255f;
                    inputs[o + k + 1] = raw[k + 1] / 255f;
                    inputs[o + k + 2] = raw[k + 2] / 255f;
                }
                int pixel = split.pixel(level, kind, i, j);
                targets[at * 3] = p.y()[pixel];
                targets[at * 3 + 1] = p.co()[pixel];
                targets[at * 3 + 2] = p.cg()[pixel];
                at++;
            }
        }
        return at;
    }
}
