package io.llic.spark;

import io.llic.codec.Decoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.runtime.NetworkEvaluator;
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
            "  --input   the bitstreams/ folder of a compress-job run (Parquet)",
            "  --output  folder for the PNG files (<output>/<image id>); failures go to <output>/" + REPORT_DIR,
            "  --model   model directory (default: $LLIC_HOME/models/default); must be the model the images were coded with",
            "Spark options (--conf k=v, --properties-file F, --master M) go before the job options.");
    private static final Set<String> VALUED = Set.of("input", "output", "model", "progress-seconds");

    /** The job's settings. */
    public record Config(String input, String output, Path model, int progressSeconds) implements Serializable {
        static Config parse(String[] args) {
            JobArgs a = new JobArgs(args, VALUED, Set.of());
            return new Config(a.required("input"), a.required("output"), CompressJob.modelPath(a.get("model", null)),
                    a.getInt("progress-seconds", 10, 1));
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
        var rows = spark.read().parquet(config.input())
                .select("image_id", "bitstream", "pixel_sha256", "width", "height");
        long total = rows.count();
        JavaRDD<Row> errors = rows.javaRDD()
                .mapPartitions(new DecodePartition(modelBytes, conf, config.output(), done, pixels))
                .cache();
        long failed;
        try (Progress p = new Progress(LOG, spark.sparkContext(), "decode-job", total, done, pixels,
                config.progressSeconds() * 1000L)) {
            failed = errors.count();
        }
        org.apache.hadoop.fs.Path report = new org.apache.hadoop.fs.Path(config.output(), REPORT_DIR);
        spark.createDataFrame(errors, Schemas.ERRORS).write().mode(SaveMode.Overwrite)
                .parquet(new org.apache.hadoop.fs.Path(report, "errors").toString());
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("job", "decode-job");
        manifest.put("startedAt", Instant.ofEpochMilli(started).toString());
        manifest.put("finishedAt", Instant.now().toString());
        manifest.put("config", config);
        manifest.put("versions", Jobs.versions(spark));
        manifest.put("model", Map.of("id", model.id(), "sha256", model.sha256Hex()));
        manifest.put("counts", Map.of("images", total, "decoded", total - failed, "failed", failed));
        Jobs.writeJson(spark, new org.apache.hadoop.fs.Path(report, "manifest.json"), manifest);
        errors.unpersist(false);
        modelBytes.destroy();
        return new Result(total, total - failed, failed);
    }

    /** Decodes one partition's bitstreams; returns only error rows. */
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
            if (!rows.hasNext()) {
                return List.<Row>of().iterator();
            }
            LoadedModel model = ExecutorModels.model(modelBytes.value());
            String executor = Jobs.executorId();
            ExecutorModels.Acquired acquired = ExecutorModels.acquire(model, ExecutorModels.device());
            List<NetworkEvaluator> ev = acquired.evaluators();
            Decoder decoder = new Decoder(model, ev, Integer.MAX_VALUE);
            // one image at a time as Spark pulls the (error) rows; only failures are emitted
            return new LazyPartition<Row, Row>(rows, r -> {
                String id = r.getString(0);
                String stage = "decode";
                Row error = null;
                try {
                    RgbImage image = decoder.decode((byte[]) r.get(1)).image();
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
                    error = RowFactory.create(id, null, null, stage, e.getClass().getSimpleName(), message, executor);
                }
                done.add(1);
                return error;
            }, () -> ExecutorModels.release(model, acquired));
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
