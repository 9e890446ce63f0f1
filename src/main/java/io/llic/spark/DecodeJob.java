package io.llic.spark;

import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code decode-job --input <bitstreams path> --output DIR}: writes each image as
 * {@code <output>/<image id>} (PNG), proves it against the pixel checksum of its row, and records
 * failures in {@code <output>/_llic_decode/errors} (Parquet) beside a {@code manifest.json}.
 * Files are written to a temporary name and renamed, so a failed or retried task leaves no partial
 * PNG; re-running rewrites identical files.
 */
public final class DecodeJob {
    private static final Logger LOG = LoggerFactory.getLogger(DecodeJob.class);
    static final String REPORT_DIR = "_llic_decode";
    static final String USAGE = String.join("\n",
            "usage: decode-job --input <bitstreams path> --output DIR [--model DIR] [--progress-seconds N]",
            "       decode-job --archive PATH --output DIR [--as-of TIMESTAMP | --version N] [--ids FILE | --where SQL]",
            "                  [--include-deleted] [--model DIR] [--progress-seconds N]",
            "  --input    the bitstreams/ folder of a compress-job run (Parquet)",
            "  --archive  an archive-job archive: restores its images as they were archived at a point",
            "  --as-of    ISO 8601 time (2026-12-01T18:00:00Z, 2026-12-01T18:00+01:00 or 2026-12-01 for its start, UTC):"
                    + " the archive as of that time (default: now)",
            "  --version  the archive as of this version of its images table (see archive-job --status)",
            "  --ids      a file of image ids to restore, one per line (ids are paths relative to the source)",
            "  --where    a Spark SQL condition on the archive's columns, e.g. \"image_id LIKE '2026/%'\"",
            "  --include-deleted  also restore images deleted from the source by then (their last version)",
            "  --output   folder for the PNG files (<output>/<image id>); failures go to <output>/" + REPORT_DIR,
            "  --model    model directory (default: $LLIC_HOME/models/default); must be the model the images were coded with",
            "Spark options (--conf k=v, --properties-file F, --master M) go before the job options.");
    private static final Set<String> VALUED = Set.of("input", "output", "model", "progress-seconds", "archive", "as-of",
            "version", "ids", "where");

    /** The job's settings: {@code input} (a compress-job run) or {@code restore} (an archive at a point). */
    public record Config(String input, String output, Path model, int progressSeconds, Restore restore)
            implements Serializable {
        public Config(String input, String output, Path model, int progressSeconds) {
            this(input, output, model, progressSeconds, null);
        }

        static Config parse(String[] args) {
            JobArgs a = new JobArgs(args, VALUED, Set.of("include-deleted"));
            String input = a.get("input", null);
            String archive = a.get("archive", null);
            if ((input == null) == (archive == null)) {
                throw new IllegalArgumentException("give either --input (a compress-job run) or --archive (an archive)");
            }
            Restore restore = null;
            if (archive != null) {
                String asOf = a.get("as-of", null);
                int version = a.getInt("version", -1, 0);
                if (asOf != null && version >= 0) {
                    throw new IllegalArgumentException("give --as-of or --version, not both");
                }
                String ids = a.get("ids", null);
                String where = a.get("where", null);
                if (ids != null && where != null) {
                    throw new IllegalArgumentException("give --ids or --where, not both");
                }
                restore = new Restore(archive, asOf == null ? null : Restore.parseTime(asOf), version, ids, where,
                        a.flag("include-deleted"));
            } else if (a.get("as-of", null) != null || a.get("version", null) != null || a.get("ids", null) != null
                    || a.get("where", null) != null || a.flag("include-deleted")) {
                throw new IllegalArgumentException("--as-of, --version, --ids, --where and --include-deleted go with --archive");
            }
            return new Config(input, a.required("output"), CompressJob.modelPath(a.get("model", null)),
                    a.getInt("progress-seconds", 10, 1), restore);
        }
    }

    /** What to restore from an archive: at a time or a version (neither: the latest), which images. */
    public record Restore(String archive,
                          @com.fasterxml.jackson.databind.annotation.JsonSerialize(
                                  using = com.fasterxml.jackson.databind.ser.std.ToStringSerializer.class) java.time.Instant asOf, long version, String idsFile, String where,
                          boolean includeDeleted) implements Serializable {
        /** ISO 8601: an instant, a date-time with offset, a local date-time (UTC) or a date (its start, UTC). */
        static java.time.Instant parseTime(String s) {
            try {
                return java.time.OffsetDateTime.parse(s).toInstant();
            } catch (java.time.format.DateTimeParseException e) {
                // not with an offset: try the other forms
            }
            try {
                return java.time.Instant.parse(s);
            } catch (java.time.format.DateTimeParseException e) {
                // next form
            }
            try {
                return java.time.LocalDateTime.parse(s).toInstant(java.time.ZoneOffset.UTC);
            } catch (java.time.format.DateTimeParseException e) {
                // next form
            }
            try {
                return java.time.LocalDate.parse(s).atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
            } catch (java.time.format.DateTimeParseException e) {
                throw new IllegalArgumentException("--as-of '" + s + "' is not an ISO 8601 time"
                        + " (e.g. 2026-12-01T18:00:00Z or 2026-12-01)");
            }
        }
    }

