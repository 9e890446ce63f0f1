package io.llic.spark;

import io.llic.codec.Decoder;
import io.llic.codec.Encoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.Families;
import io.llic.model.LoadedModel;
import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code eval-job --input PATH --output PATH [--model DIR ...] [--baselines png,webp,jxl]}: bits,
 * bpp, encode and decode time per image and codec; writes {@code per_image/} (Parquet),
 * {@code summary.tsv} and {@code summary.json} (bpp per codec as total bits / total pixels, plus
 * means and median times) and {@code report.html} (charts; opens in a browser without a server).
 */
public final class EvalJob {
    private static final Logger LOG = LoggerFactory.getLogger(EvalJob.class);
    static final String USAGE = String.join("\n",
            "usage: eval-job --input PATH --output PATH [--model DIR ...] [--schedule NAME] [--baselines png,webp,jxl]",
            "  --input      directory or glob of PNG images (any Hadoop file system)",
            "  --output     folder for per_image/ (Parquet), summary.tsv, summary.json and report.html",
            "  --model      a model directory; repeat to compare models (default: $LLIC_HOME/models/default)",
            "  --schedule   schedule for the llic codecs (default: each model family's first; " + Families.describeSchedules() + ")",
            "  --baselines  classical codecs (default png,webp,jxl; also jxl9 = JPEG XL effort 9); png always runs, the others when installed",
            "Spark options (--conf k=v, --properties-file F, --master M) go before the job options.");
    private static final Set<String> VALUED = Set.of("input", "output", "model", "schedule", "baselines", "glob",
            "partitions", "progress-seconds");

