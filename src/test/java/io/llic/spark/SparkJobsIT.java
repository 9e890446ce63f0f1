package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compress-job and decode-job called through run() on a real local[2] session. */
class SparkJobsIT {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path model;
    static Path input;
    static Map<String, RgbImage> good = new HashMap<>();

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("model");
        TestData.referenceModel(model);
        input = dir.resolve("in");
        Files.createDirectories(input.resolve("sub"));
        // real Kodak content, cropped small so the test is quick; one in a subfolder
        String[][] crops = {{"kodim03.png", "a.png"}, {"kodim07.png", "b.png"}, {"kodim19.png", "sub/c.png"}};
        for (String[] c : crops) {
            RgbImage img = PngIo.read(Files.readAllBytes(TestData.kodak().resolve(c[0]))).crop(120, 200, 48 + c[1].length(), 40);
            Files.write(input.resolve(c[1]), PngIo.write(img));
            good.put(c[1], img);
        }
        // bad inputs: corrupt PNG, text named .png, empty file, grey, alpha, 16-bit
        byte[] png = Files.readAllBytes(input.resolve("a.png"));
        byte[] corrupt = png.clone();
        for (int i = 50; i < corrupt.length; i += 3) {
            corrupt[i] ^= 0x33;
        }
        Files.write(input.resolve("corrupt.png"), corrupt);
        Files.writeString(input.resolve("notes.png"), "not an image at all");
        Files.write(input.resolve("empty.png"), new byte[0]);
        ImageIO.write(new BufferedImage(9, 9, BufferedImage.TYPE_BYTE_GRAY), "png", input.resolve("grey.png").toFile());
        ImageIO.write(new BufferedImage(9, 9, BufferedImage.TYPE_INT_ARGB), "png", input.resolve("alpha.png").toFile());
        ImageIO.write(new BufferedImage(9, 9, BufferedImage.TYPE_USHORT_GRAY), "png", input.resolve("grey16.png").toFile());
        spark = LocalSpark.builder("llic-test").getOrCreate();
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static CompressJob.Config config(Path out, String runId) {
        return new CompressJob.Config(input.toString(), out.toString(), model, "wavefront", runId, true, 0,
                InputListing.DEFAULT_GLOB, 1, io.llic.codec.Encoder.MODEL_TILE);
    }

    @Test
    void badInputsGetErrorRowsAndGoodOnesAreCodedAndDecodeExactly() throws Exception {
        Path out = dir.resolve("out1");
        CompressJob.Result r = CompressJob.run(spark, config(out, "r1"));
        assertEquals(9, r.listed());
        assertEquals(3, r.coded());
        assertEquals(6, r.failed());
        Path run = out.resolve("r1");
        List<Row> rows = spark.read().parquet(run.resolve("bitstreams").toString()).collectAsList();
        assertEquals(Set.of("a.png", "b.png", "sub/c.png"),
                rows.stream().map(x -> x.<String>getAs("image_id")).collect(Collectors.toSet()));
        for (Row row : rows) {
            assertTrue(row.<Double>getAs("bits_per_pixel") > 3 && row.<Double>getAs("bits_per_pixel") < 20);
            assertEquals("cpu", row.<String>getAs("device"));
        }
        Map<String, String> errors = spark.read().parquet(run.resolve("errors").toString()).collectAsList().stream()
                .collect(Collectors.toMap(x -> x.<String>getAs("image_id"), x -> x.<String>getAs("message")));
        assertEquals(Set.of("corrupt.png", "notes.png", "empty.png", "grey.png", "alpha.png", "grey16.png"), errors.keySet());
        assertTrue(errors.get("notes.png").contains("not a PNG"), errors.get("notes.png"));
        assertTrue(errors.get("empty.png").contains("empty"), errors.get("empty.png"));
        assertTrue(errors.get("grey.png").contains("grey"), errors.get("grey.png"));
        assertTrue(errors.get("alpha.png").contains("alpha"), errors.get("alpha.png"));
        assertTrue(errors.get("grey16.png").contains("16-bit"), errors.get("grey16.png"));
        String manifest = Files.readString(run.resolve("manifest.json"));
        assertTrue(manifest.contains("\"coded\" : 3") && manifest.contains("\"failed\" : 6"), manifest);

        Path decoded = dir.resolve("decoded");
        DecodeJob.Result d = DecodeJob.run(spark, new DecodeJob.Config(run.resolve("bitstreams").toString(),
                decoded.toString(), model, 1));
        assertEquals(3, d.decoded());
        assertEquals(0, d.failed());
        for (Map.Entry<String, RgbImage> e : good.entrySet()) {
            assertTrue(PngIo.read(Files.readAllBytes(decoded.resolve(e.getKey()))).samePixels(e.getValue()), e.getKey());
        }
    }

