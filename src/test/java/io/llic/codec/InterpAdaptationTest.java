package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.entropy.CorruptStreamException;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.image.YCoCgR;
import io.llic.model.Adaptation;
import io.llic.model.LoadedModel;
import io.llic.model.interp.InterpModel;
import io.llic.model.interp.InterpPlan;
import io.llic.prob.MixtureCdf;
import io.llic.runtime.DjlEvaluator;
import io.llic.runtime.NetworkEvaluator;
import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The interp family's adaptation stage: what it learns, on synthetic planes and on a real photograph. */
class InterpAdaptationTest {
    /** A network that predicts every sample the same: Y around 127, Co and Cg around 0, sigma 3, no coupling. */
    static final class Constant implements NetworkEvaluator {
        @Override
        public void evaluate(long[] inputs, int count, long[] outputs) {
            for (int p = 0; p < count; p++) {
                int o = p * InterpModel.OUTPUTS;
                Arrays.fill(outputs, o, o + InterpModel.OUTPUTS, 0);
                for (int k = 0; k < 15; k++) {
                    outputs[o + InterpModel.SIGMA + k] = (3L << MixtureCdf.PARAM_FRACTION_BITS) / 255;
                }
            }
        }

        @Override
        public String description() {
            return "constant";
        }

        @Override
        public void close() {}
    }

    /** Bits per channel (Y, Co, Cg) of the network-coded samples of {@code image} along {@code schedule}. */
    static double[] channelBits(RgbImage image, String schedule, Adaptation adaptation) throws CorruptStreamException {
        InterpPlan plan = InterpPlan.encoding(schedule, image, adaptation, false);
        double[] bits = new double[3];
        List<NetworkEvaluator> ev = List.of(new Constant(), new Constant(), new Constant());
        StepLoop loop = new StepLoop(plan, ev, Encoder.ENCODE_BATCH, Encoder.ENCODE_BATCH);
        loop.run((stream, cdf, known) -> {
            if (cdf instanceof MixtureCdf) {
                bits[channelOf(cdf)] += cdf.bits(known);
            }
            return known;
        });
        return bits;
    }

    // the loop codes a step's channels in turn (Y of every sample, then Co, then Cg): count them by alphabet size
    private static int channelOf(io.llic.prob.IntCdf cdf) {
        return cdf.symbols() == 256 ? 0 : cdf.symbols() == CO_VALUES ? 1 : 2;
    }

    static final int CO_VALUES = 2 * 60 + 1;

    /** An image whose Y is smooth (neighbours' errors predict a sample's) and whose Co follows Y exactly. */
    static RgbImage smoothWithCoupledChroma(long seed) {
        int w = 128;
        int h = 128;
        Random r = new Random(seed);
        double a = r.nextDouble() * 6;
        short[] y = new short[w * h];
        short[] co = new short[w * h];
        short[] cg = new short[w * h];
        for (int i = 0; i < w * h; i++) {
            int row = i / w;
            int col = i % w;
            double v = 127 + 60 * Math.sin(a + row / 9.0) * Math.cos(col / 7.0);
            y[i] = (short) Math.round(v + r.nextInt(3) - 1);
            co[i] = (short) ((y[i] - 127) / 2 * 2); // tracks Y
            cg[i] = (short) (r.nextInt(21) - 10); // noise: nothing to learn
        }
        // the Co range sets its alphabet (2 * 60 + 1 values around 0 when Co spans -60..60)
        co[0] = -60;
        co[1] = 60;
        YCoCgR.Planes planes = new YCoCgR.Planes(w, h);
        System.arraycopy(y, 0, planes.y(), 0, y.length);
        System.arraycopy(co, 0, planes.co(), 0, co.length);
        System.arraycopy(cg, 0, planes.cg(), 0, cg.length);
        return YCoCgR.inverse(planes);
    }

    @Test
    void theErrorPredictorLearnsWhatTheNetworkMissed() throws Exception {
        RgbImage image = smoothWithCoupledChroma(5);
        for (String schedule : List.of("interp", "checkerboard")) {
            double[] without = channelBits(image, schedule, new Adaptation(false, false, false, 1024, 8, 3600));
            double[] with = channelBits(image, schedule, new Adaptation(false, false, true, 1024, 8, 3600));
            String what = schedule + ": with the predictor " + Arrays.toString(with) + ", without " + Arrays.toString(without);
            assertTrue(with[0] < 0.7 * without[0], "Y (smooth): " + what);
            assertTrue(with[1] < 0.7 * without[1], "Co (follows Y): " + what);
            assertEquals(without[2], with[2], 0.03 * without[2], "Cg is noise, nothing to learn: " + what);
        }
    }

