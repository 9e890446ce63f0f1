package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llic.S3Server;
import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jobs on S3: a real S3 server (S3Proxy, with AWS signatures) on 127.0.0.1, reached through
 * Hadoop AWS (s3a://) with the settings of {@code conf/s3a.properties} (the SDK's default credential
 * chain, the magic committer) plus the endpoint lines its comments give for S3-compatible servers.
 * Credentials come from Java system properties, one link of the SDK's default chain.
 */
class S3IT {
    @TempDir
    static Path dir;
    static S3Server s3;
    static SparkSession spark;
    static Path model;
    static final Map<String, RgbImage> IMAGES = new LinkedHashMap<>();

    @BeforeAll
    static void setUp() throws Exception {
        s3 = S3Server.start(dir.resolve("s3"), "data", "locked");
        System.setProperty("aws.accessKeyId", S3Server.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", S3Server.SECRET_KEY);
        model = dir.resolve("model");
        TestData.referenceModel(model);
        SparkSession.Builder b = SparkSession.builder().master("local[2]").appName("llic-s3-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "4");
        for (Map.Entry<String, String> e : profile().entrySet()) {
            b.config(e.getKey(), e.getValue());
        }
        b.config("spark.hadoop.fs.s3a.endpoint", s3.endpoint())
                .config("spark.hadoop.fs.s3a.path.style.access", "true")
                .config("spark.hadoop.fs.s3a.endpoint.region", "us-east-1")
                .config("spark.hadoop.fs.s3a.connection.ssl.enabled", "false")
                // a stopped server should fail a test in seconds, not after minutes of retries
                .config("spark.hadoop.fs.s3a.retry.limit", "1")
                .config("spark.hadoop.fs.s3a.attempts.maximum", "1")
                .config("spark.hadoop.fs.s3a.connection.establish.timeout", "2s")
                .config("spark.hadoop.fs.s3a.connection.timeout", "5s");
        spark = b.getOrCreate();
        // real Kodak content, small crops, uploaded through s3a like any user's data
        FileSystem fs = new org.apache.hadoop.fs.Path("s3a://data/").getFileSystem(spark.sparkContext().hadoopConfiguration());
        String[] names = {"kodim03.png", "kodim07.png", "kodim19.png"};
        for (int i = 0; i < names.length; i++) {
            RgbImage img = PngIo.read(Files.readAllBytes(TestData.kodak().resolve(names[i]))).crop(100, 150, 40 + 4 * i, 32);
            Path local = dir.resolve(names[i]);
            Files.write(local, PngIo.write(img));
            String id = i == 2 ? "sub/" + names[i] : names[i];
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(local.toUri()), new org.apache.hadoop.fs.Path("s3a://data/in/" + id));
            IMAGES.put(id, img);
        }
    }

    /** The spark.* settings of conf/s3a.properties, as a user's --profile s3a passes them. */
    static Map<String, String> profile() throws Exception {
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(Path.of("conf/s3a.properties"))));
        Map<String, String> m = new LinkedHashMap<>();
        for (String k : p.stringPropertyNames()) {
            m.put(k, p.getProperty(k));
        }
        assertTrue(m.containsKey("spark.hadoop.fs.s3a.committer.name"), "the profile sets the committer");
        return m;
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) {
            spark.stop();
        }
        if (s3 != null) {
            s3.close();
        }
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

    static CompressJob.Config compress(String input, String output, String runId) {
        return new CompressJob.Config(input, output, model, "wavefront", runId, true, 0, InputListing.DEFAULT_GLOB, 1, io.llic.codec.Encoder.MODEL_TILE);
    }

    @Test
    void compressDecodeAndEvalRunOnS3ThroughTheMagicCommitter() throws Exception {
        CompressJob.Result r = CompressJob.run(spark, compress("s3a://data/in", "s3a://data/out", "r1"));
        assertEquals(3, r.listed());
        assertEquals(3, r.coded(), r.toString());
        assertEquals(0, r.failed());
        FileSystem fs = new org.apache.hadoop.fs.Path("s3a://data/").getFileSystem(spark.sparkContext().hadoopConfiguration());
        for (String part : List.of("bitstreams", "errors")) {
            JsonNode success;
            try (InputStream in = fs.open(new org.apache.hadoop.fs.Path("s3a://data/out/r1/" + part + "/_SUCCESS"))) {
                success = new ObjectMapper().readTree(in);
            }
            assertEquals("magic", success.get("committer").asText(), part + ": " + success);
        }
        // the magic committer renames nothing: no temporary folder is left in the bucket
        assertFalse(Files.exists(s3.bucketFolder("data").resolve("out/r1/bitstreams/_temporary")));

        // a re-run finds everything coded and codes nothing
        CompressJob.Result again = CompressJob.run(spark, compress("s3a://data/in", "s3a://data/out", "r1"));
        assertEquals(3, again.skipped());
        assertEquals(0, again.coded());

        DecodeJob.Result d = DecodeJob.run(spark, new DecodeJob.Config("s3a://data/out/r1/bitstreams", "s3a://data/decoded", model, 1));
        assertEquals(3, d.decoded(), d.toString());
        for (Map.Entry<String, RgbImage> e : IMAGES.entrySet()) {
            try (InputStream in = fs.open(new org.apache.hadoop.fs.Path("s3a://data/decoded/" + e.getKey()))) {
                assertTrue(PngIo.read(in.readAllBytes()).samePixels(e.getValue()), e.getKey());
            }
        }

        EvalReport.Summary s = EvalJob.run(spark, new EvalJob.Config("s3a://data/in", "s3a://data/eval", List.of(model),
                "wavefront", List.of("png"), InputListing.DEFAULT_GLOB, 1, 1));
        assertTrue(s.table().contains("png\t3\t0\t"), s.table());
        assertTrue(fs.exists(new org.apache.hadoop.fs.Path("s3a://data/eval/per_image/_SUCCESS")));
    }

    /** train-job reads its images from S3 and keeps its checkpoints and model there; a second process-like run resumes from them. */
    @Test
    void trainJobReadsFromAndWritesToS3AndResumesFromItsCheckpoints() throws Exception {
        java.util.function.Function<String[], TrainOptions> options = extra -> {
            List<String> args = new java.util.ArrayList<>(List.of("--input", "s3a://data/in", "--output", "s3a://data/train",
                    "--crop", "8", "--batch", "4", "--shards", "2", "--hidden", "8", "--layers", "2", "--validation", "0",
                    "--checkpoint-every", "2", "--log-seconds", "1", "--adaptation", "off", "--id", "s3-tiny"));
            args.addAll(List.of(extra));
            return TrainOptions.parse(args.toArray(String[]::new), 2);
        };
        TrainJob.Result first = TrainJob.train(spark, options.apply(new String[] {"--steps", "6", "--until", "4"}));
        assertFalse(first.finished());
        TrainJob.Result second = TrainJob.train(spark, options.apply(new String[] {"--resume"}));
        assertTrue(second.finished());
        assertEquals(6, second.checkpoint().step());
        // what the job left in the bucket is a model directory like any other
        io.llic.model.LoadedModel m = io.llic.model.LoadedModel.load(s3.bucketFolder("data").resolve("train"));
        assertEquals("s3-tiny", m.id());
        assertTrue(Files.exists(s3.bucketFolder("data").resolve("train/training/final.ckpt")));
    }

    @Test
    void aMissingBucketIsAClearErrorNamingIt() {
        Exception e = assertThrows(Exception.class,
                () -> CompressJob.run(spark, compress("s3a://no-such-bucket/in", "s3a://data/out-missing", "r1")));
        String message = Jobs.describe(e);
        assertTrue(message.contains("no-such-bucket") && message.contains("does not exist"), message);
    }

    @Test
    void wrongCredentialsAreAClearErrorAndWriteNothing() {
        // per-bucket settings, as S3A allows: this bucket is reached with a wrong secret
        var conf = spark.sparkContext().hadoopConfiguration();
        conf.set("fs.s3a.bucket.locked.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        conf.set("fs.s3a.bucket.locked.access.key", S3Server.ACCESS_KEY);
        conf.set("fs.s3a.bucket.locked.secret.key", "not-the-secret");
        Exception e = assertThrows(Exception.class,
                () -> CompressJob.run(spark, compress("s3a://data/in", "s3a://locked/out", "r1")));
        String message = Jobs.describe(e);
        assertTrue(message.contains("s3a://locked") && message.contains("credentials"), message);
        assertFalse(Files.exists(s3.bucketFolder("locked").resolve("out")), "nothing written");
    }

    /** The server dies while the images are being coded: the job fails, and no output claims to be complete. */
    @Test
    void aServerStoppedMidRunFailsTheJobAndLeavesNoCompleteOutput() throws Exception {
        try (S3Server doomed = S3Server.start(dir.resolve("s3-doomed"), "doomed")) {
            var conf = spark.sparkContext().hadoopConfiguration();
            conf.set("fs.s3a.bucket.doomed.endpoint", doomed.endpoint());
            AtomicBoolean killed = new AtomicBoolean();
            SparkListener killer = new SparkListener() {
                @Override
                public void onTaskStart(SparkListenerTaskStart start) {
                    if (killed.compareAndSet(false, true)) {
                        doomed.kill();
                    }
                }
            };
            spark.sparkContext().addSparkListener(killer);
            try {
                Exception e = assertThrows(Exception.class,
                        () -> CompressJob.run(spark, compress("s3a://data/in", "s3a://doomed/out", "r1")));
                assertTrue(killed.get());
                String message = Jobs.describe(e);
                assertTrue(message.contains("s3a://doomed") || message.contains("127.0.0.1"), message);
            } finally {
                spark.sparkContext().removeSparkListener(killer);
            }
            Path out = doomed.bucketFolder("doomed").resolve("out/r1");
            assertFalse(Files.exists(out.resolve("bitstreams/_SUCCESS")), "no _SUCCESS");
            assertFalse(Files.exists(out.resolve("manifest.json")), "no run manifest");
            if (Files.exists(out.resolve("bitstreams"))) {
                try (var files = Files.list(out.resolve("bitstreams"))) {
                    assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".parquet")).toList(),
                            "no visible part files");
                }
            }
        }
    }
}
