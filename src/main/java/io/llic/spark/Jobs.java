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

    /** Exit status when another run holds what this one needs (EX_TEMPFAIL: a scheduler tries later). */
    static final int EXIT_BUSY = 75;

    /** The session settings Delta Lake needs (archive-job, and decode-job restoring from an archive). */
    static SparkSession.Builder withDelta(SparkSession.Builder b) {
        return b.config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
    }

    static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** Runs a job's main: --help prints usage (exit 0), usage errors exit 2, failures exit 1, a busy archive 75. */
    static void main(String name, String usage, String[] args, JobBody body) {
        if (JobArgs.wantsHelp(args)) {
            System.out.println(usage);
            return;
        }
        SparkSession spark = null;
        int status = 0;
        try {
            body.check(args);
            SparkSession.Builder builder = SparkSession.builder().appName("llic " + name);
            body.configure(builder);
            spark = builder.getOrCreate();
            body.run(spark, args);
        } catch (IllegalArgumentException e) {
            System.err.println(name + ": " + e.getMessage());
            System.err.println(usage);
            status = 2;
        } catch (Exception e) {
            if (causedBy(e, ArchiveLease.Held.class)) {
                System.err.println(name + ": " + e.getMessage());
                status = EXIT_BUSY;
            } else {
                System.err.println(name + ": failed: " + describe(e));
                status = 1;
            }
        } finally {
            if (spark != null) {
                spark.stop();
            }
        }
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * One clear line for a failed job: what went wrong in the user's terms where it is known (a
     * bucket that does not exist, credentials refused or missing, a storage endpoint that cannot be
     * reached), then the causes from the outermost in, each once.
     */
    static String describe(Throwable e) {
        StringBuilder causes = new StringBuilder();
        String hint = null;
        java.util.Set<String> seen = new java.util.HashSet<>();
        int depth = 0;
        for (Throwable t = e; t != null && depth < 12; t = t.getCause(), depth++) {
            String cls = t.getClass().getName();
            String msg = String.valueOf(t.getMessage());
            if (hint == null) {
                hint = hintFor(cls, msg);
            }
            if (seen.add(msg)) {
                causes.append(causes.length() == 0 ? "" : "; caused by ").append(t.getClass().getSimpleName()).append(": ")
                        .append(msg.strip());
            }
        }
        return hint == null ? causes.toString() : hint + " (" + causes + ")";
    }

    private static String hintFor(String cls, String msg) {
        if (cls.endsWith(".UnknownStoreException") || msg.contains("NoSuchBucket") || msg.contains("bucket does not exist")) {
            return "the bucket does not exist or is not reachable under this name: " + firstPath(msg);
        }
        if (cls.endsWith(".NoAuthWithAWSException")) {
            return "no S3 credentials found (environment, profile, instance or web-identity role, or fs.s3a.access.key): "
                    + firstPath(msg);
        }
        if (cls.equals("java.nio.file.AccessDeniedException") || msg.contains("SignatureDoesNotMatch")
                || msg.contains("InvalidAccessKeyId") || msg.contains("403 Forbidden")) {
            return "access denied: the storage refused these credentials: " + firstPath(msg);
        }
        if (cls.equals("java.net.ConnectException") || cls.endsWith(".ConnectTimeoutException")
                || msg.contains("Connection refused") || msg.contains("Unable to execute HTTP request")) {
            return "the storage endpoint cannot be reached: " + firstPath(msg);
        }
        return null;
    }

    /** The first s3a:// (or other URI-like) path in a message, or the message itself. */
    private static String firstPath(String msg) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[a-z0-9]+a?://[^\\s'`\"]+").matcher(msg);
        return m.find() ? m.group().replaceAll("[:.,;)]+$", "") : msg.strip();
    }

    /** A job's argument check (before Spark starts) and body. */
    interface JobBody {
        void check(String[] args);

        /** Session settings the job needs before the session exists (default: none). */
        default void configure(SparkSession.Builder builder) {}

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
