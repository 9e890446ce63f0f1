package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.RgbImage;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.runtime.DjlEvaluator;
import io.llic.runtime.JavaEvaluator;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;
import java.util.ArrayList;
import java.util.List;

/** The determinism checks every model must pass, shared by the codec tests. */
final class RoundTrips {
    private RoundTrips() {}

    static byte[] everywhere(LoadedModel model, RgbImage image, Schedule schedule) throws Exception {
        return everywhere(model, image, schedule.name());
    }

    /** One evaluator per network of the model. */
    static List<NetworkEvaluator> evaluators(LoadedModel model, boolean djl, int threads) {
        List<NetworkEvaluator> list = new ArrayList<>();
        for (FixedPointNet net : model.nets()) {
            list.add(djl ? new DjlEvaluator(net, Device.cpu(), threads) : new JavaEvaluator(net, threads));
        }
        for (io.llic.model.FixedPointConvNet net : model.convNets()) {
            list.add(djl ? new io.llic.runtime.DjlConvEvaluator(net, threads) : new io.llic.runtime.JavaConvEvaluator(net));
        }
        return list;
    }

    static void close(List<NetworkEvaluator> evaluators) {
        evaluators.forEach(NetworkEvaluator::close);
    }

    /**
     * Encodes {@code image} along {@code schedule} with the Java evaluator, checks that DJL (1 and 2
     * threads) writes the same bytes, and that both evaluators decode it exactly with batches of 1, 7
     * and 100000 positions. Returns the file.
     */
    static byte[] everywhere(LoadedModel model, RgbImage image, String schedule) throws Exception {
        return everywhere(model, image, schedule, Encoder.MODEL_TILE);
    }

    /** As {@link #everywhere(LoadedModel, RgbImage, String)}, with tiles of side {@code tile} (0: none). */
    static byte[] everywhere(LoadedModel model, RgbImage image, String schedule, int tile) throws Exception {
        byte[] file;
        List<NetworkEvaluator> java1 = evaluators(model, false, 1);
        try {
            file = new Encoder(model, java1, false).tiled(tile).encode(image, schedule, null).file();
        } finally {
            close(java1);
        }
        assertEquals(LlicHeader.Mode.LEARNED, LlicFile.readHeader(file).mode());
        for (int threads : new int[] {1, 2}) {
            List<NetworkEvaluator> djl = evaluators(model, true, threads);
            List<NetworkEvaluator> java = evaluators(model, false, threads);
            try {
                assertArrayEquals(file, new Encoder(model, djl, false).tiled(tile).encode(image, schedule, null).file(),
                        schedule + ": DJL and Java encoders disagree");
                for (List<NetworkEvaluator> ev : List.of(djl, java)) {
                    for (int batch : new int[] {1, 7, 100_000}) {
                        RgbImage back = new Decoder(model, ev, batch).decode(file).image();
                        assertTrue(back.samePixels(image), schedule + " " + ev.get(0).description() + " batch " + batch);
                    }
                }
            } finally {
                close(djl);
                close(java);
            }
        }
        return file;
    }
}
