package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.llic.TestData;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.model.causal.CausalPlan;
import io.llic.model.ModelException;
import io.llic.runtime.DjlEvaluator;
import io.llic.runtime.JavaEvaluator;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;
import io.llic.schedule.Schedules;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodecTest {
    @TempDir
    static Path dir;
    static LoadedModel model;
    static final RgbImage IMAGE = TestData.syntheticImage(23, 17, 4);

    @BeforeAll
    static void setUp() throws IOException {
        model = TestData.randomModel(dir.resolve("m"), 21);
    }

    @Test
    void everyScheduleRoundTripsForAnyBatchEngineAndThreadCount() throws Exception {
        for (String name : Schedules.names()) {
            RoundTrips.everywhere(model, IMAGE, Schedules.byName(name));
        }
    }

    /** The encoder's large one-pass batches give exactly the parameters of one-step-at-a-time evaluation. */
    @Test
    void onePassParametersEqualStepByStepParameters() throws Exception {
        for (String name : Schedules.names()) {
            List<long[]> intervals = new ArrayList<>();
            for (int lookahead : new int[] {0, 50, 1 << 20}) {
                RgbImage work = new RgbImage(IMAGE.width(), IMAGE.height(), IMAGE.samples().clone());
                List<Integer> seen = new ArrayList<>();
                try (NetworkEvaluator ev = new JavaEvaluator(model.net(), 1)) {
                    CausalPlan plan = new CausalPlan(Schedules.byName(name), work, null, false);
                    new StepLoop(plan, List.of(ev), 13, lookahead).run((stream, cdf, v) -> {
                        seen.add(cdf.start(v));
                        seen.add(cdf.freq(v));
                        return v;
                    });
                }
                intervals.add(seen.stream().mapToLong(Integer::longValue).toArray());
            }
            assertArrayEquals(intervals.get(0), intervals.get(1), name);
            assertArrayEquals(intervals.get(0), intervals.get(2), name);
        }
    }

    @Test
    void diagonalCodesInItsOwnOrder() throws Exception {
        try (NetworkEvaluator java = new JavaEvaluator(model.net(), 1)) {
            byte[] wave = new Encoder(model, java, false).encode(IMAGE, Schedules.byName("wavefront"), null).file();
            byte[] seq = new Encoder(model, java, false).encode(IMAGE, Schedules.byName("sequential"), null).file();
            byte[] diag = new Encoder(model, java, false).encode(IMAGE, Schedules.byName("diagonal"), null).file();
            assertFalse(Arrays.equals(wave, diag));
            // sequential and wavefront code the same parameters, only in another order: same ideal length
            assertEquals(LlicFile.parse(wave).chunks().get(0).length, LlicFile.parse(seq).chunks().get(0).length, 16);
        }
    }

    @Test
    void wrongModelIsRefusedByName() throws Exception {
        LoadedModel other = TestData.randomModel(dir.resolve("other"), 22);
        try (NetworkEvaluator ev = new JavaEvaluator(model.net(), 1)) {
            byte[] file = new Encoder(model, ev, false).encode(IMAGE, Schedules.byName("wavefront"), null).file();
            ModelException e = assertThrows(ModelException.class, () -> new Decoder(other, ev, 100).decode(file));
            assertTrue(e.getMessage().contains(model.id()) && e.getMessage().contains(other.id()), e.getMessage());
        }
    }

    @Test
    void damagedPayloadsAreRejectedQuicklyEvenWithValidChecksums() throws Exception {
        byte[] file;
        try (NetworkEvaluator ev = new JavaEvaluator(model.net(), 1)) {
            file = new Encoder(model, ev, false).encode(IMAGE, Schedules.byName("wavefront"), null).file();
        }
        LlicFile parsed = LlicFile.parse(file);
        byte[] payload = parsed.chunks().get(0);
        int payloadStart = file.length - payload.length;
        Random r = new Random(9);
        try (NetworkEvaluator ev = new JavaEvaluator(model.net(), 1)) {
            Decoder decoder = new Decoder(model, ev, 1000);
            for (int trial = 0; trial < 200; trial++) {
                byte[] bad = file.clone();
                int flips = 1 + r.nextInt(4);
                for (int k = 0; k < flips; k++) {
                    int at = payloadStart + r.nextInt(payload.length);
                    bad[at] ^= (byte) (1 << r.nextInt(8));
                }
                // recompute the chunk CRC so the damage reaches the entropy decoder
                CRC32C crc = new CRC32C();
                crc.update(bad, payloadStart, payload.length);
                ByteBuffer.wrap(bad, payloadStart - 4, 4).putInt((int) crc.getValue());
                byte[] input = bad;
                assertTimeoutPreemptively(Duration.ofSeconds(10),
                        () -> assertThrows(IOException.class, () -> decoder.decode(input)), "trial " + trial);
            }
        }
    }

    @Test
    void storesThePngWhenTheModelWouldExpandTheImage() throws Exception {
        // a flat image: its PNG is tiny, while this random model spends bits on every sample
        RgbImage flat = new RgbImage(64, 64);
        Arrays.fill(flat.samples(), (byte) 250);
        byte[] png = PngIo.write(flat);
        byte[] file;
        try (NetworkEvaluator ev = new JavaEvaluator(model.net(), 1)) {
            file = new Encoder(model, ev).encode(flat, Schedules.byName("wavefront"), png).file();
        }
        assertEquals(LlicHeader.Mode.STORED_PNG, LlicFile.readHeader(file).mode());
        assertTrue(file.length <= png.length + 200, "never much bigger than the source PNG");
        assertTrue(Decoder.withoutModel().decode(file).image().samePixels(flat), "stored files need no model");
    }

    @Test
    void modelDirectoryRoundTripKeepsBitstreamsDecodable() throws Exception {
        LoadedModel again = LoadedModel.load(model.directory());
        try (NetworkEvaluator ev = new JavaEvaluator(again.net(), 1)) {
            byte[] file = new Encoder(model, ev, false).encode(IMAGE, Schedules.byName("wavefront"), null).file();
            assertTrue(new Decoder(again, ev, 64).decode(file).image().samePixels(IMAGE));
        }
        assertEquals(Map.of("source", "TestData.randomNet"), again.manifest().provenance());
    }
}
