package io.llic.spark;

import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Classical lossless codecs measured on the same images: PNG (always; the file as given, timed by
 * re-encoding and decoding with the JDK), WebP lossless ({@code cwebp -lossless -z 9}) and JPEG XL
 * ({@code cjxl -d 0 -e 7}; {@code jxl9}: effort 9) through their command-line tools when installed. Every baseline output is
 * decoded again and compared with the source pixels.
 */
final class Baselines {
    static final List<String> KNOWN = List.of("png", "webp", "jxl", "jxl9");
    private static final long TOOL_TIMEOUT_SECONDS = 300;

    /** One codec's figures for one image. */
    record Measure(long bits, double encodeMillis, double decodeMillis, boolean lossless) {}

    private Baselines() {}

    /** Whether a codec can run here, or why not. Null means available. */
    static String unavailable(String codec) {
        return switch (codec) {
            case "png" -> null;
            case "webp" -> onPath("cwebp") && onPath("dwebp") ? null : "cwebp/dwebp not installed (Debian package webp)";
            case "jxl", "jxl9" -> onPath("cjxl") && onPath("djxl") ? null : "cjxl/djxl not installed (Debian package libjxl-tools)";
            default -> "unknown codec " + codec + " (known: " + KNOWN + ")";
        };
    }

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    static Measure measure(String codec, byte[] png, RgbImage image) throws IOException, InterruptedException {
        return switch (codec) {
            case "png" -> {
                long t0 = System.nanoTime();
                PngIo.write(image);
                long t1 = System.nanoTime();
                RgbImage back = PngIo.read(png);
                long t2 = System.nanoTime();
                yield new Measure(png.length * 8L, (t1 - t0) / 1e6, (t2 - t1) / 1e6, back.samePixels(image));
            }
            case "webp" -> viaTools(png, image, ".webp",
                    (in, out) -> List.of("cwebp", "-quiet", "-lossless", "-z", "9", in, "-o", out),
                    (in, out) -> List.of("dwebp", "-quiet", in, "-ppm", "-o", out));
            case "jxl", "jxl9" -> viaTools(png, image, ".jxl",
                    (in, out) -> List.of("cjxl", in, out, "-d", "0", "-e", codec.equals("jxl9") ? "9" : "7", "--quiet"),
                    (in, out) -> List.of("djxl", in, out, "--quiet"));
            default -> throw new IllegalArgumentException("unknown codec " + codec);
        };
    }

    private interface Command {
        List<String> of(String in, String out);
    }

    private static Measure viaTools(byte[] png, RgbImage image, String ext, Command encode, Command decode)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("llic-baseline");
        try {
            Path in = dir.resolve("in.png");
            Path coded = dir.resolve("coded" + ext);
            Path back = dir.resolve("back.ppm");
            Files.write(in, png);
            double enc = run(encode.of(in.toString(), coded.toString()));
            double dec = run(decode.of(coded.toString(), back.toString()));
            boolean lossless = readPpm(Files.readAllBytes(back)).samePixels(image);
            return new Measure(Files.size(coded) * 8L, enc, dec, lossless);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    /** Runs a tool and returns its wall time in milliseconds. */
    private static double run(List<String> command) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command.get(0) + " timed out");
        }
        if (p.exitValue() != 0) {
            throw new IOException(command.get(0) + " failed (" + p.exitValue() + "): "
                    + new String(output, StandardCharsets.UTF_8).strip());
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Reads a binary 8-bit PPM (P6). */
    static RgbImage readPpm(byte[] data) throws IOException {
        List<String> tokens = new ArrayList<>();
        int pos = 0;
        while (tokens.size() < 4) {
            while (pos < data.length && Character.isWhitespace(data[pos])) {
                pos++;
            }
            if (pos < data.length && data[pos] == '#') {
                while (pos < data.length && data[pos] != '\n') {
                    pos++;
                }
                continue;
            }
            int start = pos;
            while (pos < data.length && !Character.isWhitespace(data[pos])) {
                pos++;
            }
            if (start == pos) {
                throw new IOException("truncated PPM header");
            }
            tokens.add(new String(data, start, pos - start, StandardCharsets.US_ASCII));
        }
        pos++; // the single whitespace after maxval
        if (!tokens.get(0).equals("P6") || !tokens.get(3).equals("255")) {
            throw new IOException("not an 8-bit binary PPM");
        }
        int w = Integer.parseInt(tokens.get(1));
        int h = Integer.parseInt(tokens.get(2));
        byte[] samples = new byte[w * h * 3];
        if (data.length - pos < samples.length) {
            throw new IOException("truncated PPM data");
        }
        System.arraycopy(data, pos, samples, 0, samples.length);
        return new RgbImage(w, h, samples);
    }
}
