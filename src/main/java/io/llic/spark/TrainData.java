package io.llic.spark;

import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.train.TrainConfig;
import io.llic.train.TrainImage;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;


/** Training data: listing, the stable validation split, loading, downsampling and caching the images per shard. */
final class TrainData {
    private static final Logger LOG = LoggerFactory.getLogger(TrainData.class);

    private TrainData() {}

    /** One file to load: where it is, its id, its downsampling factor, its shard. */
    record Source(String path, String id, int downsample, int shard) implements Serializable {}

    /** A decoded image, or why a file could not be used. */
    record Loaded(TrainImage image, String path, String problem) implements Serializable {}

    /** The training and validation images, each balanced over the shards. */
    record Split(List<Source> train, List<Source> validation) {}

    /**
     * Lists every input, holds out the validation images (stable per id), and balances each input's
     * images over the shards, input by input, so every shard gets a like mix of the inputs.
     */
    static Split split(org.apache.spark.sql.SparkSession spark, TrainConfig run) throws java.io.IOException {
        List<Source> train = new ArrayList<>();
        List<Source> validation = new ArrayList<>();
        for (int i = 0; i < run.inputs().size(); i++) {
            String input = run.inputs().get(i);
            int factor = run.downsample().get(i);
            List<InputListing.Item> items = InputListing.list(spark, input, run.glob());
            if (items.isEmpty()) {
                throw new IllegalArgumentException("input " + input + " has no files matching " + run.glob());
            }
            List<InputListing.Item> tr = new ArrayList<>();
            List<InputListing.Item> va = new ArrayList<>();
            for (InputListing.Item it : items) {
                String id = new Path(input).getName() + "/" + it.id();
                InputListing.Item scaled = new InputListing.Item(it.path(), id, it.sizeBytes(),
                        it.pixels() / ((long) factor * factor), 0);
                (isValidation(id, run.validation()) ? va : tr).add(scaled);
            }
            LOG.info("{}: {} images ({} for validation), downsampled by {}", input, items.size(), va.size(), factor);
            for (InputListing.Item it : InputListing.balance(tr, run.shards())) {
                train.add(new Source(it.path(), it.id(), factor, it.partition()));
            }
            for (InputListing.Item it : InputListing.balance(va, run.shards())) {
                validation.add(new Source(it.path(), it.id(), factor, it.partition()));
            }
        }
        return new Split(train, validation);
    }

    /** A stable pseudo-random split: an image is held out when the CRC-32 of its id falls below the fraction. */
    static boolean isValidation(String id, double fraction) {
        CRC32 crc = new CRC32();
        crc.update(id.getBytes(StandardCharsets.UTF_8));
        return crc.getValue() < fraction * (1L << 32);
    }

    static JavaRDD<Loaded> load(JavaSparkContext jsc, List<Source> sources, int shards, HadoopConf hadoop, int crop) {
        List<Tuple2<Integer, Source>> keyed = new ArrayList<>();
        for (Source s : sources) {
            keyed.add(new Tuple2<>(s.shard(), s));
        }
        // sorted within a shard so that the cached order (and hence the crops drawn) never depends on arrival
        return jsc.parallelizePairs(keyed, Math.max(1, Math.min(shards, keyed.size())))
                .partitionBy(new ExactPartitioner(shards))
                .values()
                .mapPartitions(it -> {
                    List<Source> list = new ArrayList<>();
                    it.forEachRemaining(list::add);
                    list.sort((x, y) -> x.id().compareTo(y.id()));
                    List<Loaded> loaded = new ArrayList<>();
                    for (Source s : list) {
                        loaded.add(loadOne(s, hadoop, crop));
                    }
                    return loaded.iterator();
                }, true)
                .persist(StorageLevel.MEMORY_ONLY());
    }

    static Loaded loadOne(Source s, HadoopConf hadoop, int crop) {
        try {
            RgbImage rgb = PngIo.read(InputListing.readFile(s.path(), hadoop.get()));
            TrainImage image = TrainImage.of(s.id(), rgb).downsample(s.downsample());
            if (image.width() < crop || image.height() < crop) {
                return new Loaded(null, s.path(), image.width() + "x" + image.height() + " after downsampling by "
                        + s.downsample() + " is smaller than the crop size " + crop);
            }
            return new Loaded(image, s.path(), null);
        } catch (Exception e) {
            return new Loaded(null, s.path(), e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Loads (and caches) the images; returns {images, pixels} and adds "path: problem" of each unusable file. */
    static long[] countAndReport(JavaRDD<Loaded> rdd, List<String> skipped) {
        List<Tuple2<Long, String>> rows = rdd.map(l -> l.image() != null ? new Tuple2<>(l.image().pixels(), (String) null)
                : new Tuple2<>(-1L, l.path() + ": " + l.problem())).collect();
        long images = 0;
        long pixels = 0;
        for (Tuple2<Long, String> r : rows) {
            if (r._2() != null) {
                skipped.add(r._2());
                LOG.warn("skipping {}", r._2());
            } else {
                images++;
                pixels += r._1();
            }
        }
        return new long[] {images, pixels};
    }

    static String skippedNote(List<String> skipped) {
        return skipped.isEmpty() ? "" : " (skipped: " + String.join("; ", skipped) + ")";
    }
}