    /** What a run did. */
    public record Result(long images, long decoded, long failed) {}

    private DecodeJob() {}

    public static void main(String[] args) {
        Jobs.main("decode-job", USAGE, args, new Jobs.JobBody() {
            @Override
            public void check(String[] a) {
                Config.parse(a);
            }

            @Override
            public void configure(SparkSession.Builder builder) {
                Jobs.withDelta(builder);
            }

            @Override
            public void run(SparkSession spark, String[] a) throws Exception {
                Result r = DecodeJob.run(spark, Config.parse(a));
                System.out.printf("decode-job: %d decoded, %d failed%n", r.decoded(), r.failed());
            }
        });
    }

    public static Result run(SparkSession spark, Config config) throws IOException {
        long started = System.currentTimeMillis();
        LoadedModel model = LoadedModel.load(config.model());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<LoadedModel.ModelBytes> modelBytes = jsc.broadcast(model.toFiles());
        HadoopConf conf = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LongAccumulator done = spark.sparkContext().longAccumulator("llic.decoded");
        LongAccumulator pixels = spark.sparkContext().longAccumulator("llic.pixels");
        Map<String, Object> restored = new LinkedHashMap<>();
        var rows = config.restore() == null ? spark.read().parquet(config.input())
                .select("image_id", "bitstream", "pixel_sha256", "width", "height")
                : restoreRows(spark, config.restore(), restored, model);
        long total = rows.count();
        if (config.restore() != null) {
            LOG.info("decode-job: restoring {} images of {} as of version {}", total, config.restore().archive(),
                    restored.get("tableVersion"));
        }
        // one small row per image (stage null: decoded, proved and written), so every image is accounted for
        JavaRDD<Row> outcomes = rows.javaRDD()
                .mapPartitions(new DecodePartition(modelBytes, conf, config.output(), done, pixels))
                .cache();
        long decoded;
        try (Progress p = new Progress(LOG, spark.sparkContext(), "decode-job", total, done, pixels,
                config.progressSeconds() * 1000L)) {
            decoded = outcomes.filter(o -> o.isNullAt(3)).count();
        }
        JavaRDD<Row> errors = outcomes.filter(o -> !o.isNullAt(3));
        long failed = errors.count();
        if (decoded + failed != total) {
            throw new IllegalStateException(String.format("decode-job: %d images to decode but %d decoded + %d failed:"
                    + " %d unaccounted for; the run is not complete (no manifest written)", total, decoded, failed,
                    total - decoded - failed));
        }
        org.apache.hadoop.fs.Path report = new org.apache.hadoop.fs.Path(config.output(), REPORT_DIR);
        spark.createDataFrame(errors, Schemas.ERRORS).write().mode(SaveMode.Overwrite)
                .parquet(new org.apache.hadoop.fs.Path(report, "errors").toString());
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("job", "decode-job");
        manifest.put("startedAt", Instant.ofEpochMilli(started).toString());
        manifest.put("finishedAt", Instant.now().toString());
        manifest.put("config", config);
        if (!restored.isEmpty()) {
            manifest.put("restore", restored);
        }
        manifest.put("versions", Jobs.versions(spark));
        manifest.put("model", Map.of("id", model.id(), "sha256", model.sha256Hex()));
        manifest.put("counts", Map.of("images", total, "decoded", decoded, "failed", failed));
        Jobs.writeJson(spark, new org.apache.hadoop.fs.Path(report, "manifest.json"), manifest);
        outcomes.unpersist(false);
        modelBytes.destroy();
        return new Result(total, decoded, failed);
    }