    static final StructType PER_IMAGE = DataTypes.createStructType(new StructField[] {
        DataTypes.createStructField("image_id", DataTypes.StringType, false),
        DataTypes.createStructField("codec", DataTypes.StringType, false),
        DataTypes.createStructField("pixels", DataTypes.LongType, false),
        DataTypes.createStructField("bits", DataTypes.LongType, true),
        DataTypes.createStructField("bits_per_pixel", DataTypes.DoubleType, true),
        DataTypes.createStructField("encode_millis", DataTypes.DoubleType, true),
        DataTypes.createStructField("decode_millis", DataTypes.DoubleType, true),
        DataTypes.createStructField("lossless", DataTypes.BooleanType, true),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    /** The job's settings. */
    public record Config(String input, String output, List<Path> models, String schedule, List<String> baselines,
                         String glob, int partitions, int progressSeconds) implements Serializable {
        static Config parse(String[] args) {
            JobArgs a = new JobArgs(args, VALUED, Set.of());
            List<Path> models = a.all("model").isEmpty() ? List.of(CompressJob.modelPath(null))
                    : a.all("model").stream().map(Path::of).toList();
            List<String> baselines = new ArrayList<>(List.of(a.get("baselines", "png,webp,jxl").split(",")));
            baselines.removeIf(String::isBlank);
            for (String b : baselines) {
                if (!Baselines.KNOWN.contains(b)) {
                    throw new IllegalArgumentException("unknown baseline '" + b + "' (known: " + Baselines.KNOWN + ")");
                }
            }
            if (!baselines.contains("png")) {
                baselines.add(0, "png");
            }
            return new Config(a.required("input"), a.required("output"), models, Families.checkKnownSchedule(a.get("schedule", null)), baselines,
                    a.get("glob", InputListing.DEFAULT_GLOB), a.getInt("partitions", 0, 1),
                    a.getInt("progress-seconds", 10, 1));
        }
    }

    private EvalJob() {}

    public static void main(String[] args) {
        Jobs.main("eval-job", USAGE, args, new Jobs.JobBody() {
            @Override
            public void check(String[] a) {
                Config.parse(a);
            }

            @Override
            public void run(SparkSession spark, String[] a) throws Exception {
                EvalReport.Summary s = EvalJob.run(spark, Config.parse(a));
                System.out.print(s.table());
            }
        });
    }

    public static EvalReport.Summary run(SparkSession spark, Config config) throws IOException {
        long started = System.currentTimeMillis();
        List<LoadedModel.ModelBytes> models = new ArrayList<>();
        for (Path m : config.models()) {
            LoadedModel loaded = LoadedModel.load(m);
            scheduleOf(loaded, config.schedule()); // every model's family must code the schedule asked for
            models.add(loaded.toFiles());
        }
        List<String> baselines = new ArrayList<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (String b : config.baselines()) {
            String why = Baselines.unavailable(b);
            if (why == null) {
                baselines.add(b);
            } else {
                skipped.put(b, why);
                LOG.warn("eval-job: skipping {}: {}", b, why);
            }
        }
        List<InputListing.Item> listed = InputListing.list(spark, config.input(), config.glob());
        if (listed.isEmpty()) {
            throw new IOException("no images under " + config.input());
        }
        // an empty file is an input error (its row is written here), never silently left out
        List<InputListing.Item> items = listed.stream().filter(i -> i.sizeBytes() > 0).toList();
        List<Row> emptyRows = new ArrayList<>();
        for (InputListing.Item it : listed) {
            if (it.sizeBytes() == 0) {
                emptyRows.add(RowFactory.create(it.id(), INPUT_ERROR, 0L, null, null, null, null, null, "empty file"));
            }
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = config.partitions() > 0 ? config.partitions()
                : Math.min(items.size(), Math.max(1, jsc.defaultParallelism() * 4));
        List<InputListing.Item> assigned = InputListing.balance(items, partitions);
        Broadcast<List<LoadedModel.ModelBytes>> modelBytes = jsc.broadcast(models);
        LongAccumulator done = spark.sparkContext().longAccumulator("llic.images");
        LongAccumulator pixels = spark.sparkContext().longAccumulator("llic.pixels");
        List<Row> rows = new ArrayList<>(emptyRows);
        if (!items.isEmpty()) {
            try (Progress p = new Progress(LOG, spark.sparkContext(), "eval-job", items.size(), done, pixels,
                    config.progressSeconds() * 1000L)) {
                rows.addAll(InputListing.read(spark, assigned, partitions, null)
                        .mapPartitions(new MeasurePartition(modelBytes, config.schedule(), baselines, done, pixels))
                        .collect());
            }
        }
        // every listed image has a row per codec, or one input-error row: a figure over fewer images is not reported
        List<String> missing = unaccounted(listed.stream().map(InputListing.Item::id).toList(), rows,
                models.size() + baselines.size());
        if (!missing.isEmpty()) {
            throw new IllegalStateException(String.format("eval-job: %d of the %d images listed under %s have no complete set of"
                    + " rows (%s%s); no report written", missing.size(), listed.size(), config.input(),
                    String.join(", ", missing.subList(0, Math.min(5, missing.size()))), missing.size() > 5 ? ", ..." : ""));
        }
        org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(config.output());
        spark.createDataFrame(rows, PER_IMAGE).coalesce(1).write().mode(SaveMode.Overwrite)
                .parquet(new org.apache.hadoop.fs.Path(out, "per_image").toString());
        EvalReport.Summary summary = EvalReport.summarise(rows, skipped);
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("job", "eval-job");
        meta.put("input", config.input());
        meta.put("startedAt", Instant.ofEpochMilli(started).toString());
        meta.put("finishedAt", Instant.now().toString());
        meta.put("versions", Jobs.versions(spark));
        meta.put("schedule", config.schedule() == null ? "each model family's default" : config.schedule());
        EvalReport.write(spark, out, rows, summary, meta);
        modelBytes.destroy();
        return summary;
    }

    /** The codec name of a row that says an image could not be read. */
    static final String INPUT_ERROR = "input";

    /**
     * The listed ids whose rows are not complete: each image must have exactly one row per codec
     * ({@code codecs} of them) or a single input-error row, and no row may name an image not listed.
     * Returns the ids at fault, sorted (empty when everything is accounted for).
     */
    static List<String> unaccounted(List<String> listed, List<Row> rows, int codecs) {
        Map<String, Integer> perImage = new java.util.TreeMap<>();
        Set<String> inputErrors = new java.util.HashSet<>();
        for (Row r : rows) {
            String id = r.getString(0);
            perImage.merge(id, 1, Integer::sum);
            if (INPUT_ERROR.equals(r.getString(1))) {
                inputErrors.add(id);
            }
        }
        java.util.TreeSet<String> wrong = new java.util.TreeSet<>();
        Set<String> known = new java.util.HashSet<>(listed);
        for (String id : listed) {
            int n = perImage.getOrDefault(id, 0);
            if (inputErrors.contains(id) ? n != 1 : n != codecs) {
                wrong.add(id);
            }
        }
        for (String id : perImage.keySet()) {
            if (!known.contains(id)) {
                wrong.add(id);
            }
        }
        return new ArrayList<>(wrong);
    }

    /** The schedule a model codes with: the one asked for (checked against its family) or its family's default. */
    static String scheduleOf(LoadedModel model, String asked) {
        return model.family().checkSchedule(asked == null ? model.family().defaultSchedule() : asked);
    }

    /** Measures every codec on the images of one partition. */
    static final class MeasurePartition implements FlatMapFunction<Iterator<Row>, Row> {
        private final Broadcast<List<LoadedModel.ModelBytes>> modelBytes;
        private final String scheduleName;
        private final List<String> baselines;
        private final LongAccumulator done;
        private final LongAccumulator pixels;

        MeasurePartition(Broadcast<List<LoadedModel.ModelBytes>> modelBytes, String scheduleName, List<String> baselines,
                         LongAccumulator done, LongAccumulator pixels) {
            this.modelBytes = modelBytes;
            this.scheduleName = scheduleName;
            this.baselines = baselines;
            this.done = done;
            this.pixels = pixels;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws Exception {
            List<Row> out = new ArrayList<>();
            if (!rows.hasNext()) {
                return out.iterator();
            }
            String device = ExecutorModels.device();
            List<LoadedModel> models = new ArrayList<>();
            for (LoadedModel.ModelBytes b : modelBytes.value()) {
                models.add(ExecutorModels.model(b));
            }
            while (rows.hasNext()) {
                Row r = rows.next();
                String id = r.getString(3);
                byte[] png = (byte[]) r.get(2);
                RgbImage image;
                try {
                    if (png == null) {
                        throw InputListing.readFailure(r);
                    }
                    image = PngIo.read(png);
                } catch (IOException e) {
                    out.add(RowFactory.create(id, INPUT_ERROR, 0L, null, null, null, null, null, e.getMessage()));
                    done.add(1);
                    continue;
                }
                long px = image.pixelCount();
                for (LoadedModel model : models) {
                    String schedule = scheduleOf(model, scheduleName);
                    String codec = "llic:" + model.id() + ":" + schedule;
                    ExecutorModels.Acquired acquired = ExecutorModels.acquire(model, device);
                    List<NetworkEvaluator> ev = acquired.evaluators();
                    try {
                        Encoder.Result enc = new Encoder(model, ev, true).encode(image, schedule, png);
                        Decoder.Result dec = new Decoder(model, ev, Integer.MAX_VALUE).decode(enc.file());
                        out.add(RowFactory.create(id, codec, px, enc.stats().fileBits(), enc.stats().fileBits() / (double) px,
                                enc.stats().totalNanos() / 1e6, dec.stats().totalNanos() / 1e6,
                                dec.image().samePixels(image), null));
                    } catch (Exception e) {
                        out.add(RowFactory.create(id, codec, px, null, null, null, null, false, String.valueOf(e.getMessage())));
                    } finally {
                        ExecutorModels.release(model, acquired);
                    }
                }
                for (String b : baselines) {
                    try {
                        Baselines.Measure m = Baselines.measure(b, png, image);
                        out.add(RowFactory.create(id, b, px, m.bits(), m.bits() / (double) px, m.encodeMillis(),
                                m.decodeMillis(), m.lossless(), null));
                    } catch (Exception e) {
                        out.add(RowFactory.create(id, b, px, null, null, null, null, false, String.valueOf(e.getMessage())));
                    }
                }
                done.add(1);
                pixels.add(px);
            }
            return out.iterator();
        }
    }
}