    /** eval-job over the same inputs: a row per codec for each good image, one input-error row for each bad one, the empty file included. */
    @Test
    void evalJobAccountsForEveryListedImage() throws Exception {
        Path out = dir.resolve("eval");
        EvalJob.run(spark, new EvalJob.Config(input.toString(), out.toString(), List.of(model), "wavefront", List.of("png"),
                InputListing.DEFAULT_GLOB, 2, 1));
        List<Row> rows = spark.read().parquet(out.resolve("per_image").toString()).collectAsList();
        Map<String, List<String>> codecs = rows.stream().collect(Collectors.groupingBy(x -> x.<String>getAs("image_id"),
                java.util.TreeMap::new, Collectors.mapping(x -> x.<String>getAs("codec"), Collectors.toList())));
        assertEquals(9, codecs.size(), codecs.toString());
        for (String id : List.of("a.png", "b.png", "sub/c.png")) {
            assertEquals(2, codecs.get(id).size(), id + ": " + codecs.get(id));
        }
        Map<String, String> inputErrors = rows.stream().filter(x -> EvalJob.INPUT_ERROR.equals(x.<String>getAs("codec")))
                .collect(Collectors.toMap(x -> x.<String>getAs("image_id"), x -> x.<String>getAs("error")));
        assertEquals(Set.of("corrupt.png", "notes.png", "empty.png", "grey.png", "alpha.png", "grey16.png"), inputErrors.keySet());
        assertTrue(inputErrors.get("empty.png").contains("empty"), inputErrors.get("empty.png"));
        for (Row row : rows) {
            if (!EvalJob.INPUT_ERROR.equals(row.<String>getAs("codec"))) {
                assertTrue(row.<Boolean>getAs("lossless"), row.toString());
            }
        }
    }

    @Test
    void aFileGoneBetweenListingAndReadingIsReportedWithItsOwnExceptionClass() throws Exception {
        Path gone = dir.resolve("gone.png");
        List<InputListing.Item> items = List.of(new InputListing.Item(gone.toUri().toString(), "gone.png", 100, 1, 0),
                new InputListing.Item(input.resolve("a.png").toUri().toString(), "a.png",
                        Files.size(input.resolve("a.png")), 1, 0));
        List<Row> rows = InputListing.read(spark, items, 1, null).collect();
        Row failed = rows.stream().filter(r -> r.getString(3).equals("gone.png")).findFirst().orElseThrow();
        org.junit.jupiter.api.Assertions.assertNull(failed.get(2));
        InputListing.ReadFailure f = InputListing.readFailure(failed);
        assertEquals("FileNotFoundException", InputListing.errorClass(f), "not a generic IOException");
        assertTrue(f.getMessage().contains("gone.png"), f.getMessage());
        Row read = rows.stream().filter(r -> r.getString(3).equals("a.png")).findFirst().orElseThrow();
        assertArrayEquals(Files.readAllBytes(input.resolve("a.png")), (byte[]) read.get(2));
        org.junit.jupiter.api.Assertions.assertNull(read.get(5));
    }

