package io.llic.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10, bounded memory: a 40-megapixel photo-like image compresses and decodes exactly through
 * {@code jobs/llic} with the default model in a 1 GB heap, in tiles of the default size. Costs a few
 * minutes of CPU: the default model codes every pixel.
 */
class LargeImageIT {
    @TempDir
    Path dir;

    @Test
    void fortyMegapixelsRoundTripInOneGigabyteOfHeap() throws Exception {
        RgbImage image = MemoryBench.synthetic(7746, 5164);
        assertTrue(image.pixelCount() >= 40_000_000L);
        Path png = dir.resolve("big.png");
        Files.write(png, PngIo.write(image));
        Path llic = dir.resolve("big.llic");
        Path back = dir.resolve("back.png");

        String encoded = llic("encode", png.toString(), llic.toString());
        assertTrue(encoded.contains("learned"), encoded);
        String info = llic("info", llic.toString());
        assertTrue(info.contains("\"tileSize\":2048") && info.contains("\"modeName\":\"learned\""), info);
        llic("decode", llic.toString(), back.toString());
        assertTrue(PngIo.read(Files.readAllBytes(back)).samePixels(image), "decoded pixels differ");
        assertTrue(Files.size(llic) < Files.size(png), "the learned file is smaller than the PNG");
    }

    /** Runs jobs/llic with a 1 GB heap; returns its stdout and stderr; fails on a non-zero exit. */
    private String llic(String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new java.util.ArrayList<>(List.of("jobs/llic")) {
            {
                addAll(List.of(args));
            }
        });
        pb.environment().put("LLIC_JAVA_OPTS", "-Xmx1g");
        File log = dir.resolve("llic-" + args[0] + ".log").toFile();
        pb.redirectErrorStream(true).redirectOutput(log);
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.MINUTES), "jobs/llic " + args[0] + " did not finish");
        String output = Files.readString(log.toPath(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "jobs/llic " + String.join(" ", args) + ":\n" + output);
        return output;
    }
}
