package io.llic.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.llic.Version;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.sql.SparkSession;

/** What the job classes share: sessions, usage handling, JSON files on Hadoop file systems. */
final class Jobs {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Jobs() {}

    /** Runs a job's main: --help prints usage (exit 0), usage errors exit 2, failures exit 1. */
    static void main(String name, String usage, String[] args, JobBody body) {
        if (JobArgs.wantsHelp(args)) {
            System.out.println(usage);
            return;
        }
        SparkSession spark = null;
        int status = 0;
        try {
            body.check(args);
            spark = SparkSession.builder().appName("llic " + name).getOrCreate();
            body.run(spark, args);
        } catch (IllegalArgumentException e) {
            System.err.println(name + ": " + e.getMessage());
            System.err.println(usage);
            status = 2;
        } catch (Exception e) {
            System.err.println(name + ": failed: " + e);
            status = 1;
        } finally {
            if (spark != null) {
                spark.stop();
            }
        }
        if (status != 0) {
            System.exit(status);
        }
    }

    /** A job's argument check (before Spark starts) and body. */
    interface JobBody {
        void check(String[] args);

        void run(SparkSession spark, String[] args) throws Exception;
    }

    /** Writes through a temporary name and a rename, so a reader never sees half a file. */
    static void writeBytes(FileSystem fs, Path path, byte[] data) throws IOException {
        Path tmp = new Path(path.getParent(), "." + path.getName() + ".tmp");
        try (OutputStream o = fs.create(tmp, true)) {
            o.write(data);
        }
        if (fs.exists(path)) {
            fs.delete(path, false);
        }
        if (!fs.rename(tmp, path)) {
            throw new IOException("cannot rename " + tmp + " to " + path);
        }
    }

    static void writeText(FileSystem fs, Path path, String text) throws IOException {
        writeBytes(fs, path, text.getBytes(StandardCharsets.UTF_8));
    }

    static void writeJson(SparkSession spark, Path path, Object value) throws IOException {
        FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
        try (OutputStream out = fs.create(path, true)) {
            out.write(JSON.writeValueAsString(value).getBytes(StandardCharsets.UTF_8));
        }
    }

    static Map<String, Object> versions(SparkSession spark) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("llic", Version.LLIC);
        v.put("spark", spark.version());
        v.put("java", System.getProperty("java.version"));
        v.put("djl", io.llic.runtime.Evaluators.djlVersion());
        return v;
    }

    static String executorId() {
        SparkEnv env = SparkEnv.get();
        return env == null ? "driver" : env.executorId();
    }
}
