package io.llic.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import java.awt.Point;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PngIoTest {

    static byte[] png(BufferedImage img) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, "png", out));
        return out.toByteArray();
    }

    static BufferedImage rgb16(int w, int h) {
        PixelInterleavedSampleModel sm = new PixelInterleavedSampleModel(DataBuffer.TYPE_USHORT, w, h, 3, 3 * w,
                new int[] {0, 1, 2});
        WritableRaster r = Raster.createWritableRaster(sm, new Point(0, 0));
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), new int[] {16, 16, 16},
                false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        return new BufferedImage(cm, r, false, null);
    }

    @Test
    void rgbRoundTripsExactly() throws Exception {
        RgbImage img = TestData.syntheticImage(37, 21, 1);
        RgbImage back = PngIo.read(PngIo.write(img));
        assertTrue(back.samePixels(img));
    }

    @Test
    void readsKodakSamplesExactly() throws Exception {
        // PIXELS_SHA256.txt holds the SHA-256 of the raw RGB samples of each image
        String line = Files.readAllLines(TestData.kodak().resolve("PIXELS_SHA256.txt")).stream()
                .filter(l -> l.contains("kodim23")).findFirst().orElseThrow();
        RgbImage img = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim23.png")));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(img.samples()));
        assertTrue(line.contains(sha), "pixel hash " + sha + " not in " + line);
        assertEquals(768, img.width());
    }

    @Test
    void refusesWhatIsNotEightBitRgbAndSaysWhat() throws Exception {
        Object[][] cases = {
                {new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY), "grey"},
                {new BufferedImage(4, 4, BufferedImage.TYPE_USHORT_GRAY), "16-bit grey"},
                {new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB), "RGBA"},
                {new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_INDEXED), "palette"},
                {rgb16(4, 4), "16-bit RGB"},
        };
        for (Object[] c : cases) {
            byte[] bytes = png((BufferedImage) c[0]);
            UnsupportedImageException e = assertThrows(UnsupportedImageException.class, () -> PngIo.read(bytes));
            assertTrue(e.getMessage().contains((String) c[1]), c[1] + " -> " + e.getMessage());
        }
    }

    @Test
    void refusesCorruptEmptyAndNonPngInput() throws Exception {
        byte[] good = PngIo.write(TestData.syntheticImage(16, 16, 2));
        assertTrue(assertThrows(UnsupportedImageException.class, () -> PngIo.read(new byte[0])).getMessage().contains("empty"));
        assertTrue(assertThrows(UnsupportedImageException.class, () -> PngIo.read("just text, no image".getBytes()))
                .getMessage().contains("not a PNG"));
        byte[] truncated = Arrays.copyOf(good, good.length / 2);
        assertThrows(UnsupportedImageException.class, () -> PngIo.read(truncated));
        byte[] damaged = good.clone();
        for (int i = 60; i < damaged.length - 20; i += 7) {
            damaged[i] ^= 0x5A;
        }
        assertThrows(UnsupportedImageException.class, () -> PngIo.read(damaged));
    }
}
