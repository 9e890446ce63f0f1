package io.llic.spark;

import io.llic.codec.Decoder;
import io.llic.codec.Encoder;
import io.llic.format.LlicHeader;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.Families;
import io.llic.model.LoadedModel;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
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
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code compress-job --input PATH --output PATH [--model DIR] [--schedule NAME]}: codes every PNG
 * under the input and writes, under {@code <output>/<run_id>/}, {@code bitstreams/} (Parquet),
 * {@code errors/} (Parquet, one row per input that failed and why) and {@code manifest.json}.
 *
 * <p>The driver lists paths and sizes; the executors read the PNG headers (for balancing by pixel
 * count) and then each image, one at a time inside its task, and decode it exactly; only paths
 * travel between driver and executors, and a re-run reads only the images not yet coded; each executor JVM rebuilds the broadcast model once. The
 * run id is derived from the input, model and schedule unless given, so running the same job again
 * skips the images already in {@code bitstreams/} (coding is deterministic, so a retried task writes
 * byte-identical bitstreams). With {@code --verify} (the default) every bitstream is decoded again
 * and compared with the source pixels before it is written.
 */
public final class CompressJob {
    private static final Logger LOG = LoggerFactory.getLogger(CompressJob.class);
    static final String USAGE = String.join("\n",
            "usage: compress-job --input PATH --output PATH [--model DIR] [--schedule NAME] [--run-id ID]",
            "                    [--no-verify] [--partitions N] [--glob PATTERN] [--progress-seconds N] [--tile N]",
            "  --input      directory or glob of PNG images on any Hadoop file system (file:, hdfs:, s3a:)",
            "  --output     where <run_id>/bitstreams, <run_id>/errors and <run_id>/manifest.json go",
            "  --model      model directory (default: $LLIC_HOME/models/default)",
            "  --schedule   one of the model family's schedules (" + Families.describeSchedules() + "; default: the first)",
            "  --run-id     name of the run folder (default: derived from input, model and schedule)",
            "  --no-verify  skip decoding each bitstream again before writing it",
            "  --glob       file name pattern of the inputs (default " + InputListing.DEFAULT_GLOB + ")",
            "  --tile       images wider or taller than N pixels are coded as independent N x N tiles (default: the"
                    + " model's, " + Families.describeTiles() + "; 0: never), which bounds a task's memory",
            "Spark options (--conf k=v, --properties-file F, --master M) go before the job options.");
    private static final Set<String> VALUED = Set.of("input", "output", "model", "schedule", "run-id", "partitions",
            "glob", "progress-seconds", "tile");
    private static final Set<String> FLAGS = Set.of("verify", "no-verify");

    /** The job's settings. */
    public record Config(String input, String output, Path model, String schedule, String runId, boolean verify,
                         int partitions, String glob, int progressSeconds, int tile) implements Serializable {
        static Config parse(String[] args) {
            JobArgs a = new JobArgs(args, VALUED, FLAGS);
            return new Config(a.required("input"), a.required("output"), modelPath(a.get("model", null)),
                    Families.checkKnownSchedule(a.get("schedule", null)),
                    a.get("run-id", null), !a.flag("no-verify"), a.getInt("partitions", 0, 1),
                    a.get("glob", InputListing.DEFAULT_GLOB), a.getInt("progress-seconds", 10, 1),
                    Encoder.checkTile(a.getInt("tile", Encoder.MODEL_TILE, 0)));
        }

        /**
         * This config with the schedule checked against the model's family (its default when none was given)
         * and the tile side the model's default means.
         */
        Config resolved(LoadedModel model) {
            String name = model.family().checkSchedule(schedule == null ? model.family().defaultSchedule() : schedule);
            return new Config(input, output, this.model, name, runId, verify, partitions, glob, progressSeconds,
                    Encoder.resolveTile(tile, model));
        }
    }

    /** What a run did. */
    public record Result(String runDir, long listed, long skipped, long coded, long failed, long pixels, long bits) {
        public double bitsPerPixel() {
            return pixels == 0 ? Double.NaN : (double) bits / pixels;
        }
    }

    private CompressJob() {}

    static Path modelPath(String dir) {
        return dir != null ? Path.of(dir) : LoadedModel.defaultDirectory();
    }

