package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.runtime.DjlEvaluator;
import io.llic.runtime.JavaEvaluator;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;
import java.util.List;

/** The determinism checks every model must pass, shared by the codec tests. */
final class RoundTrips {
    private RoundTrips() {}

    /**
     * Encodes {@code image} along {@code schedule} with the Java evaluator, checks that DJL (1 and 2
     * threads) writes the same bytes, and that both evaluators decode it exactly with batches of 1, 7
     * and 100000 pixels. Returns the file.
     */
    static byte[] everywhere(LoadedModel model, RgbImage image, Schedule schedule) throws Exception {
        String name = schedule.name();
        byte[] file;
        try (NetworkEvaluator java = new JavaEvaluator(model.net(), 1)) {
            file = new Encoder(model, java, false).encode(image, schedule, null).file();
        }
        assertEquals(LlicHeader.Mode.LEARNED, LlicFile.readHeader(file).mode());
        for (int threads : new int[] {1, 2}) {
            try (NetworkEvaluator djl = new DjlEvaluator(model.net(), Device.cpu(), threads);
                 NetworkEvaluator java = new JavaEvaluator(model.net(), threads)) {
                assertArrayEquals(file, new Encoder(model, djl, false).encode(image, schedule, null).file(),
                        name + ": DJL and Java encoders disagree");
                for (NetworkEvaluator ev : List.of(djl, java)) {
                    for (int batch : new int[] {1, 7, 100_000}) {
                        RgbImage back = new Decoder(model, ev, batch).decode(file).image();
                        assertTrue(back.samePixels(image), name + " " + ev.description() + " batch " + batch);
                    }
                }
            }
        }
        return file;
    }
}
