package io.llic.train;

import io.llic.image.RgbImage;
import java.io.Serializable;

/**
 * A decoded training image kept in executor memory: its id and 8-bit RGB samples. Serializable, so
 * Spark can cache and move it.
 */
public record TrainImage(String id, int width, int height, byte[] samples) implements Serializable {
    public static TrainImage of(String id, RgbImage image) {
        return new TrainImage(id, image.width(), image.height(), image.samples());
    }

    public long pixels() {
        return (long) width * height;
    }

    /**
     * Downsamples by an integer factor with a box (area) filter, rounding to nearest: suppresses
     * the blocking of JPEG-derived images (see the training sets' READMEs). Factor 1 returns this.
     */
    public TrainImage downsample(int factor) {
        if (factor == 1) {
            return this;
        }
        int w = width / factor;
        int h = height / factor;
        byte[] out = new byte[w * h * 3];
        int area = factor * factor;
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                for (int ch = 0; ch < 3; ch++) {
                    int sum = 0;
                    for (int dr = 0; dr < factor; dr++) {
                        int base = ((r * factor + dr) * width + c * factor) * 3 + ch;
                        for (int dc = 0; dc < factor; dc++) {
                            sum += samples[base + dc * 3] & 0xFF;
                        }
                    }
                    out[(r * w + c) * 3 + ch] = (byte) ((sum + area / 2) / area);
                }
            }
        }
        return new TrainImage(id, w, h, out);
    }
}
