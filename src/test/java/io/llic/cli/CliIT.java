package io.llic.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The llic command as a user runs it: exit codes, messages, files written. */
class CliIT {
    @TempDir
    static Path dir;
    static Path model;
    static Path crop;
    static RgbImage cropImage;

    record Run(int status, String out, String err) {}

    static Run llic(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("model");
        Run r = llic("import-reference", TestData.referenceWeights().toString(), model.toString());
        assertEquals(0, r.status(), r.err());
        cropImage = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim23.png"))).crop(300, 200, 64, 48);
        crop = dir.resolve("crop.png");
        Files.write(crop, PngIo.write(cropImage));
    }

    @Test
    void encodeDecodeInfoRoundTrip() throws Exception {
        for (String schedule : new String[] {"wavefront", "diagonal", "sequential"}) {
            Path llic = dir.resolve("crop-" + schedule + ".llic");
            Path png = dir.resolve("crop-" + schedule + ".png");
            assertEquals(0, llic("encode", crop.toString(), llic.toString(), "--model", model.toString(), "--schedule",
                    schedule).status());
            Run d = llic("decode", llic.toString(), png.toString(), "--model", model.toString(), "--batch", "7");
            assertEquals(0, d.status(), d.err());
            assertTrue(PngIo.read(Files.readAllBytes(png)).samePixels(cropImage), schedule);
            // outputs get the permissions of any new file here (the umask), not a private temp file's
            Path plain = dir.resolve("plain-" + schedule);
            Files.write(plain, new byte[1]);
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(llic), "the .llic file");
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(png), "the decoded PNG");
            Run info = llic("info", llic.toString());
            assertEquals(0, info.status());
            JsonNode json = new ObjectMapper().readTree(info.out());
            assertEquals(64, json.get("width").asInt());
            assertEquals(schedule, json.get("schedule").asText());
            assertEquals("gumus2023-59k", json.get("modelId").asText());
            assertEquals(64, json.get("modelSha256").asText().length());
        }
    }

    /** Without --model the commands use models/default: the project's own model, committed in models/. */
    @Test
    void theDefaultModelIsTheProjectsOwn() throws Exception {
        Path llic = dir.resolve("default.llic");
        Run e = llic("encode", crop.toString(), llic.toString());
        assertEquals(0, e.status(), e.err());
        Path png = dir.resolve("default.png");
        Run d = llic("decode", llic.toString(), png.toString());
        assertEquals(0, d.status(), d.err());
        assertTrue(PngIo.read(Files.readAllBytes(png)).samePixels(cropImage));
        JsonNode info = new ObjectMapper().readTree(llic("info", llic.toString()).out());
        JsonNode manifest = new ObjectMapper().readTree(Path.of("models/default/manifest.json").toFile());
        assertEquals(manifest.get("id").asText(), info.get("modelId").asText());
        assertEquals(manifest.get("weightsSha256").asText(), info.get("modelSha256").asText());
        assertTrue(manifest.get("provenance").get("command").asText().startsWith("jobs/train-job "),
                "trained by our own train-job");
        assertEquals("learned", info.get("modeName").asText(), "the learned model beats PNG on this crop");
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, llic().status());
        assertEquals(2, llic("frobnicate").status());
        assertEquals(2, llic("encode", "only-one-arg").status());
        assertEquals(2, llic("encode", crop.toString(), "x.llic", "--bogus").status());
        assertEquals(2, llic("encode", crop.toString(), "x.llic", "--model", model.toString(), "--schedule", "zigzag")
                .status());
        assertEquals(2, llic("decode", "a", "b", "--batch", "0").status());
        assertEquals(0, llic("--help").status());
    }

    @Test
    void badInputsExitWithThreeAndNameTheFile() throws Exception {
        Path text = dir.resolve("notes.png");
        Files.writeString(text, "this is not an image");
        Path empty = dir.resolve("empty.png");
        Files.write(empty, new byte[0]);
        Path grey = dir.resolve("grey.png");
        ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY), "png", grey.toFile());
        for (Path p : new Path[] {text, empty, grey, dir.resolve("missing.png")}) {
            Run r = llic("encode", p.toString(), dir.resolve("o.llic").toString(), "--model", model.toString());
            assertEquals(3, r.status(), p + ": " + r.err());
            assertTrue(r.err().contains(p.getFileName().toString()), r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        }
        Run greyRun = llic("encode", grey.toString(), "o.llic", "--model", model.toString());
        assertTrue(greyRun.err().contains("grey"), greyRun.err());
    }

    @Test
    void wrongModelIsRefused() throws Exception {
        Path llic = dir.resolve("for-wrong-model.llic");
        assertEquals(0, llic("encode", crop.toString(), llic.toString(), "--model", model.toString()).status());
        Path other = dir.resolve("other-model");
        Files.createDirectories(other);
        io.llic.model.LoadedModel.write(other, "other", TestData.randomNet(1, 8), java.util.Map.of());
        Run r = llic("decode", llic.toString(), dir.resolve("x.png").toString(), "--model", other.toString());
        assertEquals(3, r.status());
        assertTrue(r.err().contains("gumus2023-59k") && r.err().contains("other"), r.err());
    }

    @Test
    void randomMutationsOfAFileAreAllRejectedWithinSeconds() throws Exception {
        Path good = dir.resolve("good.llic");
        assertEquals(0, llic("encode", crop.toString(), good.toString(), "--model", model.toString()).status());
        byte[] bytes = Files.readAllBytes(good);
        Random r = new Random(2024);
        Path bad = dir.resolve("bad.llic");
        Path out = dir.resolve("bad.png");
        for (int trial = 0; trial < 300; trial++) {
            byte[] m;
            switch (trial % 3) {
                case 0 -> m = Arrays.copyOf(bytes, r.nextInt(bytes.length));           // truncation
                case 1 -> {                                                               // bit flips
                    m = bytes.clone();
                    for (int k = 0, n = 1 + r.nextInt(3); k < n; k++) {
                        int at = r.nextInt(m.length);
                        m[at] ^= (byte) (1 << r.nextInt(8));
                    }
                }
                default -> {                                                              // garbage inserted
                    int at = r.nextInt(bytes.length);
                    byte[] junk = new byte[1 + r.nextInt(16)];
                    r.nextBytes(junk);
                    m = new byte[bytes.length + junk.length];
                    System.arraycopy(bytes, 0, m, 0, at);
                    System.arraycopy(junk, 0, m, at, junk.length);
                    System.arraycopy(bytes, at, m, at + junk.length, bytes.length - at);
                }
            }
            Files.write(bad, m);
            int t = trial;
            Run run = assertTimeoutPreemptively(Duration.ofSeconds(5),
                    () -> llic("decode", bad.toString(), out.toString(), "--model", model.toString()));
            assertEquals(3, run.status(), "trial " + t + ": " + run.err());
            assertTrue(run.err().contains("bad.llic"), run.err());
        }
        assertTrue(Files.notExists(out), "nothing written for bad input");
    }

    @Test
    void benchPrintsPerImageLinesAndASummary() throws Exception {
        Path set = dir.resolve("set");
        Files.createDirectories(set);
        Files.copy(crop, set.resolve("a.png"));
        Files.write(set.resolve("b.png"), PngIo.write(cropImage.crop(0, 0, 32, 32)));
        Run r = llic("bench", set.toString(), "--model", model.toString(), "--schedule", "diagonal");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(4, lines.length, r.out());
        assertTrue(lines[1].startsWith("a.png\t64\t48\t"), lines[1]);
        // each row names its model and schedule, so the blocks of a side-by-side run stay apart
        assertTrue(lines[0].endsWith("\tmodel\tschedule"), lines[0]);
        assertTrue(lines[1].endsWith("\t" + LoadedModel.load(model).id() + "\tdiagonal"), lines[1]);
        assertTrue(lines[3].startsWith("summary\timages=2\tpixels=" + (64 * 48 + 32 * 32)), lines[3]);
        assertTrue(lines[3].contains("schedule=diagonal"));
        // several models side by side: one block each, then their ratios
        Run two = llic("bench", set.toString(), "--model", model + "," + model, "--schedule", "wavefront", "--no-decode");
        assertEquals(0, two.status(), two.err());
        String[] rows = two.out().strip().split("\n");
        assertEquals(9, rows.length, two.out());
        assertTrue(rows[8].startsWith("ratio\t") && rows[8].contains("bpp=1.0000"), rows[8]);
    }

    /**
     * Noise expands under any model, so the file stores the PNG, and the summary counts it; with
     * --no-fallback the bench measures the model's own code (larger than the PNG).
     */
    @Test
    void benchCountsStoredImagesAndNoFallbackMeasuresTheModel() throws Exception {
        Path set = dir.resolve("noise");
        Files.createDirectories(set);
        java.util.Random r = new java.util.Random(7);
        byte[] samples = new byte[32 * 32 * 3];
        r.nextBytes(samples);
        Files.write(set.resolve("noise.png"), PngIo.write(new io.llic.image.RgbImage(32, 32, samples)));
        Run stored = llic("bench", set.toString(), "--model", model.toString(), "--schedule", "wavefront");
        assertEquals(0, stored.status(), stored.err());
        String summary = stored.out().strip().lines().filter(l -> l.startsWith("summary")).findFirst().orElseThrow();
        assertTrue(summary.contains("\tstored_png=1"), summary);
        Run learned = llic("bench", set.toString(), "--model", model.toString(), "--schedule", "wavefront", "--no-fallback");
        assertEquals(0, learned.status(), learned.err());
        String own = learned.out().strip().lines().filter(l -> l.startsWith("summary")).findFirst().orElseThrow();
        assertTrue(own.contains("\tstored_png=0"), own);
        double bpp = Double.parseDouble(own.replaceAll(".*\tbpp=([0-9.]+).*", "$1"));
        double png = Double.parseDouble(summary.replaceAll(".*\tbpp=([0-9.]+).*", "$1"));
        assertTrue(bpp > png, "the model's own code, larger than the stored PNG: " + own + " / " + summary);
    }

    /** The shell script itself, as documented in the README (built by mvn package before failsafe runs). */
    @Test
    void jobsScriptRunsTheCommand() throws Exception {
        Path llic = dir.resolve("script.llic");
        assertEquals(0, llic("encode", crop.toString(), llic.toString(), "--model", model.toString()).status());
        Process p = new ProcessBuilder("jobs/llic", "info", llic.toString()).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals("wavefront", new ObjectMapper().readTree(out).get("schedule").asText());
        Process bad = new ProcessBuilder("jobs/llic", "info", crop.toString()).start();
        String err = new String(bad.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(3, bad.waitFor(), err);
        assertTrue(err.contains("crop.png") && err.contains("not a .llic file"), err);
    }
}