    @Test
    void rerunningSkipsFinishedImagesAndRecodingIsByteIdentical() throws Exception {
        Path out = dir.resolve("out2");
        CompressJob.Result first = CompressJob.run(spark, config(out, null));
        CompressJob.Result again = CompressJob.run(spark, config(out, null));
        assertEquals(first.runDir(), again.runDir(), "the default run id is stable");
        assertEquals(3, again.skipped());
        assertEquals(0, again.coded());
        assertEquals(3, spark.read().parquet(first.runDir() + "/bitstreams").count(), "nothing coded twice");
        // a fresh run (as a retried task would) writes byte-identical bitstreams
        CompressJob.Result other = CompressJob.run(spark, config(out, "other"));
        Map<String, byte[]> a = bitstreams(first.runDir());
        Map<String, byte[]> b = bitstreams(other.runDir());
        assertEquals(a.keySet(), b.keySet());
        for (String id : a.keySet()) {
            assertArrayEquals(a.get(id), b.get(id), id);
        }
    }

    /** A re-run after a partial run opens only the images it has not coded: counted as bytes read by the tasks. */
    @Test
    void aRerunAfterAPartialRunReadsOnlyTheMissingImages() throws Exception {
        Path in = dir.resolve("partial-in");
        Files.createDirectories(in);
        Files.copy(input.resolve("a.png"), in.resolve("a.png"));
        Files.copy(input.resolve("b.png"), in.resolve("b.png"));
        Path out = dir.resolve("partial-out");
        CompressJob.Config c = new CompressJob.Config(in.toString(), out.toString(), model, "wavefront", "r", true, 0,
                InputListing.DEFAULT_GLOB, 1, io.llic.codec.Encoder.MODEL_TILE);
        CompressJob.Result first = CompressJob.run(spark, c);
        assertEquals(2, first.coded());
        assertEquals(Files.size(in.resolve("a.png")) + Files.size(in.resolve("b.png")), inputBytesRead(out));
        Files.copy(input.resolve("sub/c.png"), in.resolve("c.png"));
        CompressJob.Result second = CompressJob.run(spark, c);
        assertEquals(2, second.skipped());
        assertEquals(1, second.coded());
        assertEquals(Files.size(in.resolve("c.png")), inputBytesRead(out), "only the new image is read");
        assertEquals(3, spark.read().parquet(first.runDir() + "/bitstreams").count());
    }

    private static long inputBytesRead(Path out) throws java.io.IOException {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("r/manifest.json").toFile())
                .at("/counts/inputBytesRead").asLong(-1);
    }

    private static Map<String, byte[]> bitstreams(String runDir) {
        return spark.read().parquet(runDir + "/bitstreams").collectAsList().stream()
                .collect(Collectors.toMap(x -> x.<String>getAs("image_id"), x -> (byte[]) x.getAs("bitstream")));
    }

    @Test
    void partitionsAreBalancedByPixels() {
        List<InputListing.Item> items = List.of(
                new InputListing.Item("p1", "1", 0, 1000, 0), new InputListing.Item("p2", "2", 0, 900, 0),
                new InputListing.Item("p3", "3", 0, 600, 0), new InputListing.Item("p4", "4", 0, 500, 0),
                new InputListing.Item("p5", "5", 0, 400, 0), new InputListing.Item("p6", "6", 0, 0, 0));
        long[] loads = InputListing.loads(InputListing.balance(items, 2), 2);
        assertEquals(3400, loads[0] + loads[1]);
        // largest-first greedy is within 4/3 of the best possible split (1700 each here)
        assertTrue(Math.max(loads[0], loads[1]) <= 1700 * 4 / 3, loads[0] + " vs " + loads[1]);
        List<InputListing.Item> kodakLike = new java.util.ArrayList<>();
        for (int i = 0; i < 24; i++) {
            kodakLike.add(new InputListing.Item("p" + i, "" + i, 0, 393216, 0));
        }
        for (long load : InputListing.loads(InputListing.balance(kodakLike, 4), 4)) {
            assertEquals(6 * 393216, load);
        }
    }
}
