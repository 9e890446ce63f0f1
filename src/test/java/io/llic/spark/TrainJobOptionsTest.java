package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.train.TrainConfig;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** train-job's option handling that needs no Spark session. */
class TrainJobOptionsTest {
    @Test
    void recordedCommandsCanBePastedIntoAShell() {
        assertEquals("--glob '{2.1.0[1-6],2.2.0[1-8]}.png' --lr 3e-4 --input s3a://b/x,../y 'it'\\''s' ''",
                TrainOptions.shellWords(List.of("--glob", "{2.1.0[1-6],2.2.0[1-8]}.png", "--lr", "3e-4", "--input",
                        "s3a://b/x,../y", "it's", "")));
    }

    @Test
    void replanningIsAllowedOnlyWhereNoStepTakenChangesItsRate() {
        TrainConfig stable = TrainOptions.parse(new String[] {"--input", "x", "--output", "o", "--lr-schedule", "wsd",
            "--steps", "100", "--warmup", "10"}, 2).config();
        TrainConfig extend = TrainOptions.parse(new String[] {"--output", "o", "--resume", "--steps", "300"}, 2).config();
        assertEquals(300, TrainOptions.reconcile(stable, extend, Set.of("steps"), 100).steps());
        TrainConfig cool = TrainOptions.parse(new String[] {"--output", "o", "--resume", "--cooldown", "40"}, 2).config();
        TrainConfig cooling = TrainOptions.reconcile(stable, cool, Set.of("cooldown"), 100);
        assertEquals(140, cooling.steps());
        assertEquals(100, cooling.stableEnd());
        // extending once the cool-down has begun would rewrite the rates of steps already taken
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainOptions.reconcile(cooling, extend, Set.of("steps"), 120));
        assertTrue(e.getMessage().contains("step 101") && e.getMessage().contains("--resume-from"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.reconcile(stable, extend, Set.of("steps"), 400));
        TrainConfig cosine = TrainOptions.parse(new String[] {"--input", "x", "--output", "o", "--steps", "100"}, 2).config();
        e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.reconcile(cosine, cool, Set.of("cooldown"), 50));
        assertTrue(e.getMessage().contains("wsd"), e.getMessage());
    }

    @Test
    void rateWarmupAndPyramidStartAreL3cRunSettings() {
        TrainConfig l3c = TrainOptions.parse(new String[] {"--family", "l3c", "--input", "x", "--output", "o", "--steps", "100",
            "--rate-warmup", "40"}, 2).config();
        assertEquals(40, l3c.rateWarmup());
        assertEquals(0.5, l3c.rateWeight(20), 1e-12);
        assertEquals(0, TrainOptions.parse(new String[] {"--family", "l3c", "--input", "x", "--output", "o", "--steps", "100"},
                2).config().rateWarmup(), "off by default");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {
            "--input", "x", "--output", "o", "--steps", "100", "--rate-warmup", "40"}, 2));
        assertTrue(e.getMessage().contains("l3c"), e.getMessage());
        TrainConfig pyramid = TrainOptions.parse(new String[] {"--family", "l3c", "--input", "x", "--output", "o", "--steps",
            "100", "--start", "pyramid", "--freeze-encoders", "30"}, 2).config();
        assertEquals("pyramid", pyramid.start());
        assertEquals(30, pyramid.freezeEncoders());
        e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--input", "x", "--output",
            "o", "--steps", "100", "--freeze-encoders", "30"}, 2));
        assertTrue(e.getMessage().contains("l3c"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--input", "x", "--output",
            "o", "--steps", "100", "--start", "pyramid"}, 2));
        assertTrue(e.getMessage().contains("another family"), e.getMessage());
        assertEquals("haar", TrainOptions.parse(new String[] {"--family", "l3c", "--input", "x", "--output", "o", "--steps",
            "100", "--start", "haar"}, 2).config().start());
        e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--family", "interp",
            "--input", "x", "--output", "o", "--steps", "100", "--start", "haar"}, 2));
        assertTrue(e.getMessage().contains("another family"), e.getMessage());
        // the checkerboard context: an l3c setting, none by default, one of two values
        assertEquals("checkerboard", TrainOptions.parse(new String[] {"--family", "l3c", "--input", "x", "--output", "o",
            "--steps", "100", "--image-context", "checkerboard"}, 2).config().imageContext());
        assertEquals("none", l3c.imageContext());
        e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--input", "x", "--output",
            "o", "--steps", "100", "--image-context", "checkerboard"}, 2));
        assertTrue(e.getMessage().contains("--image-context belongs to --family l3c"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--family", "l3c", "--input",
            "x", "--output", "o", "--steps", "100", "--image-context", "quincunx"}, 2));
        assertTrue(e.getMessage().contains("--image-context is one of [none, checkerboard]"), e.getMessage());
        // a resumed run keeps its warm-up; another one is a different run
        TrainConfig other = TrainOptions.parse(new String[] {"--family", "l3c", "--output", "o", "--resume", "--rate-warmup",
            "80"}, 2).config();
        e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.reconcile(l3c, other, Set.of("rate-warmup"), 10));
        assertTrue(e.getMessage().contains("--rate-warmup 80"), e.getMessage());
    }

    /**
     * The encoders' settings re-planned on resume: a run whose encoders were frozen so far may release
     * them now, at a fraction of the rate; nothing that changes how a step already taken treated them.
     */
    @Test
    void encoderSettingsCanBeReplannedForStepsNotYetTaken() {
        TrainConfig frozen = TrainOptions.parse(new String[] {"--family", "l3c", "--input", "x", "--output", "o", "--steps",
            "5000", "--start", "pyramid", "--freeze-encoders", "100000"}, 2).config();
        assertEquals(1, frozen.encoderLr(), 0, "the encoders learn at the run's rate by default");
        TrainConfig release = TrainOptions.parse(new String[] {"--output", "o2", "--resume-from", "f",
            "--freeze-encoders", "4000", "--encoder-lr", "0.02"}, 2).config();
        TrainConfig released = TrainOptions.reconcile(frozen, release, Set.of("freeze-encoders", "encoder-lr"), 4000);
        assertEquals(4000, released.freezeEncoders());
        assertEquals(0.02, released.encoderLr(), 0);
        assertTrue(released.encodersFrozen(4000) && !released.encodersFrozen(4001));
        assertEquals(frozen.steps(), released.steps(), "the rest of the run is its own");
        // releasing before the steps already taken would rewrite them
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainOptions.reconcile(frozen, release, Set.of("freeze-encoders", "encoder-lr"), 4100));
        assertTrue(e.getMessage().contains("step 4001"), e.getMessage());
        // the rate of encoders that have been learning is part of the steps taken
        TrainConfig learning = released.withEncoders(10, 1);
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainOptions.reconcile(learning, release, Set.of("encoder-lr"), 20));
        assertTrue(e.getMessage().contains("step 11"), e.getMessage());
        assertEquals(0.02, TrainOptions.reconcile(learning, release, Set.of("encoder-lr"), 10).encoderLr(), 0,
                "from the release on, the rate may change");
        for (String bad : new String[] {"0", "1.5", "-1"}) {
            assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--family", "l3c", "--input",
                "x", "--output", "o", "--steps", "10", "--encoder-lr", bad}, 2), bad);
        }
        e = assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--input", "x", "--output",
            "o", "--steps", "10", "--encoder-lr", "0.5"}, 2));
        assertTrue(e.getMessage().contains("l3c"), e.getMessage());
        // on resume the family is the checkpoint's (no --family needed for an l3c run; refused for another)
        TrainConfig causal = TrainOptions.parse(new String[] {"--input", "x", "--output", "o", "--steps", "100"}, 2).config();
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainOptions.reconcile(causal, release, Set.of("freeze-encoders", "encoder-lr"), 10));
        assertTrue(e.getMessage().contains("causal family"), e.getMessage());
    }
}
