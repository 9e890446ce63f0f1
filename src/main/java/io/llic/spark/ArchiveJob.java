package io.llic.spark;

import com.fasterxml.jackson.core.type.TypeReference;
import io.llic.Version;
import io.llic.codec.Encoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.Families;
import io.llic.model.LoadedModel;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code archive-job --source PATH --archive PATH}: one scheduled archival run. It codes the source
 * images the archive does not hold in their current content (new ones, and changed ones: a file
 * whose size or modification time moved is read and compared by content and pixel hash), decodes
 * every bitstream again and compares its pixel hash with the source before anything is committed,
 * and commits the run's rows (new content versions, and deletions of images gone from the source)
 * to the archive's Delta table in one transaction, then records the run (runs table) and the inputs
 * that failed (errors table).
 *
 * <p>Crash safety: coded rows are staged under {@code <archive>/_staging/<run id>/} (never visible
 * in the table) and a retry of the same run id resumes from them; the commit is an insert-only
 * MERGE on (image_id, version, event), so a repeated commit inserts nothing; the run record travels
 * in the commit itself (Delta's user metadata), so a run killed after its commit is recorded by the
 * next run. A lease object keeps overlapping runs out (the second exits 75).
 */
public final class ArchiveJob {
    private static final Logger LOG = LoggerFactory.getLogger(ArchiveJob.class);
    static final String STAGING = "_staging";
    static final String RUN_ENV = "LLIC_RUN_ID";
    /** Marks the images table's commits made by archive-job (their user metadata is the run record). */
    static final String RECORD_MARK = "llic_archive_run";
    static final String USAGE = String.join("\n",
            "usage: archive-job --source PATH --archive PATH [--model DIR] [--schedule NAME] [--run-id ID] [--glob PATTERN]",
            "                   [--partitions N] [--progress-seconds N] [--tile N] [--lease-minutes N] [--checksum]",
            "       archive-job --status --archive PATH",
            "       archive-job --maintain --archive PATH [--retain-hours N]",
            "  --source         directory or glob of PNG images on any Hadoop file system (file:, hdfs:, s3a:)",
            "  --archive        the archive directory (Delta tables images, runs, errors); created by the first run",
            "  --model          model directory (default: $LLIC_HOME/models/default)",
            "  --schedule       one of the model family's schedules (" + Families.describeSchedules() + "; default: the first)",
            "  --run-id         this run's id (default: $" + RUN_ENV + ", else a new one); the same id again is the same run",
            "  --glob           file name pattern of the inputs (default " + InputListing.DEFAULT_GLOB + ")",
            "  --tile           tile size for large images (default: the model's, "
                    + io.llic.model.Families.describeTiles() + "; 0: never)",
            "  --lease-minutes  how long a killed run keeps others out (default 10; renewed while a run is alive)",
            "  --checksum       read and hash every source file, not only those whose size or time changed",
            "  --status         print the archive's totals, its runs and the space saved, and exit",
            "  --maintain       compact the tables (OPTIMIZE) and remove files older than --retain-hours that no",
            "                   version within it needs (VACUUM; default 168): time travel reaches back that far only",
            "Exit status: 0 done (inputs that failed to code are in the run record and the errors table), 1 failed",
            "(nothing of the run is visible; a retry with the same --run-id resumes), 2 usage, 75 another run is active.",
            "Spark options (--conf k=v, --properties-file F, --master M) go before the job options.");
    private static final Set<String> VALUED = Set.of("source", "archive", "model", "schedule", "run-id", "glob", "partitions",
            "progress-seconds", "tile", "lease-minutes", "retain-hours");
    private static final Set<String> FLAGS = Set.of("checksum", "status", "maintain");

    /** The job's settings. */
    public record Config(String source, String archive, java.nio.file.Path model, String schedule, String runId, String glob,
                         int partitions, int progressSeconds, int tile, int leaseMinutes, boolean checksum) implements Serializable {
        static Config parse(String[] args) {
            JobArgs a = new JobArgs(args, VALUED, FLAGS);
            String runId = a.get("run-id", null);
            if (runId != null) {
                checkRunId(runId);
            }
            return new Config(a.required("source"), a.required("archive"), CompressJob.modelPath(a.get("model", null)),
                    Families.checkKnownSchedule(a.get("schedule", null)), runId, a.get("glob", InputListing.DEFAULT_GLOB),
                    a.getInt("partitions", 0, 1), a.getInt("progress-seconds", 10, 1),
                    Encoder.checkTile(a.getInt("tile", Encoder.MODEL_TILE, 0)), a.getInt("lease-minutes", 10, 1),
                    a.flag("checksum"));
        }
    }

    /** What a run did. */
    public record Result(String runId, boolean alreadyDone, long tableVersion, long listed, long unchanged, long added,
                         long changed, long deleted, long failed, long pixels, long bits) {
        public double bitsPerPixel() {
            return pixels == 0 ? Double.NaN : (double) bits / pixels;
        }
    }

    private ArchiveJob() {}

    static String checkRunId(String id) {
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new IllegalArgumentException("run id '" + id + "' must be 1-128 letters, digits, '.', '_' or '-'"
                    + " (starting with a letter or digit)");
        }
        return id;
    }

    public static void main(String[] args) {
        Jobs.main("archive-job", USAGE, args, new Jobs.JobBody() {
            @Override
            public void check(String[] a) {
                parseMode(a);
            }

            @Override
            public void configure(SparkSession.Builder builder) {
                Jobs.withDelta(builder);
            }

            @Override
            public void run(SparkSession spark, String[] a) throws Exception {
                Object mode = parseMode(a);
                if (mode instanceof StatusMode s) {
                    System.out.print(ArchiveStatus.render(spark, s.archive()));
                } else if (mode instanceof MaintainMode m) {
                    new ArchiveTable(spark, m.archive()).maintain(m.retainHours());
                    System.out.printf("archive-job: %s compacted; files older than %.1f h that no version needs removed%n",
                            m.archive(), m.retainHours());
                } else {
                    Result r = ArchiveJob.run(spark, (Config) mode);
                    if (r.alreadyDone()) {
                        System.out.printf("archive-job: run %s was already committed; nothing to do%n", r.runId());
                    } else {
                        System.out.printf("archive-job: run %s: %d new, %d changed, %d deleted, %d unchanged, %d failed;"
                                        + " %s; %s%n", r.runId(), r.added(), r.changed(), r.deleted(), r.unchanged(), r.failed(),
                                r.pixels() == 0 ? "nothing coded" : String.format(java.util.Locale.ROOT, "%.4f bpp",
                                        r.bitsPerPixel()),
                                r.tableVersion() < 0 ? "nothing to commit" : "table version " + r.tableVersion());
                    }
                }
            }
        });
    }

    record StatusMode(String archive) {}

    record MaintainMode(String archive, double retainHours) {}

    static Object parseMode(String[] args) {
        JobArgs a = new JobArgs(args, VALUED, FLAGS);
        if (a.flag("status") && a.flag("maintain")) {
            throw new IllegalArgumentException("--status and --maintain are separate runs");
        }
        if (a.flag("status")) {
            return new StatusMode(a.required("archive"));
        }
        if (a.flag("maintain")) {
            int hours = a.getInt("retain-hours", ArchiveTable.DEFAULT_RETAIN_HOURS, 0);
            return new MaintainMode(a.required("archive"), hours);
        }
        return Config.parse(args);
    }

    public static Result run(SparkSession spark, Config given) throws IOException {
        long started = System.currentTimeMillis();
        LoadedModel model = LoadedModel.load(given.model());
        String schedule = model.family().checkSchedule(given.schedule() == null ? model.family().defaultSchedule()
                : given.schedule());
        String runId = given.runId() != null ? given.runId() : defaultRunId();
        ArchiveTable table = new ArchiveTable(spark, given.archive());
        Path archive = new Path(given.archive());
        FileSystem fs = archive.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Path staging = new Path(new Path(archive, STAGING), runId);
        String sourceRoot = InputListing.root(spark, given.source());
        try (ArchiveLease lease = ArchiveLease.acquire(spark.sparkContext().hadoopConfiguration(), archive, runId,
                given.leaseMinutes() * 60_000L)) {
            LOG.info("archive-job: run {} holds the archive {}", runId, archive);
            Set<String> recorded = recordPendingRuns(spark, table, fs, archive);
            if (recorded.contains(runId)) {
                LOG.info("archive-job: run {} is already committed and recorded", runId);
                return new Result(runId, true, -1, 0, 0, 0, 0, 0, 0, 0, 0);
            }
            table.create();
            checkSameSource(spark, table, sourceRoot);

            List<InputListing.Listed> listing = InputListing.listFiles(spark, given.source(), given.glob());
            Map<String, ArchiveTable.Current> current = table.current();
            long live = current.values().stream().filter(c -> !c.deleted()).count();
            if (listing.isEmpty() && live > 0) {
                throw new IOException("the source " + given.source() + " lists no images (glob " + given.glob()
                        + ") but the archive holds " + live + ": refusing to record them all as deleted (is the source"
                        + " mounted and the path right?)");
            }
            Plan plan = Plan.of(listing, current, given.checksum());
            LOG.info("archive-job: {} source images: {} new, {} to check, {} unchanged by size and time, {} deleted",
                    listing.size(), plan.newCount, plan.checkCount, plan.unchangedBySize, plan.deletions.size());

            // resume: rows a killed attempt of this run staged for files that have not changed since
            Map<String, InputListing.Listed> byId = new HashMap<>();
            listing.forEach(l -> byId.put(l.id(), l));
            Path coded = new Path(staging, "coded");
            Set<String> staged = stagedIds(spark, fs, coded, byId);
            List<Candidate> toCode = plan.candidates.stream().filter(c -> !staged.contains(c.id())).toList();
            if (!staged.isEmpty()) {
                LOG.info("archive-job: resuming run {}: {} images already staged, {} to code", runId, staged.size(),
                        toCode.size());
            }
            long unchangedAfterRead = codeAll(spark, model, schedule, given, toCode, staging);
            if (unchangedAfterRead > 0) {
                LOG.info("archive-job: {} images with a new size or time have the archived content or pixels", unchangedAfterRead);
            }

            // the staged rows of this run that match the current listing, one per image
            Dataset<Row> rows = fs.exists(coded) ? currentStaged(spark, coded.toString(), byId) : null;
            // one pass over the staged rows: [rows, bitstreams not matching their SHA-256, bitstream bytes, pixels]
            long[] totals = rows == null ? new long[4] : stagedTotals(rows);
            long stagedRows = totals[0];
            if (totals[1] > 0) {
                throw new IOException(totals[1] + " staged bitstreams under " + coded + " do not match their SHA-256:"
                        + " nothing was committed (remove " + staging + " and run again)");
            }
            Dataset<Row> errors = readErrors(spark, fs, new Path(staging, "errors"));
            long failed = errors == null ? 0 : errors.count();

            Timestamp committedAt = Timestamp.from(Instant.now());
            Map<String, Object> record = new LinkedHashMap<>();
            record.put(RECORD_MARK, 1);
            record.put("run_id", runId);
            record.put("started_at", Instant.ofEpochMilli(started).toString());
            record.put("committed_at", committedAt.toInstant().toString());
            record.put("source", sourceRoot);
            record.put("listed", (long) listing.size());
            long[] split = rows == null ? new long[3] : splitNewChanged(rows, current);
            record.put("unchanged", (long) listing.size() - split[0] - split[1] - failed);
            record.put("new_images", split[0]);
            record.put("changed_images", split[1]);
            record.put("deleted_images", (long) plan.deletions.size());
            record.put("failed", failed);
            record.put("source_bytes", split[2]);
            record.put("bitstream_bytes", totals[2]);
            record.put("pixels", totals[3]);
            record.put("bits_per_pixel", totals[3] == 0 ? null : totals[2] * 8.0 / totals[3]);
            record.put("model_id", model.id());
            record.put("model_sha256", model.sha256Hex());
            record.put("schedule", schedule);
            record.put("listing_sha256", listingHash(listing));
            record.put("llic_version", Version.LLIC);

            haltPoint("staged");
            lease.check();
            long version = -1;
            if (stagedRows + plan.deletions.size() > 0) {
                Dataset<Row> commit = deletionRows(spark, plan.deletions, current);
                if (rows != null) {
                    commit = rows.unionByName(commit);
                }
                commit = commit.withColumn("run_id", functions.lit(runId))
                        .withColumn("committed_at", functions.lit(committedAt))
                        .select(columns(Schemas.ARCHIVE_IMAGES));
                String metadata = Jobs.JSON.writeValueAsString(record);
                haltPoint("committing");
                version = table.merge(commit, metadata);
                if (version < 0) {
                    throw new IOException("the commit of run " + runId + " is not in the history of " + table.path(
                            ArchiveTable.IMAGES) + ": another writer overwrote it (several drivers writing one archive"
                            + " on S3?); run again");
                }
                LOG.info("archive-job: run {} committed as version {} of {}", runId, version, table.path(ArchiveTable.IMAGES));
            }
            haltPoint("committed");
            record.put("finished_at", Instant.now().toString());
            recordRun(spark, table, fs, staging, record, version);
            // staged rows of killed runs of other ids are superseded by this run (it coded what they had not committed)
            fs.delete(new Path(archive, STAGING), true);
            return new Result(runId, false, version, listing.size(), (long) record.get("unchanged"), split[0], split[1],
                    plan.deletions.size(), failed, totals[3], totals[2] * 8);
        }
    }

    /**
     * Fault injection for the crash tests (ArchiveCrashIT): with {@code LLIC_ARCHIVE_HALT_AT} naming this
     * point (staged: coded, nothing committed; committing: the commit starts now, with {@code
     * LLIC_ARCHIVE_HALT_MILLIS} more milliseconds; committed: before the run record), the run says so
     * on stderr and waits there to be killed.
     */
    static void haltPoint(String point) {
        if (!point.equals(System.getenv("LLIC_ARCHIVE_HALT_AT"))) {
            return;
        }
        System.err.println("llic-archive-halt: " + point);
        System.err.flush();
        String more = System.getenv("LLIC_ARCHIVE_HALT_MILLIS");
        if (more != null) {
            return; // the test kills the process after that many milliseconds, wherever it then is
        }
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static String defaultRunId() {
        String env = System.getenv(RUN_ENV);
        if (env != null && !env.isBlank()) {
            return checkRunId(env.strip());
        }
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
        return "run-" + stamp + "-" + HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(4)
                .putInt(new java.security.SecureRandom().nextInt()).array());
    }

    /** One source image to read: new (version 1 or after a deletion), or one whose content must be compared. */
    record Candidate(String id, String path, long sizeBytes, long modifiedMillis, int version, String currentContentSha256,
                     String currentPixelSha256) implements Serializable {
        boolean isNew() {
            return currentContentSha256 == null;
        }
    }

    /** What a run must look at, from the listing and the archive's current state. */
    static final class Plan {
        final List<Candidate> candidates = new ArrayList<>();
        final List<String> deletions = new ArrayList<>();
        long newCount;
        long checkCount;
        long unchangedBySize;

        static Plan of(List<InputListing.Listed> listing, Map<String, ArchiveTable.Current> current, boolean checksum) {
            Plan p = new Plan();
            Set<String> listed = new java.util.HashSet<>();
            for (InputListing.Listed l : listing) {
                listed.add(l.id());
                ArchiveTable.Current c = current.get(l.id());
                if (c == null || c.deleted()) {
                    p.candidates.add(new Candidate(l.id(), l.path(), l.sizeBytes(), l.modifiedMillis(),
                            c == null ? 1 : c.version() + 1, null, null));
                    p.newCount++;
                } else if (checksum || c.sizeBytes() != l.sizeBytes() || c.modifiedMillis() != l.modifiedMillis()) {
                    p.candidates.add(new Candidate(l.id(), l.path(), l.sizeBytes(), l.modifiedMillis(), c.version() + 1,
                            c.contentSha256(), c.pixelSha256()));
                    p.checkCount++;
                } else {
                    p.unchangedBySize++;
                }
            }
            for (ArchiveTable.Current c : current.values()) {
                if (!c.deleted() && !listed.contains(c.id())) {
                    p.deletions.add(c.id());
                }
            }
            p.deletions.sort(null);
            return p;
        }
    }

    /** Ids staged by an earlier attempt of this run whose source file is still the same (size and time). */
    private static Set<String> stagedIds(SparkSession spark, FileSystem fs, Path coded, Map<String, InputListing.Listed> byId)
            throws IOException {
        Set<String> out = new java.util.HashSet<>();
        if (!fs.exists(coded)) {
            return out;
        }
        for (Row r : spark.read().parquet(coded.toString()).select("image_id", "source_size_bytes",
                "source_modified_millis").collectAsList()) {
            InputListing.Listed l = byId.get(r.getString(0));
            if (l != null && l.sizeBytes() == r.getLong(1) && l.modifiedMillis() == r.getLong(2)) {
                out.add(r.getString(0));
            }
        }
        return out;
    }

    /** The staged rows whose source is unchanged since they were coded, one per image. */
    private static Dataset<Row> currentStaged(SparkSession spark, String coded, Map<String, InputListing.Listed> byId) {
        List<Row> keys = new ArrayList<>();
        for (InputListing.Listed l : byId.values()) {
            keys.add(RowFactory.create(l.id(), l.sizeBytes(), l.modifiedMillis()));
        }
        var schema = org.apache.spark.sql.types.DataTypes.createStructType(List.of(
                org.apache.spark.sql.types.DataTypes.createStructField("k_id", org.apache.spark.sql.types.DataTypes.StringType, false),
                org.apache.spark.sql.types.DataTypes.createStructField("k_size", org.apache.spark.sql.types.DataTypes.LongType, false),
                org.apache.spark.sql.types.DataTypes.createStructField("k_time", org.apache.spark.sql.types.DataTypes.LongType, false)));
        Dataset<Row> listed = spark.createDataFrame(keys, schema);
        Dataset<Row> staged = spark.read().parquet(coded);
        Dataset<Row> matching = staged.join(functions.broadcast(listed), staged.col("image_id").equalTo(listed.col("k_id"))
                .and(staged.col("source_size_bytes").equalTo(listed.col("k_size")))
                .and(staged.col("source_modified_millis").equalTo(listed.col("k_time"))), "left_semi");
        return matching.dropDuplicates("image_id");
    }

    private static Dataset<Row> readErrors(SparkSession spark, FileSystem fs, Path errors) throws IOException {
        return fs.exists(errors) ? spark.read().parquet(errors.toString()) : null;
    }

    /** [new images, changed images, source bytes] of the staged rows. */
    private static long[] splitNewChanged(Dataset<Row> rows, Map<String, ArchiveTable.Current> current) {
        long[] out = new long[3];
        for (Row r : rows.select("image_id", "source_size_bytes").collectAsList()) {
            ArchiveTable.Current c = current.get(r.getString(0));
            out[c == null || c.deleted() ? 0 : 1]++;
            out[2] += r.getLong(1);
        }
        return out;
    }

    /** [rows, bitstreams that do not match their SHA-256, bitstream bytes, pixels] of the staged rows. */
    private static long[] stagedTotals(Dataset<Row> rows) {
        Row s = rows.agg(functions.count(functions.lit(1)),
                functions.sum(functions.when(functions.sha2(functions.col("bitstream"), 256)
                        .notEqual(functions.col("bitstream_sha256")), 1).otherwise(0)),
                functions.sum(functions.length(functions.col("bitstream"))),
                functions.sum(functions.col("width").cast("long").multiply(functions.col("height")))).first();
        long[] out = new long[4];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.isNullAt(i) ? 0 : ((Number) s.get(i)).longValue();
        }
        return out;
    }

    private static String listingHash(List<InputListing.Listed> listing) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (InputListing.Listed l : listing) {
                d.update((l.id() + "\t" + l.sizeBytes() + "\t" + l.modifiedMillis() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static org.apache.spark.sql.Column[] columns(org.apache.spark.sql.types.StructType schema) {
        return java.util.Arrays.stream(schema.fieldNames()).map(functions::col).toArray(org.apache.spark.sql.Column[]::new);
    }

    /** Rows that record images gone from the source (their last version, no bitstream). */
    private static Dataset<Row> deletionRows(SparkSession spark, List<String> deletions, Map<String, ArchiveTable.Current> current) {
        List<Row> rows = new ArrayList<>();
        var schema = stagedSchema();
        for (String id : deletions) {
            Object[] v = new Object[schema.fieldNames().length];
            v[0] = id;
            v[1] = current.get(id).version();
            v[2] = ArchiveTable.DELETED;
            rows.add(RowFactory.create(v));
        }
        return spark.createDataFrame(rows, schema);
    }

    /** The last run's source must be this run's: ids are relative to it, and a different root would delete everything. */
    private static void checkSameSource(SparkSession spark, ArchiveTable table, String sourceRoot) throws IOException {
        String runs = table.path(ArchiveTable.RUNS);
        if (!table.has(ArchiveTable.RUNS)) {
            return;
        }
        List<Row> last = spark.read().format("delta").load(runs).orderBy(functions.col("committed_at").desc())
                .select("source").limit(1).collectAsList();
        if (!last.isEmpty() && !sourceRoot.equals(last.get(0).getString(0))) {
            throw new IOException("the archive holds the images of " + last.get(0).getString(0) + ", not of " + sourceRoot
                    + ": one archive per source (use another --archive)");
        }
    }

    /**
     * Codes the candidates in Spark and stages the verified rows (append) and this attempt's errors
     * (replace) under {@code staging}; returns how many candidates turned out unchanged.
     */
    private static long codeAll(SparkSession spark, LoadedModel model, String schedule, Config config, List<Candidate> toCode,
                                Path staging) throws IOException {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Path errorsDir = new Path(staging, "errors");
        List<Row> emptyFiles = new ArrayList<>();
        List<InputListing.Listed> files = new ArrayList<>();
        Map<String, Candidate> byId = new HashMap<>();
        for (Candidate c : toCode) {
            if (c.sizeBytes() == 0) {
                emptyFiles.add(RowFactory.create(null, c.id(), c.path(), 0L, "read", "UnsupportedImageException",
                        "empty file", "driver"));
            } else {
                files.add(new InputListing.Listed(c.path(), c.id(), c.sizeBytes(), c.modifiedMillis()));
                byId.put(c.id(), c);
            }
        }
        if (files.isEmpty()) {
            spark.createDataFrame(emptyFiles, Schemas.ARCHIVE_ERRORS).write().mode(SaveMode.Overwrite)
                    .parquet(errorsDir.toString());
            return 0;
        }
        List<InputListing.Item> items = InputListing.withPixels(spark, files);
        int partitions = config.partitions() > 0 ? config.partitions()
                : Math.min(items.size(), Math.max(1, jsc.defaultParallelism() * 4));
        List<InputListing.Item> assigned = InputListing.balance(items, partitions);
        Broadcast<LoadedModel.ModelBytes> modelBytes = jsc.broadcast(model.toFiles());
        Broadcast<Map<String, Candidate>> candidates = jsc.broadcast(byId);
        LongAccumulator imagesDone = spark.sparkContext().longAccumulator("llic.images");
        LongAccumulator pixelsDone = spark.sparkContext().longAccumulator("llic.pixels");
        JavaRDD<Outcome> outcomes = InputListing.read(spark, assigned, partitions, null)
                .mapPartitions(new ArchivePartition(modelBytes, candidates, schedule, config.tile(), imagesDone, pixelsDone))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            try (Progress p = new Progress(LOG, spark.sparkContext(), "archive-job", items.size(), imagesDone, pixelsDone,
                    config.progressSeconds() * 1000L)) {
                spark.createDataFrame(outcomes.filter(o -> o.row != null).map(o -> o.row), stagedSchema())
                        .write().mode(SaveMode.Append).parquet(new Path(staging, "coded").toString());
            }
            spark.createDataFrame(outcomes.filter(o -> o.error != null).map(o -> o.error), Schemas.ARCHIVE_ERRORS)
                    .union(spark.createDataFrame(emptyFiles, Schemas.ARCHIVE_ERRORS))
                    .write().mode(SaveMode.Overwrite).parquet(errorsDir.toString());
            return outcomes.filter(o -> o.unchanged).count();
        } finally {
            outcomes.unpersist(false);
            modelBytes.destroy();
            candidates.destroy();
        }
    }

    /** The staged rows: the images schema without run_id and committed_at (set at the commit). */
    static org.apache.spark.sql.types.StructType stagedSchema() {
        var fields = java.util.Arrays.stream(Schemas.ARCHIVE_IMAGES.fields())
                .filter(f -> !f.name().equals("run_id") && !f.name().equals("committed_at"))
                .toArray(org.apache.spark.sql.types.StructField[]::new);
        return org.apache.spark.sql.types.DataTypes.createStructType(fields);
    }

    /** One candidate's outcome: a staged row, an error row, or unchanged (same content or pixels). */
    static final class Outcome implements Serializable {
        final Row row;
        final Row error;
        final boolean unchanged;

        Outcome(Row row, Row error, boolean unchanged) {
            this.row = row;
            this.error = error;
            this.unchanged = unchanged;
        }
    }

    /** Reads, compares, codes and verifies the candidates of one partition with the executor's cached model. */
    static final class ArchivePartition implements FlatMapFunction<Iterator<Row>, Outcome> {
        private final Broadcast<LoadedModel.ModelBytes> modelBytes;
        private final Broadcast<Map<String, Candidate>> candidates;
        private final String schedule;
        private final int tile;
        private final LongAccumulator imagesDone;
        private final LongAccumulator pixelsDone;

        ArchivePartition(Broadcast<LoadedModel.ModelBytes> modelBytes, Broadcast<Map<String, Candidate>> candidates,
                         String schedule, int tile, LongAccumulator imagesDone, LongAccumulator pixelsDone) {
            this.modelBytes = modelBytes;
            this.candidates = candidates;
            this.schedule = schedule;
            this.tile = tile;
            this.imagesDone = imagesDone;
            this.pixelsDone = pixelsDone;
        }

        @Override
        public Iterator<Outcome> call(Iterator<Row> rows) throws Exception {
            Map<String, Candidate> byId = candidates.value();
            return ExecutorModels.codingTask(modelBytes, tile, rows, (codec, r) -> {
                Outcome o = codeOne(byId.get(r.getString(3)), (byte[]) r.get(2), r, codec);
                imagesDone.add(1);
                return o;
            });
        }

        private Outcome codeOne(Candidate c, byte[] content, Row read, ExecutorModels.TaskCodec codec) {
            LoadedModel model = codec.model();
            String stage = "read";
            try {
                if (content == null) {
                    throw InputListing.readFailure(read);
                }
                String contentSha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
                if (contentSha.equals(c.currentContentSha256())) {
                    return new Outcome(null, null, true);
                }
                RgbImage image = PngIo.read(content);
                String pixelSha = HexFormat.of().formatHex(image.sha256());
                if (pixelSha.equals(c.currentPixelSha256())) {
                    return new Outcome(null, null, true); // re-saved, same pixels: the archived version still holds
                }
                stage = "encode";
                long t0 = System.nanoTime();
                Encoder.Result r = codec.encoder().encode(image, schedule, content);
                double encodeMillis = (System.nanoTime() - t0) / 1e6;
                stage = "verify";
                long t1 = System.nanoTime();
                RgbImage back = codec.decoder().decode(r.file()).image();
                double verifyMillis = (System.nanoTime() - t1) / 1e6;
                if (!HexFormat.of().formatHex(back.sha256()).equals(pixelSha)) {
                    throw new IOException("verification failed: the bitstream does not decode to the source pixels");
                }
                byte[] file = r.file();
                long bits = r.stats().fileBits();
                pixelsDone.add(image.pixelCount());
                Row row = RowFactory.create(c.id(), c.version(), ArchiveTable.ARCHIVED, c.path(), (long) content.length,
                        c.modifiedMillis(), contentSha, pixelSha, image.width(), image.height(), model.id(),
                        model.sha256Hex(), schedule, io.llic.format.LlicHeader.Mode.name(r.header().mode()), bits,
                        (double) bits / image.pixelCount(), encodeMillis, verifyMillis,
                        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file)), file);
                return new Outcome(row, null, false);
            } catch (OutOfMemoryError e) {
                LOG.error("archive-job: {}: out of memory at {} (give executors more memory, or a smaller --tile)", c.path(),
                        stage);
                throw e;
            } catch (Exception e) {
                String message = e.getMessage() == null ? e.toString() : e.getMessage();
                LOG.warn("archive-job: {} failed at {}: {}", c.path(), stage, message);
                return new Outcome(null, RowFactory.create(null, c.id(), c.path(), c.sizeBytes(), stage,
                        InputListing.errorClass(e), message, codec.executor()), false);
            }
        }
    }

    /**
     * Writes a committed run's errors and its run record (each at most once: idempotent appends keyed by
     * the run id), then removes its staging folder.
     */
    private static void recordRun(SparkSession spark, ArchiveTable table, FileSystem fs, Path staging,
                                  Map<String, Object> record, long version) throws IOException {
        String runId = (String) record.get("run_id");
        Dataset<Row> errors = readErrors(spark, fs, new Path(staging, "errors"));
        if (errors != null && !errors.isEmpty()) {
            table.appendOnce(errors.withColumn("run_id", functions.lit(runId)).select(columns(Schemas.ARCHIVE_ERRORS)),
                    ArchiveTable.ERRORS, "llic-errors-" + runId);
        }
        table.appendOnce(spark.createDataFrame(List.of(runRow(record, version)), Schemas.ARCHIVE_RUNS), ArchiveTable.RUNS,
                "llic-run-" + runId);
        fs.delete(staging, true);
        Path parent = staging.getParent();
        if (fs.exists(parent) && fs.listStatus(parent).length == 0) {
            fs.delete(parent, false);
        }
    }

    private static Row runRow(Map<String, Object> r, long version) {
        var fields = Schemas.ARCHIVE_RUNS.fields();
        Object[] v = new Object[fields.length];
        for (int i = 0; i < fields.length; i++) {
            String name = fields[i].name();
            Object x = name.equals("table_version") ? (Long) version : r.get(name);
            if (x == null && name.equals("finished_at")) {
                x = Instant.now().toString();
            }
            var type = fields[i].dataType();
            if (x == null) {
                v[i] = null;
            } else if (type == org.apache.spark.sql.types.DataTypes.TimestampType) {
                v[i] = Timestamp.from(Instant.parse(x.toString()));
            } else if (type == org.apache.spark.sql.types.DataTypes.LongType) {
                v[i] = ((Number) x).longValue();
            } else if (type == org.apache.spark.sql.types.DataTypes.DoubleType) {
                v[i] = ((Number) x).doubleValue();
            } else {
                v[i] = x.toString();
            }
        }
        v[java.util.Arrays.asList(Schemas.ARCHIVE_RUNS.fieldNames()).indexOf("wall_seconds")] =
                (Timestamp.from(Instant.parse(String.valueOf(r.getOrDefault("finished_at", Instant.now().toString()))))
                        .getTime() - Instant.parse(r.get("started_at").toString()).toEpochMilli()) / 1000.0;
        return RowFactory.create(v);
    }

    /**
     * Records the runs whose commit is in the images table but whose run record is not (a run killed
     * between its commit and its record): from the record in the commit and the run's staged errors.
     * Returns the ids of all recorded runs, these included.
     */
    static Set<String> recordPendingRuns(SparkSession spark, ArchiveTable table, FileSystem fs, Path archive)
            throws IOException {
        Set<String> recorded = table.runIds();
        for (ArchiveTable.Commit c : table.history()) {
            if (c.userMetadata() == null || !c.userMetadata().contains(RECORD_MARK)) {
                continue;
            }
            Map<String, Object> record;
            try {
                record = Jobs.JSON.readValue(c.userMetadata(), new TypeReference<LinkedHashMap<String, Object>>() {});
            } catch (IOException e) {
                continue;
            }
            String runId = String.valueOf(record.get("run_id"));
            if (recorded.add(runId)) {
                LOG.warn("archive-job: run {} committed version {} but was not recorded (killed?): recording it now", runId,
                        c.version());
                recordRun(spark, table, fs, new Path(new Path(archive, STAGING), runId), record, c.version());
            }
        }
        return recorded;
    }
}
