package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.format.LlicFile;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.runtime.Evaluators;
import io.llic.runtime.NetworkEvaluator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Files coded with a published model decode for ever: bitstreams written with {@code llic-causal-1}
 * and {@code llic-causal-2} (with its adaptation stage), {@code llic-causal-3} and
 * {@code llic-causal-aerials-1} (fixtures written after their release), by the builds that released them and before
 * the model-family seam, with {@code llic-causal-4} (the first with the error predictor), with the interp
 * models, with {@code llic-l3c-2} (along both l3c schedules), {@code llic-l3c-3} and {@code llic-l3c-4}, are kept
 * as fixtures, and every later build must decode them exactly,
 * whatever changes in the codec.
 */
class PublishedModelsTest {
    @Test
    void filesCodedWithLlicCausal1StillDecode() throws Exception {
        decodesFixtures("models/causal", "llic-causal-1");
    }

    @Test
    void filesCodedWithLlicCausal2StillDecode() throws Exception {
        LoadedModel model = decodesFixtures("models/causal-2", "llic-causal-2");
        assertNotNull(model.adaptation(), "llic-causal-2 codes with its adaptation stage");
    }

    /** Fixtures written on 2026-12-03, after the model's release: later builds must decode them. */
    @Test
    void filesCodedWithLlicCausal3StillDecode() throws Exception {
        LoadedModel model = decodesFixtures("models/causal-3", "llic-causal-3");
        assertNotNull(model.adaptation(), "llic-causal-3 codes with its adaptation stage");
    }

    /** As llic-causal-3's: written on 2026-12-03. */
    @Test
    void filesCodedWithLlicCausalAerials1StillDecode() throws Exception {
        decodesFixtures("models/causal-aerials", "llic-causal-aerials-1");
    }

    @Test
    void filesCodedWithLlicCausal4StillDecode() throws Exception {
        LoadedModel model = decodesFixtures("models/causal-4", "llic-causal-4");
        assertTrue(model.adaptation() != null && model.adaptation().lms(), "llic-causal-4 codes with the error predictor");
    }

    @Test
    void filesCodedWithLlicInterp1StillDecode() throws Exception {
        decodesFixtures("models/interp", "llic-interp-1", "interp", "checkerboard");
    }

    @Test
    void filesCodedWithLlicInterp2StillDecode() throws Exception {
        decodesFixtures("models/interp-2", "llic-interp-2", "interp", "checkerboard");
    }

    @Test
    void filesCodedWithLlicInterp3StillDecode() throws Exception {
        LoadedModel model = decodesFixtures("models/interp-3", "llic-interp-3", "interp", "checkerboard");
        assertTrue(model.adaptation() != null && model.adaptation().lms(), "llic-interp-3 codes with the interp family's stage");
    }

    /**
     * Written by the Java evaluator in learned mode, decoded here with DJL; its networks are version 2
     * (varints). Along both l3c schedules: {@code l3c} (uniform z3, written by the build that released the
     * model) and {@code l3c-adaptive} (z3 under adaptive counts, written on 2026-12-03 by d7a60d8).
     */
    @Test
    void filesCodedWithLlicL3c2StillDecode() throws Exception {
        LoadedModel model = decodesFixtures("models/l3c-2", "llic-l3c-2", "l3c", "l3c-adaptive");
        assertTrue(model.convNets().stream().allMatch(io.llic.model.FixedPointConvNet::compact));
        assertArrayEquals(Files.readAllBytes(Path.of("models/l3c-2/weights.bin")), model.toFiles().weights());
        assertEquals(io.llic.format.LlicHeader.Mode.LEARNED,
                LlicFile.readHeader(Files.readAllBytes(Path.of("src/test/resources/fixtures/llic-l3c-2-l3c.llic"))).mode());
    }

    /**
     * llic-l3c-3, the first l3c model smaller than PNG on Kodak, along l3c-adaptive (its default when it
     * was released), l3c-predictive (the family's default for most of 2026-12-03) and l3c-logistic (the
     * default since): the corrections' arithmetic is part of the format.
     */
    @Test
    void filesCodedWithLlicL3c3StillDecode() throws Exception {
        LoadedModel model = decodesFixtures("models/l3c-3", "llic-l3c-3", "l3c-adaptive", "l3c-predictive", "l3c-logistic");
        assertArrayEquals(Files.readAllBytes(Path.of("models/l3c-3/weights.bin")), model.toFiles().weights());
    }

    /**
     * llic-l3c-4, the first l3c model with the checkerboard context (network C1: the image in two
     * halves), along l3c-predictive: C1's pass and the two halves' order are part of the format.
     */
    @Test
    void filesCodedWithLlicL3c4StillDecode() throws Exception {
        LoadedModel model = decodesFixtures("models/l3c-4", "llic-l3c-4", "l3c-predictive");
        assertEquals(7, model.convNets().size(), "llic-l3c-4 has C1");
        assertArrayEquals(Files.readAllBytes(Path.of("models/l3c-4/weights.bin")), model.toFiles().weights());
    }

    /** The committed fixtures {@code <id>-<schedule>.llic} (default: the causal schedules) decode to the synthetic image. */
    private static LoadedModel decodesFixtures(String dir, String id, String... schedules) throws Exception {
        LoadedModel model = LoadedModel.load(Path.of(dir));
        assertEquals(id, model.id());
        RgbImage expected = TestData.syntheticImage(48, 32, 5);
        for (String schedule : schedules.length > 0 ? schedules : new String[] {"wavefront", "diagonal"}) {
            byte[] file = Files.readAllBytes(Path.of("src/test/resources/fixtures/" + id + "-" + schedule + ".llic"));
            assertEquals(id, LlicFile.readHeader(file).modelId());
            assertEquals(schedule, LlicFile.readHeader(file).schedule());
            java.util.List<NetworkEvaluator> ev = Evaluators.forModel(Evaluators.DJL, model, "cpu", 1);
            try {
                assertTrue(new Decoder(model, ev, 100).decode(file).image().samePixels(expected), id + " " + schedule);
            } finally {
                ev.forEach(NetworkEvaluator::close);
            }
        }
        return model;
    }
}
