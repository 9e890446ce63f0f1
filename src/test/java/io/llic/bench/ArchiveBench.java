package io.llic.bench;

import io.llic.codec.Encoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.spark.ArchiveJob;
import io.llic.spark.CompressJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * The archive's costs, measured side by side in one process on {@code local[*]}:
 * <ol>
 *   <li>a no-op run (nothing new) over {@code --files} small files (default 10,000), after a first
 *       run archived them: listing, the archive's state, the plan and the run record;</li>
 *   <li>archive-job against compress-job on the same images (default: all of Kodak), taking turns,
 *       {@code --repeat} times each (default 2): the archive's overhead as a ratio of medians.</li>
 * </ol>
 * Usage: {@code java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt)
 * io.llic.bench.ArchiveBench [--files N] [--images DIR] [--repeat N] [--model DIR] [--work DIR]}
 */
public final class ArchiveBench {
    private ArchiveBench() {}

    public static void main(String[] args) throws Exception {
        int files = 10_000;
        int repeat = 2;
        Path images = Path.of("../shared/datasets/kodak");
        Path model = Path.of("models/default");
        Path work = Files.createTempDirectory("llic-archive-bench");
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--files" -> files = Integer.parseInt(args[i + 1]);
                case "--images" -> images = Path.of(args[i + 1]);
                case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
                case "--model" -> model = Path.of(args[i + 1]);
                case "--work" -> work = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        SparkSession spark = SparkSession.builder().master("local[*]").appName("llic archive bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            noOp(spark, model, work.resolve("small"), files);
            overhead(spark, model, images, work.resolve("overhead"), repeat);
        } finally {
            spark.stop();
        }
    }

    static ArchiveJob.Config archive(Path source, Path archive, Path model, String runId) {
        return new ArchiveJob.Config(source.toString(), archive.toString(), model, null, runId, "*.{png,PNG}", 0, 30,
                Encoder.MODEL_TILE, 10, false);
    }

    /** Median seconds of no-op runs over {@code n} small files archived by a first run. */
    static void noOp(SparkSession spark, Path model, Path dir, int n) throws Exception {
        Path source = dir.resolve("source");
        Files.createDirectories(source);
        RgbImage base = PngIo.read(Files.readAllBytes(Path.of("../shared/datasets/kodak/kodim01.png")));
        for (int i = 0; i < n; i++) {
            Path f = source.resolve(String.format(Locale.ROOT, "d%02d/%05d.png", i % 100, i));
            Files.createDirectories(f.getParent());
            Files.write(f, PngIo.write(base.crop((i * 13) % 500, (i * 7) % 760, 8, 8)));
        }
        Path archive = dir.resolve("archive");
        long t0 = System.nanoTime();
        ArchiveJob.Result first = ArchiveJob.run(spark, archive(source, archive, model, "first"));
        double firstSeconds = (System.nanoTime() - t0) / 1e9;
        double[] seconds = new double[3];
        for (int i = 0; i < seconds.length; i++) {
            long t = System.nanoTime();
            ArchiveJob.Result r = ArchiveJob.run(spark, archive(source, archive, model, "noop-" + i));
            seconds[i] = (System.nanoTime() - t) / 1e9;
            if (r.added() + r.changed() + r.deleted() != 0) {
                throw new IllegalStateException("a no-op run changed the archive: " + r);
            }
        }
        System.out.printf(Locale.ROOT, "archive-bench: first run over %d files of 8x8: %.1f s (%d new)%n", n, firstSeconds,
                first.added());
        System.out.printf(Locale.ROOT, "archive-bench: no-op run over %d files: median %.2f s of %s%n", n, median(seconds),
                Arrays.toString(seconds));
    }

    /** archive-job against compress-job on the same images, taking turns; medians and their ratio. */
    static void overhead(SparkSession spark, Path model, Path images, Path dir, int repeat) throws Exception {
        List<Double> compress = new ArrayList<>();
        List<Double> archive = new ArrayList<>();
        long pixels = 0;
        for (int i = 0; i < repeat; i++) {
            long t = System.nanoTime();
            CompressJob.Result c = CompressJob.run(spark, new CompressJob.Config(images.toString(),
                    dir.resolve("compress-" + i).toString(), model, null, "bench", true, 0, "*.{png,PNG}", 30,
                    Encoder.MODEL_TILE));
            compress.add((System.nanoTime() - t) / 1e9);
            pixels = c.pixels();
            t = System.nanoTime();
            ArchiveJob.Result a = ArchiveJob.run(spark, archive(images, dir.resolve("archive-" + i), model, "bench"));
            archive.add((System.nanoTime() - t) / 1e9);
            if (a.pixels() != c.pixels() || a.bits() != c.bits()) {
                throw new IllegalStateException("the two jobs coded different things: " + a + " vs " + c);
            }
        }
        double mc = median(compress.stream().mapToDouble(Double::doubleValue).toArray());
        double ma = median(archive.stream().mapToDouble(Double::doubleValue).toArray());
        System.out.printf(Locale.ROOT, "archive-bench: %s, %.1f MP: compress-job median %.1f s (%.3f MP/s) %s;"
                        + " archive-job median %.1f s (%.3f MP/s) %s; archive / compress = %.3f%n", images, pixels / 1e6,
                mc, pixels / 1e6 / mc, compress, ma, pixels / 1e6 / ma, archive, ma / mc);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
