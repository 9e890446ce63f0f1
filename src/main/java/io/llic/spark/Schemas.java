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
}
