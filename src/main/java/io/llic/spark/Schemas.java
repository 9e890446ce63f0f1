package io.llic.spark;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Row schemas of the jobs' Parquet outputs (ARCHITECTURE.md "The Spark jobs"). */
final class Schemas {
    private Schemas() {}

    private static StructField f(String name, org.apache.spark.sql.types.DataType type) {
        return DataTypes.createStructField(name, type, true);
    }

    /** compress-job {@code bitstreams/}: one row per coded image. */
    static final StructType BITSTREAMS = DataTypes.createStructType(new StructField[] {
        f("image_id", DataTypes.StringType),          // path relative to the input root
        f("source_path", DataTypes.StringType),
        f("source_size_bytes", DataTypes.LongType),
        f("pixel_sha256", DataTypes.StringType),
        f("width", DataTypes.IntegerType),
        f("height", DataTypes.IntegerType),
        f("channels", DataTypes.IntegerType),
        f("model_id", DataTypes.StringType),
        f("model_sha256", DataTypes.StringType),
        f("schedule", DataTypes.StringType),
        f("mode", DataTypes.StringType),              // learned or stored-png
        f("bitstream", DataTypes.BinaryType),         // the whole .llic file
        f("bits", DataTypes.LongType),
        f("bits_per_pixel", DataTypes.DoubleType),
        f("predicted_bits", DataTypes.DoubleType),
        f("encode_millis", DataTypes.DoubleType),
        f("network_millis", DataTypes.DoubleType),
        f("verify_millis", DataTypes.DoubleType),
        f("verify_network_millis", DataTypes.DoubleType),
        f("device", DataTypes.StringType),
        f("executor", DataTypes.StringType),
    });

    /** {@code errors/}: one row per input that failed, with the reason. */
    static final StructType ERRORS = DataTypes.createStructType(new StructField[] {
        f("image_id", DataTypes.StringType),
        f("source_path", DataTypes.StringType),
        f("source_size_bytes", DataTypes.LongType),
        f("stage", DataTypes.StringType),             // read, encode, verify, decode, write
        f("error", DataTypes.StringType),             // exception class
        f("message", DataTypes.StringType),
        f("executor", DataTypes.StringType),
    });

    /**
     * archive-job's {@code images} table (Delta): the archive's contents as an event log, one row per
     * content version of an image ({@code event} "archived", with its bitstream) and one per removal
     * from the source ({@code event} "deleted", no bitstream, {@code version} = the last archived one).
     * (image_id, version, event) is unique. The bitstream is the last column and is kept out of Delta's
     * data-skipping statistics.
     */
    static final StructType ARCHIVE_IMAGES = DataTypes.createStructType(new StructField[] {
        f("image_id", DataTypes.StringType),          // path relative to the source root
        f("version", DataTypes.IntegerType),          // content version of this image, from 1
        f("event", DataTypes.StringType),             // archived or deleted
        f("run_id", DataTypes.StringType),
        f("committed_at", DataTypes.TimestampType),   // when the run committed (the driver's clock)
        f("source_path", DataTypes.StringType),
        f("source_size_bytes", DataTypes.LongType),
        f("source_modified_millis", DataTypes.LongType),
        f("content_sha256", DataTypes.StringType),    // of the source file's bytes
        f("pixel_sha256", DataTypes.StringType),      // of the decoded samples (what a restore proves)
        f("width", DataTypes.IntegerType),
        f("height", DataTypes.IntegerType),
        f("model_id", DataTypes.StringType),
        f("model_sha256", DataTypes.StringType),
        f("schedule", DataTypes.StringType),
        f("mode", DataTypes.StringType),
        f("bits", DataTypes.LongType),
        f("bits_per_pixel", DataTypes.DoubleType),
        f("encode_millis", DataTypes.DoubleType),
        f("verify_millis", DataTypes.DoubleType),
        f("bitstream_sha256", DataTypes.StringType),  // checked on the staged copy before the commit
        f("bitstream", DataTypes.BinaryType),         // the whole .llic file (null for deleted)
    });

    /** archive-job's {@code runs} table (Delta): one row per committed run. */
    static final StructType ARCHIVE_RUNS = DataTypes.createStructType(new StructField[] {
        f("run_id", DataTypes.StringType),
        f("started_at", DataTypes.TimestampType),
        f("committed_at", DataTypes.TimestampType),
        f("finished_at", DataTypes.TimestampType),
        f("table_version", DataTypes.LongType),       // the images table's version this run committed
        f("source", DataTypes.StringType),
        f("listed", DataTypes.LongType),
        f("unchanged", DataTypes.LongType),
        f("new_images", DataTypes.LongType),
        f("changed_images", DataTypes.LongType),
        f("deleted_images", DataTypes.LongType),
        f("failed", DataTypes.LongType),
        f("source_bytes", DataTypes.LongType),        // of the images coded in this run
        f("bitstream_bytes", DataTypes.LongType),
        f("pixels", DataTypes.LongType),
        f("bits_per_pixel", DataTypes.DoubleType),
        f("wall_seconds", DataTypes.DoubleType),
        f("model_id", DataTypes.StringType),
        f("model_sha256", DataTypes.StringType),
        f("schedule", DataTypes.StringType),
        f("listing_sha256", DataTypes.StringType),    // of the sorted (id, size, modified) listing of the source
        f("llic_version", DataTypes.StringType),
    });

    /** archive-job's {@code errors} table (Delta): the inputs a run could not code, with the reason. */
    static final StructType ARCHIVE_ERRORS = DataTypes.createStructType(new StructField[] {
        f("run_id", DataTypes.StringType),
        f("image_id", DataTypes.StringType),
        f("source_path", DataTypes.StringType),
        f("source_size_bytes", DataTypes.LongType),
        f("stage", DataTypes.StringType),
        f("error", DataTypes.StringType),
        f("message", DataTypes.StringType),
        f("executor", DataTypes.StringType),
    });
}
