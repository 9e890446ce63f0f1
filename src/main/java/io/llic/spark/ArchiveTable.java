package io.llic.spark;

import io.delta.tables.DeltaTable;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * The Delta Lake tables of an archive directory: {@code images} (the contents as an event log of
 * content versions and deletions, {@link Schemas#ARCHIVE_IMAGES}), {@code runs} and {@code errors}.
 * Only {@code images} holds what a restore needs; a run's rows reach it in one MERGE (insert-only on
 * the key image_id, version, event), so a commit is all or nothing and a repeated commit inserts
 * nothing. The table is append-only ({@code delta.appendOnly}): a run never deletes or rewrites rows.
 *
 * <p>Why Delta and not Iceberg: an archive here is a path (local, HDFS, s3a) that a scheduled job
 * owns, with no catalog service to run; Delta keeps its log beside the data, gives idempotent
 * appends and MERGE, time travel by version and timestamp, OPTIMIZE and VACUUM with no catalog,
 * and is the format the Spark line we ship is built with. Iceberg needs a catalog (or its
 * path-based Hadoop catalog, which is not safe on S3 at all).
 */
final class ArchiveTable {
    static final String IMAGES = "images";
    static final String RUNS = "runs";
    static final String ERRORS = "errors";
    static final String ARCHIVED = "archived";
    static final String DELETED = "deleted";
    /** Columns Delta keeps min/max statistics for (never the bitstream: large binary values). */
    static final String STATS_COLUMNS = "image_id,version,event,run_id,committed_at";
    /** Rows per Parquet reader batch where bitstreams are read: a task holds a few of them at once, not thousands. */
    static final int READER_BATCH_ROWS = 16;

    private final SparkSession spark;
    private final Path archive;

    ArchiveTable(SparkSession spark, String archive) {
        this.spark = spark;
        this.archive = new Path(archive);
        spark.conf().set("spark.sql.parquet.columnarReaderBatchSize", String.valueOf(READER_BATCH_ROWS));
    }

    String path(String table) {
        return new Path(archive, table).toString();
    }

    boolean exists() {
        return has(IMAGES);
    }

    /** Whether {@code table} (images, runs, errors) exists as a Delta table. */
    boolean has(String table) {
        return DeltaTable.isDeltaTable(spark, path(table));
    }

    /** Creates the images table if it does not exist (its first commit: schema and properties). */
    void create() {
        DeltaTable.createIfNotExists(spark).location(path(IMAGES)).addColumns(Schemas.ARCHIVE_IMAGES)
                .property("delta.appendOnly", "true")
                .property("delta.dataSkippingStatsColumns", STATS_COLUMNS)
                .comment("llic archive: content versions and deletions of the source images")
                .execute();
    }

    /** The latest event per image (its current state), without bitstreams: empty if there is no table. */
    Map<String, Current> current() {
        Map<String, Current> out = new HashMap<>();
        if (!exists()) {
            return out;
        }
        Dataset<Row> rows = spark.read().format("delta").load(path(IMAGES)).select("image_id", "version", "event",
                "source_size_bytes", "source_modified_millis", "content_sha256", "pixel_sha256");
        for (Row r : rows.collectAsList()) {
            Current c = new Current(r.getString(0), r.getInt(1), DELETED.equals(r.getString(2)),
                    r.isNullAt(3) ? -1 : r.getLong(3), r.isNullAt(4) ? -1 : r.getLong(4), r.getString(5), r.getString(6));
            out.merge(c.id(), c, Current::later);
        }
        return out;
    }

    /** An image's state: its last content version, whether it was deleted after it, and that version's source facts. */
    record Current(String id, int version, boolean deleted, long sizeBytes, long modifiedMillis, String contentSha256,
                   String pixelSha256) implements java.io.Serializable {
        /** Of two events of one image, the later: the higher version, and at equal versions the deletion. */
        static Current later(Current a, Current b) {
            if (a.version != b.version) {
                return a.version > b.version ? a : b;
            }
            if (a.deleted != b.deleted) {
                // a deletion row carries no source facts: keep those of the archived row
                Current archived = a.deleted ? b : a;
                return new Current(a.id, a.version, true, archived.sizeBytes, archived.modifiedMillis,
                        archived.contentSha256, archived.pixelSha256);
            }
            return a;
        }
    }

    /**
     * Inserts {@code rows} (images schema) that the table does not hold yet, in one commit that carries
     * {@code userMetadata}; returns the table version committed, or -1 if nothing was new.
     */
    long merge(Dataset<Row> rows, String userMetadata) {
        String key = "spark.databricks.delta.commitInfo.userMetadata";
        spark.conf().set(key, userMetadata);
        try {
            DeltaTable.forPath(spark, path(IMAGES)).as("t")
                    .merge(rows.as("s"), "t.image_id = s.image_id AND t.version = s.version AND t.event = s.event")
                    .whenNotMatched().insertAll()
                    .execute();
        } finally {
            spark.conf().unset(key);
        }
        return committedVersion(userMetadata);
    }

    /** The version of the images table whose commit carries exactly this user metadata, or -1. */
    long committedVersion(String userMetadata) {
        if (!exists()) {
            return -1;
        }
        List<Row> rows = DeltaTable.forPath(spark, path(IMAGES)).history()
                .where(functions.col("userMetadata").equalTo(userMetadata)).select("version").collectAsList();
        return rows.isEmpty() ? -1 : rows.get(0).getLong(0);
    }

    /** (version, commit time, user metadata) of the images table's commits, newest first. */
    List<Commit> history() {
        List<Commit> out = new ArrayList<>();
        if (!exists()) {
            return out;
        }
        for (Row r : DeltaTable.forPath(spark, path(IMAGES)).history().select("version", "timestamp", "userMetadata")
                .collectAsList()) {
            out.add(new Commit(r.getLong(0), r.getTimestamp(1).toInstant(), r.isNullAt(2) ? null : r.getString(2)));
        }
        return out;
    }

    record Commit(long version, Instant time, String userMetadata) {}

    /**
     * The version a restore reads, from one read of the history: the newest committed at or before
     * {@code asOf} when given, else {@code version} when it is one (>= 0), else the latest; a time before
     * the first commit or a version beyond the latest is an error that says so.
     */
    long resolveVersion(Instant asOf, long version) throws IOException {
        long latest = -1;
        long best = -1;
        Instant first = null;
        for (Commit c : history()) {
            latest = Math.max(latest, c.version());
            if (asOf != null && !c.time().isAfter(asOf) && c.version() > best) {
                best = c.version();
            }
            if (first == null || c.time().isBefore(first)) {
                first = c.time();
            }
        }
        if (asOf != null) {
            if (best < 0) {
                throw new IOException("archive " + archive + " has no version at or before " + asOf
                        + (first == null ? " (it has no commits)" : "; its first commit is at " + first));
            }
            return best;
        }
        if (version > latest) {
            throw new IOException("archive " + archive + " has no version " + version + " (the latest is " + latest + ")");
        }
        return version >= 0 ? version : latest;
    }

    /**
     * The archived rows (with bitstreams) current at {@code version} (-1: the latest): for each image its
     * last content version, without the images deleted by then unless {@code includeDeleted}.
     */
    Dataset<Row> snapshot(long version, boolean includeDeleted) {
        var reader = spark.read().format("delta");
        if (version >= 0) {
            reader = reader.option("versionAsOf", version);
        }
        Dataset<Row> all = reader.load(path(IMAGES));
        Dataset<Row> keys = all.select("image_id", "version", "event");
        Dataset<Row> latest = keys.where(functions.col("event").equalTo(ARCHIVED)).groupBy("image_id")
                .agg(functions.max("version").as("latest_version"));
        Dataset<Row> rows = all.where(functions.col("event").equalTo(ARCHIVED))
                .join(latest, all.col("image_id").equalTo(latest.col("image_id"))
                        .and(all.col("version").equalTo(latest.col("latest_version"))), "left_semi");
        if (!includeDeleted) {
            Dataset<Row> gone = keys.where(functions.col("event").equalTo(DELETED)).select(
                    functions.col("image_id").as("gone_id"), functions.col("version").as("gone_version"));
            rows = rows.join(gone, rows.col("image_id").equalTo(gone.col("gone_id"))
                    .and(rows.col("version").equalTo(gone.col("gone_version"))), "left_anti");
        }
        return rows;
    }

    /** Appends {@code rows} to {@code table} once per (appId): a repeated call with the same id writes nothing. */
    void appendOnce(Dataset<Row> rows, String table, String appId) {
        rows.write().format("delta").mode("append").option("txnAppId", appId).option("txnVersion", 0L)
                .save(path(table));
    }

    /** The ids of the recorded runs (one read of the runs table). */
    java.util.Set<String> runIds() {
        if (!has(RUNS)) {
            return new java.util.HashSet<>();
        }
        return new java.util.HashSet<>(spark.read().format("delta").load(path(RUNS)).select("run_id")
                .as(org.apache.spark.sql.Encoders.STRING()).collectAsList());
    }

    /** OPTIMIZE (compaction) of every table, then VACUUM of files unreferenced for longer than {@code retainHours}. */
    void maintain(double retainHours) {
        String check = "spark.databricks.delta.retentionDurationCheck.enabled";
        if (retainHours < DEFAULT_RETAIN_HOURS) {
            // Delta refuses a retention under 7 days unless told: the user asked for it by name
            org.slf4j.LoggerFactory.getLogger(ArchiveTable.class).warn("archive-job: VACUUM with a retention of {} h (under"
                    + " {} h): time travel will reach back only that far", retainHours, DEFAULT_RETAIN_HOURS);
            spark.conf().set(check, "false");
        }
        for (String t : List.of(IMAGES, RUNS, ERRORS)) {
            if (!DeltaTable.isDeltaTable(spark, path(t))) {
                continue;
            }
            DeltaTable table = DeltaTable.forPath(spark, path(t));
            table.optimize().executeCompaction();
            table.vacuum(retainHours);
        }
        spark.conf().unset(check);
    }

    /** Delta's own default retention for VACUUM (7 days), archive-job's default too. */
    static final int DEFAULT_RETAIN_HOURS = 168;

    /**
     * Throws a clear error if a version's data files are gone (removed by VACUUM once they were older
     * than the retention): such a version can no longer be read.
     */
    void checkReadable(long version) throws IOException {
        var reader = spark.read().format("delta");
        if (version >= 0) {
            reader = reader.option("versionAsOf", version);
        }
        FileSystem fs = fs();
        for (String f : reader.load(path(IMAGES)).inputFiles()) {
            if (!fs.exists(new Path(f))) {
                throw new IOException("version " + version + " of " + path(IMAGES) + " can no longer be read: its file " + f
                        + " was removed by VACUUM (archive-job --maintain keeps only the files the last --retain-hours"
                        + " of versions need)");
            }
        }
    }

    FileSystem fs() throws IOException {
        return archive.getFileSystem(spark.sparkContext().hadoopConfiguration());
    }
}
