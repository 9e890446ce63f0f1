package io.llic.spark;

import io.llic.codec.AdaptationCalibration;
import io.llic.codec.Encoder;
import io.llic.model.Adaptation;
import io.llic.image.RgbImage;
import io.llic.model.Families;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.train.FamilyLoss;
import io.llic.train.TrainBatch;
import io.llic.train.TrainableFamilies;
import io.llic.train.TrainConfig;
import io.llic.train.TrainImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;


/** What an exported model codes: float versus fixed-point bits on whole images, and the adaptation stage's calibration. */
final class TrainMeasurement {
    private static final Logger LOG = LoggerFactory.getLogger(TrainMeasurement.class);

    private TrainMeasurement() {}

    /** What {@link #measure} found: the figures for the model card, and the adaptation stage to ship (or null). */
    record Measured(Map<String, Object> figures, Adaptation adaptation) {}

    /** Symbols per float-loss batch when measuring whole images. */
    static final int MEASURE_BATCH_SYMBOLS = 49152;

    /**
     * Bits per pixel of whole images (up to {@code maxPixels}, validation images when there are any)
     * with the float network and with the exported fixed-point networks as the codec codes them (along
     * the schedule the loss models, {@link io.llic.train.TrainableFamily#lossSchedule}, by default the
     * family's default schedule), then the files of every schedule; for an adaptive family, the calibration of the adaptation stage on
     * the same images, and then the file bits with it.
     */
    static Measured measure(JavaRDD<TrainData.Loaded> rdd, String what, TrainConfig config, double[] params, List<FixedPointNet> fixed,
                            List<io.llic.model.FixedPointConvNet> conv, long maxPixels, boolean adapt) throws IOException {
        LoadedModel.ModelBytes bytes = LoadedModel.of(java.nio.file.Path.of("measure"), "measure", config.family(), fixed,
                conv, null, Map.of()).toFiles();
        List<Tuple2<String, Long>> all = rdd.filter(l -> l.image() != null)
                .map(l -> new Tuple2<>(l.image().id(), l.image().pixels())).collect();
        List<Tuple2<String, Long>> sorted = new ArrayList<>(all);
        sorted.sort((x, y) -> x._1().compareTo(y._1()));
        Set<String> chosen = new java.util.HashSet<>();
        long pixels = 0;
        for (Tuple2<String, Long> t : sorted) {
            if (pixels > 0 && pixels + t._2() > maxPixels) {
                continue;
            }
            chosen.add(t._1());
            pixels += t._2();
        }
        JavaRDD<TrainData.Loaded> images = rdd.filter(l -> l.image() != null && chosen.contains(l.image().id()));
        int limit = Adaptation.DEFAULT_LIMIT;
        int minCount = Adaptation.DEFAULT_MIN_COUNT;
        // pass 1: the float network's bits, and the fixed-point network's: for an adaptive family its
        // bits without adaptation plus the calibration totals; otherwise the files of every schedule
        List<String> schedules = Families.find(config.family()).schedules();
        String lossSchedule = TrainableFamilies.byName(config.family()).lossSchedule();
        int measured = lossSchedule == null ? 0 : schedules.indexOf(lossSchedule); // the schedule the loss models
        if (measured < 0) {
            throw new IllegalStateException("family " + config.family() + " names loss schedule " + lossSchedule
                    + ", not one of its schedules " + schedules);
        }
        List<Tuple2<double[], AdaptationCalibration.Totals>> rows = images.map(l -> {
            TrainImage im = l.image();
            String device = ExecutorModels.device();
            String lossDevice = ExecutorModels.djlDevice(device);
            FamilyLoss lm = TrainBackend.acquire(config, lossDevice);
            double floatBits = 0;
            try {
                java.util.Iterator<TrainBatch> pieces = TrainableFamilies.byName(config.family()).wholeImage(im,
                        MEASURE_BATCH_SYMBOLS);
                while (pieces.hasNext()) {
                    floatBits += lm.evaluate(params, pieces.next(), 0, false).bits();
                }
            } finally {
                TrainBackend.release(config, lossDevice, lm);
            }
            LoadedModel m = ExecutorModels.model(bytes);
            var acquired = ExecutorModels.acquire(m, device);
            var ev = acquired.evaluators();
            try {
                RgbImage rgb = new RgbImage(im.width(), im.height(), im.samples());
                if (adapt) {
                    return new Tuple2<>(new double[] {im.pixels(), floatBits}, AdaptationCalibration.totals(m, ev, rgb,
                            m.family().defaultSchedule(), limit, minCount));
                }
                // {pixels, float bits, then per schedule: predicted bits, file bits}
                double[] row = new double[2 + 2 * schedules.size()];
                row[0] = im.pixels();
                row[1] = floatBits;
                for (int k = 0; k < schedules.size(); k++) {
                    Encoder.Result r = new Encoder(m, ev, false).encode(rgb, schedules.get(k), null);
                    row[2 + 2 * k] = r.stats().predictedBits();
                    row[3 + 2 * k] = r.stats().fileBits();
                }
                return new Tuple2<>(row, new AdaptationCalibration.Totals(0, 0, row[2 + 2 * measured]));
            } finally {
                ExecutorModels.release(m, acquired);
            }
        }).collect();
        double px = 0;
        double fl = 0;
        double[] perSchedule = new double[2 * schedules.size()];
        AdaptationCalibration.Totals totals = new AdaptationCalibration.Totals(0, 0, 0);
        for (Tuple2<double[], AdaptationCalibration.Totals> r : rows) {
            px += r._1()[0];
            fl += r._1()[1];
            totals = totals.plus(r._2());
            for (int k = 0; k < perSchedule.length && !adapt; k++) {
                perSchedule[k] += r._1()[2 + k];
            }
        }
        double pr = totals.networkBits();
        Adaptation adaptation = adapt ? Adaptation.defaults(totals.calibrationQ12()) : null;
        double adaptedBits = 0;
        double fi = perSchedule.length > 1 ? perSchedule[1] : 0;
        if (adapt) {
            // pass 2: the files the shipped model (with its calibrated adaptation stage) writes
            LoadedModel.ModelBytes shipped = LoadedModel.of(java.nio.file.Path.of("measure"), "measure", config.family(), fixed,
                    conv, adaptation, Map.of()).toFiles();
            // {predicted bits, file bits} per schedule, the default first
            List<double[]> files = images.map(l -> {
                TrainImage im = l.image();
                String device = ExecutorModels.device();
                LoadedModel m = ExecutorModels.model(shipped);
                var acquired = ExecutorModels.acquire(m, device);
                var ev = acquired.evaluators();
                try {
                    double[] row = new double[2 * schedules.size()];
                    RgbImage rgb = new RgbImage(im.width(), im.height(), im.samples());
                    for (int k = 0; k < schedules.size(); k++) {
                        Encoder.Result r = new Encoder(m, ev, false).encode(rgb, schedules.get(k), null);
                        row[2 * k] = r.stats().predictedBits();
                        row[2 * k + 1] = r.stats().fileBits();
                    }
                    return row;
                } finally {
                    ExecutorModels.release(m, acquired);
                }
            }).collect();
            for (double[] f : files) {
                for (int k = 0; k < perSchedule.length; k++) {
                    perSchedule[k] += f[k];
                }
            }
            adaptedBits = perSchedule[0];
            fi = perSchedule[1];
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("measuredOn", what);
        m.put("images", rows.size());
        m.put("pixels", (long) px);
        m.put("floatBpp", round4(fl / px));
        m.put("fixedPointPredictedBpp", round4(pr / px));
        m.put("quantisationCostPercent", round4(100 * (pr / fl - 1)));
        if (measured > 0) {
            m.put("fixedPointSchedule", schedules.get(measured)); // the schedule of the two lines above
        }
        if (adaptation != null) {
            m.put("adaptationCalibrationQ12", adaptation.calibrationQ12());
            m.put("adaptedPredictedBpp", round4(adaptedBits / px));
            m.put("adaptationGainPercent", round4(100 * (1 - adaptedBits / pr)));
        }
        m.put("fileSchedule", schedules.get(0));
        m.put("fileBpp", round4(fi / px));
        for (int k = 1; k < schedules.size(); k++) {
            m.put("fileBpp." + schedules.get(k), round4(perSchedule[2 * k + 1] / px));
        }
        LOG.info(String.format(Locale.ROOT, "%s (%d, %d pixels): float %.4f bpp, fixed point %.4f bpp (+%.3f%%)%s, files %.4f bpp",
                what, rows.size(), (long) px, fl / px, pr / px, 100 * (pr / fl - 1),
                adaptation == null ? "" : String.format(Locale.ROOT, ", with adaptation %.4f bpp (-%.2f%%)", adaptedBits / px,
                        100 * (1 - adaptedBits / pr)), fi / px));
        return new Measured(m, adaptation);
    }

    static double round4(double v) {
        return Math.round(v * 1e4) / 1e4;
    }
}
