package io.llic.train.interp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.codec.Encoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.model.interp.InterpModel;
import io.llic.runtime.JavaEvaluator;
import io.llic.runtime.NetworkEvaluator;
import io.llic.train.Adam;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The interp family's training pieces: the loss learns, its gradient is the loss's, and export codes what was trained. */
class InterpTrainTest {
    static RgbImage kodakCrop(int row, int col, int size) throws Exception {
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim05.png")));
        return kodim.crop(row, col, size, size);
    }

    /**
     * The gradient is the loss's: along the gradient of each band's each layer (a unit direction u),
     * the central difference (f(p + h u) - f(p - h u)) / 2h equals |g| (the analytic g . u). Single
     * parameters would drown in float32 rounding of a loss of 10^4 bits; a whole layer's direction,
     * with h chosen so that f moves by about one bit, does not.
     */
    @Test
    void gradientMatchesCentralDifferencesOfEveryBandAndLayer() throws Exception {
        InterpNet net = new InterpNet(4);
        double[] p = net.init(3);
        InterpBatch batch = InterpSampler.examples(kodakCrop(100, 200, 24));
        try (InterpLoss loss = new InterpLoss(net, 1, "cpu")) {
            // first fit the batch a little: at the random start many samples sit in the far tails, where
            // float32 CDF differences cancel to 0 and the loss jumps (flat for the gradient, not for f)
            Adam adam = new Adam(p.length);
            for (int t = 1; t <= 40; t++) {
                adam.step(p, loss.evaluate(p, batch, 1.0 / batch.subpixels(), true).gradient(), t, 3e-3);
            }
            double[] g = loss.evaluate(p, batch, 1.0, true).gradient();
            for (int band = 0; band < 3; band++) {
                for (int l = 0; l < 3; l++) {
                    int from = net.weightOffset(band, l);
                    int to = net.biasOffset(band, l) + net.out(l);
                    double norm = 0;
                    for (int i = from; i < to; i++) {
                        norm += g[i] * g[i];
                    }
                    norm = Math.sqrt(norm);
                    double h = 1.0 / norm;
                    double[] up = p.clone();
                    double[] down = p.clone();
                    for (int i = from; i < to; i++) {
                        up[i] += h * g[i] / norm;
                        down[i] -= h * g[i] / norm;
                    }
                    double numeric = (loss.evaluate(up, batch, 1, false).bits() - loss.evaluate(down, batch, 1, false).bits())
                            / (2 * h);
                    assertEquals(norm, numeric, 0.15 * norm, "band " + band + " layer " + l);
                }
            }
        }
    }

    /**
     * A few Adam steps lower the loss; the exported fixed-point networks then code a Kodak crop in the
     * bits the float loss predicts (plus the stored coarsest samples), along both schedules for interp.
     * This ties the sampler's windows, the coupling, the Y offset and the grouped layout to the codec.
     */
    @Test
    void trainedNetworksExportToTheCodecsBits(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        InterpNet net = new InterpNet(8);
        double[] p = net.init(4);
        RgbImage crop = kodakCrop(64, 320, 64);
        InterpBatch batch = InterpSampler.examples(crop);
        Adam adam = new Adam(p.length);
        double first;
        double last;
        try (InterpLoss loss = new InterpLoss(net, 1, "cpu")) {
            first = loss.evaluate(p, batch, 1, false).bits();
            for (int t = 1; t <= 60; t++) {
                var r = loss.evaluate(p, batch, 1.0 / batch.subpixels(), true);
                adam.step(p, r.gradient(), t, 3e-3);
            }
            last = loss.evaluate(p, batch, 1, false).bits();
        }
        assertTrue(last < 0.8 * first, "loss fell from " + first + " to " + last);
        LoadedModel model = LoadedModel.of(dir, "interp-test", InterpModel.FAMILY, net.export(p), null, Map.of());
        List<NetworkEvaluator> ev = new ArrayList<>();
        for (var n : model.nets()) {
            ev.add(new JavaEvaluator(n, 1));
        }
        try {
            Encoder.Result r = new Encoder(model, ev, false).encode(crop, "interp", null);
            // stored: 4 range values (9 bits each) and the 2x2 coarsest x00 (Y 8 bits, chroma log2 of its range)
            double stored = 4 * 9 + 4 * 8 + 8 * 9;
            double predicted = r.stats().predictedBits();
            assertEquals(last + stored, predicted, 0.02 * predicted, "codec bits vs trained loss");
        } finally {
            ev.forEach(NetworkEvaluator::close);
        }
    }
}