    public static void main(String[] args) {
        Jobs.main("compress-job", USAGE, args, new Jobs.JobBody() {
            @Override
            public void check(String[] a) {
                Config.parse(a);
            }

            @Override
            public void run(SparkSession spark, String[] a) throws Exception {
                Result r = CompressJob.run(spark, Config.parse(a));
                System.out.printf("compress-job: %d coded, %d failed, %d already done; %.4f bpp; output %s%n", r.coded(),
                        r.failed(), r.skipped(), r.bitsPerPixel(), r.runDir());
            }
        });
    }

    public static Result run(SparkSession spark, Config given) throws IOException {
        long started = System.currentTimeMillis();
        LoadedModel model = LoadedModel.load(given.model());
        Config config = given.resolved(model);
        String runId = config.runId() != null ? config.runId() : defaultRunId(spark, config, model);
        org.apache.hadoop.fs.Path runDir = new org.apache.hadoop.fs.Path(config.output(), runId);
        FileSystem fs = runDir.getFileSystem(spark.sparkContext().hadoopConfiguration());
        String bitstreamsDir = new org.apache.hadoop.fs.Path(runDir, "bitstreams").toString();
        String errorsDir = new org.apache.hadoop.fs.Path(runDir, "errors").toString();

        List<InputListing.Item> listed = InputListing.list(spark, config.input(), config.glob());
        Set<String> done = new HashSet<>();
        if (fs.exists(new org.apache.hadoop.fs.Path(bitstreamsDir))) {
            for (Row r : spark.read().parquet(bitstreamsDir).select("image_id").collectAsList()) {
                done.add(r.getString(0));
            }
        }
        List<InputListing.Item> todo = listed.stream().filter(i -> !done.contains(i.id()) && i.sizeBytes() > 0).toList();
        long alreadyCoded = listed.stream().filter(i -> done.contains(i.id())).count();
        // empty files are not images: reported here, never sent to a task
        List<Row> emptyFiles = new ArrayList<>();
        for (InputListing.Item it : listed) {
            if (it.sizeBytes() == 0 && !done.contains(it.id())) {
                emptyFiles.add(RowFactory.create(it.id(), it.path(), 0L, "read", "UnsupportedImageException",
                        "empty file", "driver"));
            }
        }
        LOG.info("compress-job: {} inputs under {}, {} already coded in {}, {} to code, {} empty", listed.size(),
                config.input(), alreadyCoded, runDir, todo.size(), emptyFiles.size());

        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        LongAccumulator imagesDone = spark.sparkContext().longAccumulator("llic.images");
        LongAccumulator pixelsDone = spark.sparkContext().longAccumulator("llic.pixels");
        LongAccumulator inputBytes = spark.sparkContext().longAccumulator("llic.input.bytes");
        long coded = 0;
        long failed = 0;
        long pixels = 0;
        long bits = 0;
        double[] millis = new double[4];
        if (!todo.isEmpty()) {
            int partitions = config.partitions() > 0 ? config.partitions()
                    : Math.min(todo.size(), Math.max(1, jsc.defaultParallelism() * 4));
            List<InputListing.Item> assigned = InputListing.balance(todo, partitions);
            LOG.info("compress-job: {} partitions, {}", partitions,
                    InputListing.describeLoads(InputListing.loads(assigned, partitions)));
            Broadcast<LoadedModel.ModelBytes> modelBytes = jsc.broadcast(model.toFiles());

            JavaRDD<Row> contents = InputListing.read(spark, assigned, partitions, inputBytes);
            JavaRDD<Outcome> outcomes = contents.mapPartitions(new EncodePartition(modelBytes, config.schedule(), config.verify(), config.tile(), imagesDone,
                            pixelsDone))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            try (Progress p = new Progress(LOG, spark.sparkContext(), "compress-job", todo.size(), imagesDone, pixelsDone,
                    config.progressSeconds() * 1000L)) {
                Dataset<Row> ok = spark.createDataFrame(outcomes.filter(o -> o.ok != null).map(o -> o.ok),
                        Schemas.BITSTREAMS);
                ok.write().mode(SaveMode.Append).parquet(bitstreamsDir);
            }
            Dataset<Row> errors = spark.createDataFrame(outcomes.filter(o -> o.error != null).map(o -> o.error),
                    Schemas.ERRORS).union(spark.createDataFrame(emptyFiles, Schemas.ERRORS));
            errors.write().mode(SaveMode.Overwrite).parquet(errorsDir);
            List<Outcome> summary = outcomes.map(o -> o.summaryOnly()).collect();
            for (Outcome o : summary) {
                for (int k = 0; k < 4; k++) {
                    millis[k] += o.millis[k];
                }
                if (o.okPixels > 0 || o.okBits > 0) {
                    coded++;
                    pixels += o.okPixels;
                    bits += o.okBits;
                } else {
                    failed++;
                }
            }
            outcomes.unpersist(false);
            modelBytes.destroy();
        } else {
            spark.createDataFrame(emptyFiles, Schemas.ERRORS).write().mode(SaveMode.Overwrite).parquet(errorsDir);
        }
        failed += emptyFiles.size();
        // every listed image must end coded (now or before) or with an error row: never silently dropped
        if (alreadyCoded + coded + failed != listed.size()) {
            throw new IllegalStateException(String.format("compress-job: %d images listed under %s but %d already coded + %d coded"
                    + " + %d failed: %d unaccounted for; the run is not complete (no manifest written)", listed.size(),
                    config.input(), alreadyCoded, coded, failed, listed.size() - alreadyCoded - coded - failed));
        }
        double seconds = (System.currentTimeMillis() - started) / 1000.0;
        Result result = new Result(runDir.toString(), listed.size(), alreadyCoded, coded, failed, pixels, bits);
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("job", "compress-job");
        manifest.put("runId", runId);
        manifest.put("startedAt", Instant.ofEpochMilli(started).toString());
        manifest.put("finishedAt", Instant.now().toString());
        manifest.put("wallSeconds", seconds);
        manifest.put("config", config);
        manifest.put("versions", Jobs.versions(spark));
        manifest.put("model", Map.of("id", model.id(), "sha256", model.sha256Hex()));
        manifest.put("master", spark.sparkContext().master());
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("listed", result.listed());
        counts.put("alreadyCoded", result.skipped());
        counts.put("coded", coded);
        counts.put("failed", failed);
        counts.put("inputBytesRead", inputBytes.value());
        manifest.put("counts", counts);
        Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("pixels", pixels);
        totals.put("bits", bits);
        totals.put("bitsPerPixel", result.bitsPerPixel());
        totals.put("megapixelsPerSecond", pixels / 1e6 / seconds);
        manifest.put("thisRun", totals);
        // where the executors' time went: the network, the rest of coding (CDFs, rANS, contexts), and
        // everything else (Spark scheduling and shuffle, PNG decoding, Parquet writing, idle cores)
        double coreMillis = seconds * 1000 * jsc.defaultParallelism();
        double network = millis[1] + millis[3];
        double coding = millis[0] + millis[2] - network;
        Map<String, Object> shares = new LinkedHashMap<>();
        shares.put("executorCores", jsc.defaultParallelism());
        shares.put("networkMillis", network);
        shares.put("codingMillis", coding);
        shares.put("networkShare", network / coreMillis);
        shares.put("codingShare", coding / coreMillis);
        shares.put("otherShare", 1 - (network + coding) / coreMillis);
        manifest.put("timeShares", shares);
        Jobs.writeJson(spark, new org.apache.hadoop.fs.Path(runDir, "manifest.json"), manifest);
        LOG.info("compress-job: done in {} s: {} coded, {} failed, {} bpp", String.format("%.1f", seconds), coded, failed,
                String.format("%.4f", result.bitsPerPixel()));
        return result;
    }