    /**
     * Noise whose every odd column repeats the column to its left: at the finest level x01 equals its
     * left x00 neighbour and x10 its right x11 neighbour (coded before it in both schedules), at
     * distance 1, while everything further away is independent. Only a predictor that reads the
     * neighbours where the level puts them can learn it.
     */
    @Test
    void theErrorPredictorReadsTheNeighboursAtTheLevelsDistance() throws Exception {
        int w = 96;
        int h = 96;
        Random r = new Random(11);
        YCoCgR.Planes planes = new YCoCgR.Planes(w, h);
        for (int i = 0; i < w * h; i++) {
            int col = i % w;
            planes.y()[i] = col % 2 == 1 ? planes.y()[i - 1] : (short) (97 + r.nextInt(61));
            planes.co()[i] = (short) (r.nextInt(5) - 2);
            planes.cg()[i] = (short) (r.nextInt(5) - 2);
        }
        RgbImage image = YCoCgR.inverse(planes);
        for (String schedule : List.of("interp", "checkerboard")) {
            double[] without = channelBits(image, schedule, new Adaptation(false, false, false, 1024, 8, 3600));
            double[] with = channelBits(image, schedule, new Adaptation(false, false, true, 1024, 8, 3600));
            assertTrue(with[0] < 0.8 * without[0], schedule + ": Y bits with the predictor " + with[0] + ", without " + without[0]);
        }
    }

    @Test
    void withoutAnyPartTheStageLeavesTheNetworkAlone() throws Exception {
        RgbImage image = smoothWithCoupledChroma(6);
        double[] none = channelBits(image, "interp", null);
        double[] off = channelBits(image, "interp", new Adaptation(false, false, false, 1024, 8, 3600));
        assertEquals(Arrays.toString(none), Arrays.toString(off));
    }

    /**
     * The committed interp model on a photograph not in its training set: its calibration is measured
     * as train-job measures it, and each part of the stage codes fewer bits than the network alone.
     */
    @Test
    void lowersTheCodeLengthOfARealImage() throws Exception {
        LoadedModel model = LoadedModel.load(Path.of("models/interp-2"));
        RgbImage aerial = PngIo.read(Files.readAllBytes(TestData.shared().resolve("datasets/aerials/2.1.07.png")))
                .crop(64, 64, 256, 192);
        List<NetworkEvaluator> ev = new ArrayList<>();
        model.nets().forEach(n -> ev.add(new DjlEvaluator(n, Device.cpu(), 1)));
        try {
            int calibration = AdaptationCalibration.measureQ12(model, ev, List.of(PngIo.read(Files.readAllBytes(
                    TestData.shared().resolve("datasets/train/wikipedia_photos_025_049/025.png"))).crop(300, 300, 192, 192)),
                    "interp", Adaptation.DEFAULT_LIMIT, Adaptation.DEFAULT_MIN_COUNT);
            assertTrue(calibration > 1000 && calibration < 8000, "calibration " + calibration);
            for (String schedule : List.of("interp", "checkerboard")) {
                double plain = new Encoder(model, ev, false).encode(aerial, schedule, null).stats().predictedBits();
                Encoder.Result off = new Encoder(model.withAdaptation(new Adaptation(false, false, false, 1024, 8, calibration),
                        "off"), ev, false).measuringUnadapted(true).encode(aerial, schedule, null);
                assertEquals(plain, off.stats().predictedBits(), 1e-9 * plain, "a stage with every part off changes nothing");
                LoadedModel all = model.withAdaptation(Adaptation.defaults(calibration), "all");
                Encoder.Result r = new Encoder(all, ev, false).measuringUnadapted(true).encode(aerial, schedule, null);
                assertEquals(off.stats().unadaptedBits(), r.stats().unadaptedBits(), 1e-9 * plain,
                        "the network's own bits do not depend on the stage (" + schedule + ")");
                assertTrue(r.stats().unadaptedBits() < plain, "the stored values are not in the network's bits");
                double lms = new Encoder(model.withAdaptation(new Adaptation(false, false, true, 1024, 8, calibration), "lms"),
                        ev, false).encode(aerial, schedule, null).stats().predictedBits();
                double classes = new Encoder(model.withAdaptation(new Adaptation(true, true, false, 1024, 8, calibration),
                        "classes"), ev, false).encode(aerial, schedule, null).stats().predictedBits();
                String what = schedule + ": network " + plain + ", predictor " + lms + ", classes " + classes + ", all "
                        + r.stats().predictedBits();
                assertTrue(lms < 0.995 * plain, what);
                assertTrue(classes < 0.995 * plain, what);
                assertTrue(r.stats().predictedBits() < Math.min(lms, classes), what);
            }
        } finally {
            ev.forEach(NetworkEvaluator::close);
        }
    }
}
