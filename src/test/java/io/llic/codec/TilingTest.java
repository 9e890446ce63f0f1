package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.format.FormatException;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tiles (issue 10, bounded memory): an image larger than the tile side is coded as independent tiles
 * in raster order, each with its own streams; images that fit in one tile keep their bitstreams.
 */
class TilingTest {
    @TempDir
    static Path dir;
    static LoadedModel causal;
    static LoadedModel interp;
    static RgbImage crop;

    @BeforeAll
    static void setUp() throws IOException {
        causal = LoadedModel.load(Path.of("models/causal-4"));
        interp = TestData.randomInterpModel(dir.resolve("interp"), 5);
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim05.png")));
        crop = kodim.crop(200, 300, 150, 100); // 3 x 2 tiles of 64, the last column and row narrower
    }

    @Test
    void tiledFilesRoundTripEverywhereAndHoldOneSetOfStreamsPerTile() throws Exception {
        for (Object[] c : new Object[][] {{causal, "wavefront"}, {interp, "checkerboard"}}) {
            LoadedModel model = (LoadedModel) c[0];
            String schedule = (String) c[1];
            byte[] tiled = RoundTrips.everywhere(model, crop, schedule, 64);
            LlicFile parsed = LlicFile.parse(tiled);
            assertEquals(64, parsed.header().tileSize());
            int streams = model.family().streams(schedule);
            assertEquals(6 * streams, parsed.chunks().size(), schedule + ": 6 tiles");
            // the tiles are independent images: the last tile alone, coded untiled, has the same streams
            List<NetworkEvaluator> ev = RoundTrips.evaluators(model, false, 1);
            try {
                byte[] last = new Encoder(model, ev, false).tiled(0).encode(crop.crop(64, 128, 22, 36), schedule, null).file();
                List<byte[]> lastChunks = LlicFile.parse(last).chunks();
                for (int s = 0; s < streams; s++) {
                    assertArrayEquals(lastChunks.get(s), parsed.chunks().get(5 * streams + s), schedule + " stream " + s);
                }
                byte[] untiled = new Encoder(model, ev, false).tiled(0).encode(crop, schedule, null).file();
                assertEquals(0, LlicFile.readHeader(untiled).tileSize());
                assertFalse(java.util.Arrays.equals(untiled, tiled));
            } finally {
                RoundTrips.close(ev);
            }
        }
    }