    /** The tile's part of a run key: nothing for 2048 (as before tiling had other sides), else the side. */
    static String tileKey(int resolvedTile) {
        return resolvedTile == io.llic.model.ModelFamily.DEFAULT_TILE ? "" : "|tile=" + resolvedTile;
    }

    static String defaultRunId(SparkSession spark, Config config, LoadedModel model) throws IOException {
        // the tile size is part of the bitstreams: a key without one means 2048 (the ids of runs from
        // before tiling, and before l3c's default of 1024, stay as they were); any other side is named
        int tile = Encoder.resolveTile(config.tile(), model);
        String key = InputListing.root(spark, config.input()) + "|" + config.input() + "|" + model.sha256Hex() + "|"
                + config.schedule() + tileKey(tile);
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return "run-" + model.id() + "-" + config.schedule() + "-" + HexFormat.of().formatHex(h).substring(0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One input's outcome: a bitstream row or an error row. */
    static final class Outcome implements Serializable {
        final Row ok;
        final Row error;
        final long okPixels;
        final long okBits;
        /** Milliseconds: [encode total, encode network, verify total, verify network]. */
        final double[] millis;

        Outcome(Row ok, Row error, long okPixels, long okBits, double[] millis) {
            this.ok = ok;
            this.error = error;
            this.okPixels = okPixels;
            this.okBits = okBits;
            this.millis = millis;
        }

        Outcome summaryOnly() {
            return new Outcome(null, null, okPixels, okBits, millis);
        }
    }

    /** Codes the images of one partition with the executor's cached model. */
    static final class EncodePartition implements FlatMapFunction<Iterator<Row>, Outcome> {
        private final Broadcast<LoadedModel.ModelBytes> modelBytes;
        private final String scheduleName;
        private final boolean verify;
        private final LongAccumulator imagesDone;
        private final LongAccumulator pixelsDone;
        private final int tile;

        EncodePartition(Broadcast<LoadedModel.ModelBytes> modelBytes, String scheduleName, boolean verify, int tile,
                        LongAccumulator imagesDone, LongAccumulator pixelsDone) {
            this.tile = tile;
            this.modelBytes = modelBytes;
            this.scheduleName = scheduleName;
            this.verify = verify;
            this.imagesDone = imagesDone;
            this.pixelsDone = pixelsDone;
        }

        @Override
        public Iterator<Outcome> call(Iterator<Row> rows) throws Exception {
            return ExecutorModels.codingTask(modelBytes, tile, rows, (codec, r) -> {
                Outcome o = codeOne(r.getString(0), r.getLong(1), (byte[]) r.get(2), r.getString(3), r, codec);
                imagesDone.add(1);
                return o;
            });
        }

        private Outcome codeOne(String path, long size, byte[] content, String id, Row read, ExecutorModels.TaskCodec codec) {
            String schedule = scheduleName;
            LoadedModel model = codec.model();
            String stage = "read";
            try {
                if (content == null) {
                    throw InputListing.readFailure(read);
                }
                RgbImage image = PngIo.read(content);
                stage = "encode";
                Encoder.Result r = codec.encoder().encode(image, schedule, content);
                double verifyMillis = 0;
                double verifyNetworkMillis = 0;
                if (verify) {
                    stage = "verify";
                    long t0 = System.nanoTime();
                    Decoder.Result d = codec.decoder().decode(r.file());
                    RgbImage back = d.image();
                    verifyMillis = (System.nanoTime() - t0) / 1e6;
                    verifyNetworkMillis = d.stats().networkNanos() / 1e6;
                    if (!back.samePixels(image)) {
                        throw new IOException("verification failed: the bitstream does not decode to the source pixels");
                    }
                }
                LlicHeader h = r.header();
                long bits = r.stats().fileBits();
                pixelsDone.add(image.pixelCount());
                Row ok = RowFactory.create(id, path, size, HexFormat.of().formatHex(h.pixelSha256()), h.width(), h.height(),
                        h.channels(), model.id(), model.sha256Hex(), schedule, LlicHeader.Mode.name(h.mode()),
                        r.file(), bits, (double) bits / image.pixelCount(), r.stats().predictedBits(),
                        r.stats().totalNanos() / 1e6, r.stats().networkNanos() / 1e6, verifyMillis, verifyNetworkMillis,
                        codec.device(), codec.executor());
                return new Outcome(ok, null, image.pixelCount(), bits, new double[] {r.stats().totalNanos() / 1e6,
                    r.stats().networkNanos() / 1e6, verifyMillis, verifyNetworkMillis});
            } catch (OutOfMemoryError e) {
                // the executor is out of memory (tiles bound what one image needs): end the task, which
                // Spark retries, instead of going on in a JVM that may be broken
                LOG.error("compress-job: {}: out of memory at {} (give executors more memory, or a smaller --tile)", path, stage);
                throw e;
            } catch (Exception e) {
                String message = e.getMessage() == null ? e.toString() : e.getMessage();
                LOG.warn("compress-job: {} failed at {}: {}", path, stage, message);
                return new Outcome(null, RowFactory.create(id, path, size, stage, InputListing.errorClass(e), message,
                        codec.executor()), 0, 0, new double[4]);
            }
        }
    }
}
