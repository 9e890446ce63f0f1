package io.llic.image;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * An 8-bit RGB image: samples interleaved R, G, B, rows top to bottom. Index of sample (row, col,
 * channel) is {@code (row * width + col) * 3 + channel}.
 */
public final class RgbImage {
    public static final int CHANNELS = 3;
    private final int width;
    private final int height;
    private final byte[] samples;

    public RgbImage(int width, int height) {
        this(width, height, new byte[checkedSize(width, height)]);
    }

    public RgbImage(int width, int height, byte[] samples) {
        if (samples.length != checkedSize(width, height)) {
            throw new IllegalArgumentException("expected " + checkedSize(width, height) + " samples, got " + samples.length);
        }
        this.width = width;
        this.height = height;
        this.samples = samples;
    }

    private static int checkedSize(int width, int height) {
        if (width < 1 || height < 1 || (long) width * height * CHANNELS > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("bad image size " + width + "x" + height);
        }
        return width * height * CHANNELS;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public long pixelCount() {
        return (long) width * height;
    }

    /** The raw sample array (shared, not copied). */
    public byte[] samples() {
        return samples;
    }

    public int get(int row, int col, int channel) {
        return samples[(row * width + col) * CHANNELS + channel] & 0xFF;
    }

    public void set(int row, int col, int channel, int value) {
        samples[(row * width + col) * CHANNELS + channel] = (byte) value;
    }

    /** A copy of the rectangle at (row, col) of the given size. */
    public RgbImage crop(int row, int col, int cropWidth, int cropHeight) {
        if (row < 0 || col < 0 || row + cropHeight > height || col + cropWidth > width) {
            throw new IllegalArgumentException("crop outside the image");
        }
        RgbImage out = new RgbImage(cropWidth, cropHeight);
        for (int r = 0; r < cropHeight; r++) {
            System.arraycopy(samples, ((row + r) * width + col) * CHANNELS, out.samples, r * cropWidth * CHANNELS,
                    cropWidth * CHANNELS);
        }
        return out;
    }

    /** Copies {@code piece} into this image with its top-left corner at (row, col). */
    public void paste(RgbImage piece, int row, int col) {
        if (row < 0 || col < 0 || row + piece.height > height || col + piece.width > width) {
            throw new IllegalArgumentException("paste outside the image");
        }
        for (int r = 0; r < piece.height; r++) {
            System.arraycopy(piece.samples, r * piece.width * CHANNELS, samples, ((row + r) * width + col) * CHANNELS,
                    piece.width * CHANNELS);
        }
    }

    /** SHA-256 of the raw samples (row-major, RGB interleaved), as in shared/datasets/kodak/PIXELS_SHA256.txt. */
    public byte[] sha256() {
        try {
            return MessageDigest.getInstance("SHA-256").digest(samples);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean samePixels(RgbImage other) {
        return width == other.width && height == other.height && Arrays.equals(samples, other.samples);
    }
}
