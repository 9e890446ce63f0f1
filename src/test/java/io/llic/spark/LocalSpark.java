package io.llic.spark;

import org.apache.spark.sql.SparkSession;

/** The session the jobs' integration tests run on. */
final class LocalSpark {
    private LocalSpark() {}

    /** {@code local[2]} bound to 127.0.0.1, no UI, 4 shuffle partitions. */
    static SparkSession.Builder builder(String app) {
        return SparkSession.builder().master("local[2]").appName(app)
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "4");
    }
}
