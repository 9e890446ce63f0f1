package io.llic.image;

import java.awt.Point;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * PNG reading and writing with exact samples: pixels come from the raster, never through
 * {@code getRGB} (which applies colour conversion). Only 8-bit RGB without alpha is accepted; grey,
 * grey+alpha, RGBA, 16-bit and palette images are refused with a message saying what the image is.
 */
public final class PngIo {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    /** Largest image accepted, in pixels (a guard against decompression bombs). */
    public static final long MAX_PIXELS = 1L << 28;

    private PngIo() {}

    /** Decodes a PNG file's bytes into exact 8-bit RGB samples. */
    public static RgbImage read(byte[] png) throws UnsupportedImageException {
        if (png.length < PNG_SIGNATURE.length) {
            throw new UnsupportedImageException(png.length == 0 ? "empty file" : "not a PNG file (" + png.length + " bytes)");
        }
        for (int i = 0; i < PNG_SIGNATURE.length; i++) {
            if (png[i] != PNG_SIGNATURE[i]) {
                throw new UnsupportedImageException("not a PNG file (bad signature)");
            }
        }
        checkHeaderSize(png);
        BufferedImage image;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("png");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                image = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw new UnsupportedImageException("corrupt PNG: " + e.getMessage(), e);
        }
        return toRgb(image);
    }

    /** Reads width and height from IHDR before decoding, so huge images are refused cheaply. */
    private static void checkHeaderSize(byte[] png) throws UnsupportedImageException {
        if (png.length < 33) {
            throw new UnsupportedImageException("corrupt PNG: file ends inside the header");
        }
        long width = readU32(png, 16);
        long height = readU32(png, 20);
        if (width == 0 || height == 0 || width * height > MAX_PIXELS) {
            throw new UnsupportedImageException("PNG size " + width + "x" + height + " is empty or above the limit of "
                    + MAX_PIXELS + " pixels");
        }
    }

    private static long readU32(byte[] b, int off) {
        return (b[off] & 0xFFL) << 24 | (b[off + 1] & 0xFFL) << 16 | (b[off + 2] & 0xFFL) << 8 | (b[off + 3] & 0xFFL);
    }

    /** Converts a decoded image to RGB samples, refusing anything that is not 8-bit RGB. */
    public static RgbImage toRgb(BufferedImage image) throws UnsupportedImageException {
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int bands = raster.getNumBands();
        int bits = raster.getSampleModel().getSampleSize(0);
        if (cm instanceof IndexColorModel) {
            throw new UnsupportedImageException("unsupported image: palette (indexed colour) PNG; llic codes 8-bit RGB only");
        }
        if (cm.hasAlpha()) {
            throw new UnsupportedImageException("unsupported image: " + bits + "-bit " + (bands == 2 ? "grey+alpha" : "RGBA")
                    + " PNG; llic codes 8-bit RGB without alpha only");
        }
        if (bands == 1) {
            throw new UnsupportedImageException("unsupported image: " + bits + "-bit grey PNG; llic codes 8-bit RGB only");
        }
        if (bands != 3 || cm.getColorSpace().getType() != ColorSpace.TYPE_RGB) {
            throw new UnsupportedImageException("unsupported image: " + bands + " channels; llic codes 8-bit RGB only");
        }
        if (bits != 8) {
            throw new UnsupportedImageException("unsupported image: " + bits + "-bit RGB PNG; llic codes 8-bit RGB only");
        }
        int width = image.getWidth();
        int height = image.getHeight();
        // the PNG reader's usual layout for 8-bit RGB is exactly ours (interleaved R, G, B rows, no
        // padding): take its array instead of copying it, so a large image is held once, not twice
        if (raster.getDataBuffer() instanceof DataBufferByte db && db.getNumBanks() == 1 && db.getOffset() == 0
                && raster.getSampleModel() instanceof PixelInterleavedSampleModel sm && sm.getPixelStride() == 3
                && sm.getScanlineStride() == width * 3 && java.util.Arrays.equals(sm.getBandOffsets(), new int[] {0, 1, 2})
                && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0
                && raster.getParent() == null && db.getData().length == (long) width * height * 3) {
            return new RgbImage(width, height, db.getData());
        }
        RgbImage out = new RgbImage(width, height);
        byte[] samples = out.samples();
        int[] row = new int[width * 3];
        for (int y = 0; y < height; y++) {
            raster.getPixels(0, y, width, 1, row);
            int base = y * width * 3;
            for (int i = 0; i < row.length; i++) {
                samples[base + i] = (byte) row[i];
            }
        }
        return out;
    }

    /** Encodes exact 8-bit RGB samples as a PNG. */
    public static byte[] write(RgbImage image) {
        int width = image.width();
        int height = image.height();
        // the writer only reads the samples: no copy of a possibly large image
        DataBufferByte buffer = new DataBufferByte(image.samples(), image.samples().length);
        PixelInterleavedSampleModel sm = new PixelInterleavedSampleModel(DataBuffer.TYPE_BYTE, width, height, 3,
                width * 3, new int[] {0, 1, 2});
        WritableRaster raster = Raster.createWritableRaster(sm, buffer, new Point(0, 0));
        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), new int[] {8, 8, 8}, false,
                false, Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        BufferedImage bi = new BufferedImage(cm, raster, false, null);
        ByteArrayOutputStream out = new ByteArrayOutputStream(image.samples().length / 2 + 1024);
        try {
            if (!ImageIO.write(bi, "png", out)) {
                throw new IllegalStateException("no PNG writer available");
            }
        } catch (IOException e) {
            throw new IllegalStateException("PNG encoding failed", e);
        }
        return out.toByteArray();
    }
}