    /**
     * Tiles coded on three threads (DJL and Java evaluator sets) give the file of one thread, and
     * decode on three threads to the image; a damaged tile stops a parallel decode with the error of
     * one thread, never a hang.
     */
    @Test
    void tilesCodedInParallelGiveTheSameFile() throws Exception {
        for (Object[] c : new Object[][] {{causal, "wavefront"}, {interp, "checkerboard"}}) {
            LoadedModel model = (LoadedModel) c[0];
            String schedule = (String) c[1];
            List<NetworkEvaluator> one = RoundTrips.evaluators(model, false, 1);
            List<List<NetworkEvaluator>> more = List.of(RoundTrips.evaluators(model, true, 1), RoundTrips.evaluators(model, false, 1));
            try {
                byte[] serial = new Encoder(model, one, false).tiled(64).encode(crop, schedule, null).file();
                Encoder.Result parallel = new Encoder(model, one, false).tiled(64).parallelTiles(more).encode(crop, schedule, null);
                assertArrayEquals(serial, parallel.file(), schedule);
                Decoder decoder = new Decoder(model, one, 1000).parallelTiles(more);
                assertTrue(decoder.decode(parallel.file()).image().samePixels(crop), schedule);
                LlicFile parsed = LlicFile.parse(serial);
                List<byte[]> damaged = new ArrayList<>(parsed.chunks());
                byte[] last = damaged.get(damaged.size() - 1).clone();
                for (int i = 0; i < last.length; i += 2) {
                    last[i] ^= 0x5A;
                }
                damaged.set(damaged.size() - 1, last);
                byte[] bad = new LlicFile(parsed.header(), damaged).toBytes();
                org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                        () -> assertThrows(IOException.class, () -> decoder.decode(bad)), schedule);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> new Encoder(model, one, false).parallelTiles(List.of(List.of())));
                assertTrue(e.getMessage().contains("evaluators"), e.getMessage());
            } finally {
                RoundTrips.close(one);
                more.forEach(RoundTrips::close);
            }
        }
    }

    @Test
    void imagesThatFitInOneTileAreNotTiled() throws Exception {
        List<NetworkEvaluator> ev = RoundTrips.evaluators(causal, false, 1);
        try {
            byte[] byDefault = new Encoder(causal, ev, false).encode(crop, "wavefront", null).file();
            byte[] exactFit = new Encoder(causal, ev, false).tiled(150).encode(crop, "wavefront", null).file();
            byte[] never = new Encoder(causal, ev, false).tiled(0).encode(crop, "wavefront", null).file();
            assertArrayEquals(never, byDefault);
            assertArrayEquals(never, exactFit);
            assertEquals(0, LlicFile.readHeader(byDefault).tileSize());
            // and the committed fixture of llic-causal-4 is still what the encoder writes today
            byte[] fixture = Files.readAllBytes(Path.of("src/test/resources/fixtures/llic-causal-4-wavefront.llic"));
            byte[] today = new Encoder(causal, ev, false).encode(TestData.syntheticImage(48, 32, 5), "wavefront", null).file();
            assertArrayEquals(fixture, today);
        } finally {
            RoundTrips.close(ev);
        }
    }

    @Test
    void aWrongTileSizeOrMovedTilesAreCaughtNeverDecodedWrong() throws Exception {
        List<NetworkEvaluator> ev = RoundTrips.evaluators(causal, false, 1);
        try {
            byte[] tiled = new Encoder(causal, ev, false).tiled(64).encode(crop, "wavefront", null).file();
            LlicFile parsed = LlicFile.parse(tiled);
            LlicHeader h = parsed.header();
            Decoder decoder = new Decoder(causal, ev, 1000);
            for (int size : new int[] {128, 100, 1, 65}) {
                byte[] relabelled = new LlicFile(withTile(h, size), parsed.chunks()).toBytes();
                Exception e = assertThrows(IOException.class, () -> decoder.decode(relabelled), "tile " + size);
                assertTrue(e.getMessage().contains("corrupt") || e.getMessage().contains("checksum"), e.getMessage());
            }
            List<byte[]> swapped = new ArrayList<>(parsed.chunks());
            swapped.set(0, parsed.chunks().get(1));
            swapped.set(1, parsed.chunks().get(0));
            byte[] moved = new LlicFile(h, swapped).toBytes();
            assertThrows(IOException.class, () -> decoder.decode(moved));
            byte[] negative = new LlicFile(withTile(h, -64), parsed.chunks()).toBytes();
            FormatException e = assertThrows(FormatException.class, () -> LlicFile.parse(negative));
            assertTrue(e.getMessage().contains("tileSize"), e.getMessage());
            assertTrue(decoder.decode(tiled).image().samePixels(crop));
        } finally {
            RoundTrips.close(ev);
        }
    }

    @Test
    void tilesTooSmallForTheContainerAreRefusedBeforeCoding() throws Exception {
        List<NetworkEvaluator> ev = RoundTrips.evaluators(interp, false, 1);
        try {
            RgbImage big = new RgbImage(64 * 30, 64 * 28); // 840 tiles x 5 streams > 4096 chunks
            Encoder encoder = new Encoder(interp, ev, false).tiled(64);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> encoder.encode(big, "interp", null));
            assertTrue(e.getMessage().contains("choose larger tiles"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new Encoder(interp, ev, false).tiled(63));
        } finally {
            RoundTrips.close(ev);
        }
    }

    private static LlicHeader withTile(LlicHeader h, int tile) {
        return new LlicHeader(h.width(), h.height(), h.channels(), h.bitDepth(), h.colourTransform(), h.mode(), h.modelId(),
                h.modelSha256(), h.schedule(), tile, h.pixelSha256());
    }
}
