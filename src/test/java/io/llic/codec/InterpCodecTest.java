package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.format.LlicFile;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The interp family through the shared codec: both schedules, odd and tiny sizes, real images, damage. */
class InterpCodecTest {
    @TempDir
    static Path dir;
    static LoadedModel model;

    @BeforeAll
    static void setUp() throws IOException {
        model = TestData.randomInterpModel(dir.resolve("interp"), 31);
    }

    @Test
    void bothSchedulesRoundTripForAnyBatchEngineAndThreadCount() throws Exception {
        RgbImage image = TestData.syntheticImage(37, 21, 6);
        byte[] interp = RoundTrips.everywhere(model, image, "interp");
        byte[] checkerboard = RoundTrips.everywhere(model, image, "checkerboard");
        assertFalse(Arrays.equals(interp, checkerboard));
        assertEquals(5, LlicFile.parse(interp).chunks().size(), "one stream per level");
        assertEquals("checkerboard", LlicFile.readHeader(checkerboard).schedule());
    }

    @Test
    void tinyAndThinImagesRoundTrip() throws Exception {
        for (int[] wh : new int[][] {{1, 1}, {2, 3}, {33, 1}, {1, 40}, {65, 2}}) {
            RgbImage image = TestData.syntheticImage(wh[0], wh[1], 7);
            for (String schedule : List.of("interp", "checkerboard")) {
                List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
                try {
                    byte[] file = new Encoder(model, ev, false).encode(image, schedule, null).file();
                    assertTrue(new Decoder(model, ev, 5).decode(file).image().samePixels(image), wh[0] + "x" + wh[1]);
                } finally {
                    RoundTrips.close(ev);
                }
            }
        }
    }

    /** A Kodak crop with saturated colours and an odd size, both schedules. */
    @Test
    void aKodakCropRoundTrips() throws Exception {
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim23.png")));
        RgbImage crop = kodim.crop(101, 203, 67, 45);
        for (String schedule : List.of("interp", "checkerboard")) {
            RoundTrips.everywhere(model, crop, schedule);
        }
    }

    /**
     * With the adaptation stage (every part on), both schedules still round-trip on every engine,
     * thread count and batch size, and the stage changes the bits: it is really in the loop.
     */
    @Test
    void withTheAdaptationStageBothSchedulesRoundTripEverywhere() throws Exception {
        LoadedModel adaptive = model.withAdaptation(Adaptation.defaults(3600), "interp-adaptive");
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim05.png")));
        for (RgbImage image : List.of(TestData.syntheticImage(37, 21, 6), kodim.crop(40, 60, 71, 53))) {
            for (String schedule : List.of("interp", "checkerboard")) {
                byte[] with = RoundTrips.everywhere(adaptive, image, schedule);
                List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
                try {
                    byte[] without = new Encoder(model, ev, false).encode(image, schedule, null).file();
                    assertTrue(LlicFile.parse(with).chunks().get(4).length != LlicFile.parse(without).chunks().get(4).length
                            || !Arrays.equals(LlicFile.parse(with).chunks().get(4), LlicFile.parse(without).chunks().get(4)),
                            "the stage left the finest level's stream unchanged (" + schedule + ")");
                } finally {
                    RoundTrips.close(ev);
                }
            }
        }
    }

    @Test
    void causalSchedulesAreRefusedAndTheWrongModelIsNamed() throws Exception {
        RgbImage image = TestData.syntheticImage(16, 16, 8);
        List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Encoder(model, ev, false).encode(image, "wavefront", null));
            assertTrue(e.getMessage().contains("interp, checkerboard"), e.getMessage());
            byte[] file = new Encoder(model, ev, false).encode(image, "interp", null).file();
            LoadedModel other = TestData.randomInterpModel(dir.resolve("other"), 32);
            ModelException wrong = assertThrows(ModelException.class, () -> new Decoder(other, ev, 10).decode(file));
            assertTrue(wrong.getMessage().contains(model.id()), wrong.getMessage());
        } finally {
            RoundTrips.close(ev);
        }
    }

    /**
     * A file with more chunks than its schedule has streams is corrupt, and is refused before anything
     * the size field asks for is allocated (the chunks' slack cannot stretch the size guard); a weights
     * file with fewer networks than the family needs is refused by name.
     */
    @Test
    void extraChunksAndMissingNetworksAreRefused() throws Exception {
        RgbImage image = TestData.syntheticImage(20, 20, 11);
        List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
        try {
            byte[] file = new Encoder(model, ev, false).encode(image, "interp", null).file();
            LlicFile parsed = LlicFile.parse(file);
            List<byte[]> chunks = new java.util.ArrayList<>(parsed.chunks());
            for (int i = 0; i < 2000; i++) {
                chunks.add(new byte[0]);
            }
            byte[] padded = new LlicFile(parsed.header(), chunks).toBytes();
            io.llic.format.FormatException e = assertThrows(io.llic.format.FormatException.class,
                    () -> new Decoder(model, ev, 10).decode(padded));
            assertTrue(e.getMessage().contains("expected 5 payload chunk(s)"), e.getMessage());
        } finally {
            RoundTrips.close(ev);
        }
        LoadedModel.ModelBytes files = model.toFiles();
        byte[] oneNet = model.nets().get(0).toBytes();
        ModelException missing = assertThrows(ModelException.class,
                () -> LoadedModel.fromBytes(dir, files.manifest(), oneNet));
        assertTrue(missing.getMessage().contains("SHA-256") || missing.getMessage().contains("3 networks"), missing.getMessage());
        // with the manifest's hash removed, the count itself is what is refused
        String manifest = new String(files.manifest(), java.nio.charset.StandardCharsets.UTF_8)
                .replaceAll("\"weightsSha256\" : \"[0-9a-f]+\",", "");
        ModelException count = assertThrows(ModelException.class, () -> LoadedModel.fromBytes(dir,
                manifest.getBytes(java.nio.charset.StandardCharsets.UTF_8), oneNet));
        assertTrue(count.getMessage().contains("interp family has 3 networks, the weights file holds 1"), count.getMessage());
    }

    @Test
    void damagedStreamsAreRejectedQuicklyEvenWithValidChecksums() throws Exception {
        RgbImage image = TestData.syntheticImage(29, 19, 9);
        List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
        try {
            byte[] file = new Encoder(model, ev, false).encode(image, "checkerboard", null).file();
            List<byte[]> chunks = LlicFile.parse(file).chunks();
            Random r = new Random(10);
            Decoder decoder = new Decoder(model, ev, 1000);
            for (int trial = 0; trial < 60; trial++) {
                byte[] bad = file.clone();
                // damage one chunk, then give it a valid CRC so the damage reaches the entropy decoder
                int c = r.nextInt(chunks.size());
                int end = file.length;
                for (int k = chunks.size() - 1; k > c; k--) {
                    end -= chunks.get(k).length + 8;
                }
                int start = end - chunks.get(c).length;
                if (chunks.get(c).length == 0) {
                    continue;
                }
                bad[start + r.nextInt(chunks.get(c).length)] ^= (byte) (1 << r.nextInt(8));
                CRC32C crc = new CRC32C();
                crc.update(bad, start, end - start);
                ByteBuffer.wrap(bad, start - 4, 4).putInt((int) crc.getValue());
                byte[] input = bad;
                assertTimeoutPreemptively(Duration.ofSeconds(10),
                        () -> assertThrows(IOException.class, () -> decoder.decode(input)), "trial " + trial);
            }
        } finally {
            RoundTrips.close(ev);
        }
    }
}
