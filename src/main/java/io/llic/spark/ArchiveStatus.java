package io.llic.spark;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/** {@code archive-job --status}: the archive's totals, its runs and the space saved against the sources. */
final class ArchiveStatus {
    private static final int RUNS_SHOWN = 20;

    private ArchiveStatus() {}

    static String render(SparkSession spark, String archive) throws IOException {
        ArchiveTable table = new ArchiveTable(spark, archive);
        StringBuilder out = new StringBuilder();
        out.append("archive ").append(archive).append('\n');
        if (!table.exists()) {
            throw new IOException("no archive at " + archive + " (no Delta table " + table.path(ArchiveTable.IMAGES) + ")");
        }
        List<ArchiveTable.Commit> history = table.history();
        out.append(String.format(Locale.ROOT, "  images table: version %d, %d commits%n", history.get(0).version(),
                history.size()));
        Dataset<Row> all = spark.read().format("delta").load(table.path(ArchiveTable.IMAGES));
        Row versions = all.where(functions.col("event").equalTo(ArchiveTable.ARCHIVED)).agg(functions.count("*"),
                functions.sum(functions.length(functions.col("bitstream")))).first();
        Dataset<Row> current = table.snapshot(-1, false);
        Row now = current.agg(functions.count("*"), functions.sum("source_size_bytes"),
                functions.sum(functions.length(functions.col("bitstream"))),
                functions.sum(functions.col("width").cast("long").multiply(functions.col("height")))).first();
        long deleted = table.snapshot(-1, true).count() - now.getLong(0);
        long images = now.getLong(0);
        long sourceBytes = now.isNullAt(1) ? 0 : now.getLong(1);
        long streamBytes = now.isNullAt(2) ? 0 : now.getLong(2);
        long pixels = now.isNullAt(3) ? 0 : now.getLong(3);
        out.append(String.format(Locale.ROOT, "  images: %d in the archive now, %d deleted from the source (kept), %d content"
                + " versions in all%n", images, deleted, versions.getLong(0)));
        out.append(String.format(Locale.ROOT, "  current versions: sources %s, bitstreams %s: %.1f%% saved, %.4f bpp%n",
                mb(sourceBytes), mb(streamBytes), sourceBytes == 0 ? 0.0 : 100.0 * (1 - (double) streamBytes / sourceBytes),
                pixels == 0 ? Double.NaN : streamBytes * 8.0 / pixels));
        out.append(String.format(Locale.ROOT, "  all versions: bitstreams %s%n", mb(versions.isNullAt(1) ? 0 : versions.getLong(1))));
        String runs = table.path(ArchiveTable.RUNS);
        if (table.has(ArchiveTable.RUNS)) {
            Dataset<Row> r = spark.read().format("delta").load(runs);
            long count = r.count();
            out.append(String.format(Locale.ROOT, "  runs: %d (the last %d)%n", count, Math.min(count, RUNS_SHOWN)));
            out.append(String.format(Locale.ROOT, "    %-32s %-24s %7s %7s %7s %7s %8s %9s%n", "run", "committed", "new",
                    "changed", "deleted", "failed", "bpp", "seconds"));
            for (Row x : r.orderBy(functions.col("committed_at").desc()).limit(RUNS_SHOWN).select("run_id", "committed_at",
                    "new_images", "changed_images", "deleted_images", "failed", "bits_per_pixel", "wall_seconds").collectAsList()) {
                out.append(String.format(Locale.ROOT, "    %-32s %-24s %7d %7d %7d %7d %8s %9.1f%n", x.getString(0),
                        x.getTimestamp(1).toInstant(), x.getLong(2), x.getLong(3), x.getLong(4), x.getLong(5),
                        x.isNullAt(6) ? "-" : String.format(Locale.ROOT, "%.4f", x.getDouble(6)), x.getDouble(7)));
            }
        }
        FileSystem fs = table.fs();
        Path staging = new Path(archive, ArchiveJob.STAGING);
        if (fs.exists(staging)) {
            for (FileStatus s : fs.listStatus(staging)) {
                out.append("  staged, not committed: run ").append(s.getPath().getName())
                        .append(" (a retry with this --run-id resumes it; the next run that commits removes it)\n");
            }
        }
        Path lease = new Path(archive, ArchiveLease.NAME);
        out.append("  lease: ").append(fs.exists(lease) ? "held (a run is active, or a killed run's lease has not expired)"
                : "free").append('\n');
        return out.toString();
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.2f MB", bytes / 1e6);
    }
}
