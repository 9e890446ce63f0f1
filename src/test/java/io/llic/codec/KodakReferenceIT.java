package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.causal.CausalModel;
import io.llic.model.LoadedModel;
import io.llic.runtime.DjlEvaluator;
import io.llic.runtime.JavaEvaluator;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;
import io.llic.schedule.Schedules;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The published 59K weights (imported from ../shared/reference) on the 24 Kodak images: exact round
 * trips with every schedule and the published rate.
 */
class KodakReferenceIT {
    static final double PUBLISHED_TOTAL_BPP = 8.6277;
    @TempDir
    static Path dir;
    static LoadedModel model;
    static List<Path> images;
    static Map<String, String> pixelSha = new HashMap<>();
    static NetworkEvaluator djl;

    @BeforeAll
    static void setUp() throws IOException {
        model = TestData.referenceModel(dir.resolve("ref"));
        try (Stream<Path> s = Files.list(TestData.kodak())) {
            images = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        assertEquals(24, images.size());
        for (String line : Files.readAllLines(TestData.kodak().resolve("PIXELS_SHA256.txt"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2) {
                pixelSha.put(f[f.length - 1].replace("*", ""), f[0]); // "<sha256> <WxH> <name>"
            }
        }
        djl = new DjlEvaluator(model.net(), Device.cpu(), 0);
    }

    @AfterAll
    static void tearDown() {
        djl.close();
    }

    /** Encodes and decodes every Kodak image; returns total file bits, total predicted bits, total payload bits. */
    private double[] roundTripAll(Schedule schedule) throws IOException {
        double fileBits = 0;
        double predicted = 0;
        double payload = 0;
        long pixels = 0;
        for (Path p : images) {
            byte[] png = Files.readAllBytes(p);
            RgbImage image = PngIo.read(png);
            Encoder.Result r = new Encoder(model, djl).encode(image, schedule, png);
            RgbImage back = new Decoder(model, djl, Integer.MAX_VALUE).decode(r.file()).image();
            assertTrue(back.samePixels(image), p.getFileName() + " " + schedule.name());
            assertEquals(pixelSha.get(p.getFileName().toString()), HexFormat.of().formatHex(back.sha256()),
                    p.getFileName() + ": decoded pixels differ from PIXELS_SHA256.txt");
            fileBits += r.stats().fileBits();
            predicted += r.stats().predictedBits();
            payload += r.stats().payloadBits();
            pixels += image.pixelCount();
            System.out.printf("%s %s bpp=%.4f%n", schedule.name(), p.getFileName(), r.bitsPerPixel());
        }
        return new double[] {fileBits / pixels, predicted / pixels, payload / pixels};
    }

    @Test
    void wavefrontRoundTripsEveryImageAtThePublishedRate() throws IOException {
        double[] bpp = roundTripAll(Schedules.byName("wavefront"));
        System.out.printf("kodak wavefront: bpp=%.4f predicted=%.4f payload=%.4f (published %.4f)%n", bpp[0], bpp[1],
                bpp[2], PUBLISHED_TOTAL_BPP);
        assertTrue(Math.abs(bpp[0] / PUBLISHED_TOTAL_BPP - 1) < 0.005, "total bpp " + bpp[0] + " not within 0.5%");
        assertTrue(bpp[2] / bpp[1] - 1 < 0.001, "coder overhead above 0.1%");
    }

    @Test
    void diagonalRoundTripsEveryImage() throws IOException {
        double[] bpp = roundTripAll(Schedules.byName("diagonal"));
        System.out.printf("kodak diagonal: bpp=%.4f predicted=%.4f (published wavefront %.4f)%n", bpp[0], bpp[1],
                PUBLISHED_TOTAL_BPP);
        assertTrue(bpp[0] > 7 && bpp[0] < 10, "diagonal bpp " + bpp[0] + " implausible");
    }

    @Test
    void sequentialRoundTripsACropOfEveryImage() throws IOException {
        Schedule sequential = Schedules.byName("sequential");
        for (Path p : images) {
            RgbImage crop = PngIo.read(Files.readAllBytes(p)).crop(200, 300, 40, 32);
            byte[] file = new Encoder(model, djl, false).encode(crop, sequential, null).file();
            assertTrue(new Decoder(model, djl, 1).decode(file).image().samePixels(crop), p.getFileName().toString());
        }
    }

    @Test
    void djlAndJavaGiveIdenticalIntegersOnARealImage() throws IOException {
        RgbImage image = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim05.png")));
        int n = image.width() * 48;
        int[] pixels = new int[n];
        for (int i = 0; i < n; i++) {
            pixels[i] = i + image.width() * 200;
        }
        long[] inputs = new long[n * CausalModel.INPUTS];
        CausalModel.contexts(image, Schedules.byName("wavefront"), pixels, 0, n, inputs, 0);
        long[] a = new long[n * CausalModel.OUTPUTS];
        long[] b = new long[n * CausalModel.OUTPUTS];
        djl.evaluate(inputs, n, a);
        try (JavaEvaluator java = new JavaEvaluator(model.net(), 2)) {
            java.evaluate(inputs, n, b);
        }
        assertArrayEquals(b, a);
    }

    @Test
    void anyBatchSizeAndThreadCountDecodesTheSamePixels() throws IOException {
        RgbImage crop = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim05.png"))).crop(100, 100, 96, 64);
        for (String name : Schedules.names()) {
            byte[] file = new Encoder(model, djl, false).encode(crop, Schedules.byName(name), null).file();
            for (int threads : new int[] {1, 2}) {
                try (NetworkEvaluator ev = new DjlEvaluator(model.net(), Device.cpu(), threads)) {
                    for (int batch : new int[] {1, 7, 100_000}) {
                        assertTrue(new Decoder(model, ev, batch).decode(file).image().samePixels(crop),
                                name + " threads " + threads + " batch " + batch);
                    }
                }
            }
        }
    }
}