    /**
     * The archive's rows to restore (image_id, bitstream, pixel_sha256, width, height) as of the asked
     * version or time; rows coded with another model are refused by name before anything is decoded.
     */
    static org.apache.spark.sql.Dataset<Row> restoreRows(SparkSession spark, Restore r, Map<String, Object> facts,
                                                         LoadedModel model) throws IOException {
        ArchiveTable table = new ArchiveTable(spark, r.archive());
        if (!table.exists()) {
            throw new IOException("no archive at " + r.archive() + " (no Delta table " + table.path(ArchiveTable.IMAGES) + ")");
        }
        long version = table.resolveVersion(r.asOf(), r.version());
        table.checkReadable(version);
        var rows = table.snapshot(version, r.includeDeleted());
        if (r.where() != null) {
            rows = rows.where(r.where());
        }
        if (r.idsFile() != null) {
            List<String> ids = new ArrayList<>();
            for (String line : InputListing.readText(r.idsFile(), spark.sparkContext().hadoopConfiguration()).split("\\R")) {
                if (!line.isBlank()) {
                    ids.add(line.strip());
                }
            }
            var wanted = spark.createDataset(ids, org.apache.spark.sql.Encoders.STRING()).toDF("wanted_id");
            List<String> missing = wanted.join(rows, wanted.col("wanted_id").equalTo(rows.col("image_id")), "left_anti")
                    .as(org.apache.spark.sql.Encoders.STRING()).limit(5).collectAsList();
            if (!missing.isEmpty()) {
                throw new IOException(r.idsFile() + " names images the archive does not hold at that point, e.g. " + missing);
            }
            rows = rows.join(org.apache.spark.sql.functions.broadcast(wanted),
                    rows.col("image_id").equalTo(wanted.col("wanted_id")), "left_semi");
        }
        List<Row> others = rows.where(rows.col("model_sha256").notEqual(model.sha256Hex())).select("model_id", "model_sha256")
                .distinct().limit(5).collectAsList();
        if (!others.isEmpty()) {
            throw new IOException("archive " + r.archive() + " holds images coded with model " + others.get(0).getString(0)
                    + " (sha256 " + others.get(0).getString(1) + "), not with " + model.id() + ": give --model the model"
                    + " directory they were coded with (or --where model_id = '...' to restore one model's images)");
        }
        facts.put("archive", r.archive());
        facts.put("tableVersion", version);
        return rows.select("image_id", "bitstream", "pixel_sha256", "width", "height");
    }

    /** Decodes one partition's bitstreams; one row per image ({@link Schemas#ERRORS}, stage null when it succeeded). */
    static final class DecodePartition implements FlatMapFunction<Iterator<Row>, Row> {
        private final Broadcast<LoadedModel.ModelBytes> modelBytes;
        private final HadoopConf conf;
        private final String output;
        private final LongAccumulator done;
        private final LongAccumulator pixels;

        DecodePartition(Broadcast<LoadedModel.ModelBytes> modelBytes, HadoopConf conf, String output,
                        LongAccumulator done, LongAccumulator pixels) {
            this.modelBytes = modelBytes;
            this.conf = conf;
            this.output = output;
            this.done = done;
            this.pixels = pixels;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws Exception {
            // one image at a time as Spark pulls the rows: an ok row (stage null) or an error row per image
            return ExecutorModels.codingTask(modelBytes, io.llic.codec.Encoder.MODEL_TILE, rows, (codec, r) -> {
                String executor = codec.executor();
                String id = r.getString(0);
                String stage = "decode";
                Row outcome = RowFactory.create(id, null, null, null, null, null, executor);
                try {
                    RgbImage image = codec.decoder().decode((byte[]) r.get(1)).image();
                    if (!HexFormat.of().formatHex(image.sha256()).equals(r.getString(2))) {
                        throw new IOException("decoded pixels do not match the row's pixel_sha256");
                    }
                    stage = "write";
                    write(id, PngIo.write(image));
                    pixels.add(image.pixelCount());
                } catch (OutOfMemoryError e) {
                    LOG.error("decode-job: {}: out of memory at {} (give executors more memory)", id, stage);
                    throw e;
                } catch (Exception e) {
                    String message = e.getMessage() == null ? e.toString() : e.getMessage();
                    LOG.warn("decode-job: {} failed at {}: {}", id, stage, message);
                    outcome = RowFactory.create(id, null, null, stage, e.getClass().getSimpleName(), message, executor);
                }
                done.add(1);
                return outcome;
            });
        }

        private void write(String id, byte[] png) throws IOException {
            if (id.startsWith("/") || id.contains("../") || id.startsWith("..")) {
                throw new IOException("image id '" + id + "' would leave the output folder");
            }
            org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(output, id);
            org.apache.hadoop.fs.Path tmp = new org.apache.hadoop.fs.Path(target.getParent(),
                    "." + target.getName() + ".tmp-" + java.util.UUID.randomUUID());
            FileSystem fs = target.getFileSystem(conf.get());
            try (OutputStream out = fs.create(tmp, true)) {
                out.write(png);
            }
            fs.delete(target, false);
            if (!fs.rename(tmp, target)) {
                fs.delete(tmp, false);
                throw new IOException("cannot rename " + tmp + " to " + target);
            }
        }
    }
}
