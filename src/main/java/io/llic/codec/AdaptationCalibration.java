package io.llic.codec;

import io.llic.entropy.CorruptStreamException;
import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.LoadedModel;
import io.llic.model.CodingPlan;
import io.llic.runtime.NetworkEvaluator;
import java.util.List;

/**
 * Measures a network's calibration for its {@link Adaptation} stage: the ratio of the residual
 * |x - mu - bias| (after bias cancellation) to the spread the network predicts, over images like
 * its training data. The spread correction then scales sigmas by a class's own ratio relative to
 * this one, so it leaves alone what the network already predicts as well as in training.
 */
public final class AdaptationCalibration {
    private AdaptationCalibration() {}

    /**
     * What one image contributes: the residual and spread totals (2^-8 pixel units) under bias
     * cancellation alone, and the network's own code length in bits (no adaptation), from one pass.
     */
    public record Totals(long residual, long spread, double networkBits) implements java.io.Serializable {
        public Totals plus(Totals o) {
            return new Totals(residual + o.residual, spread + o.spread, networkBits + o.networkBits);
        }

        /** The calibration (Q12) these totals give. */
        public int calibrationQ12() {
            if (spread <= 0) {
                throw new IllegalArgumentException("no pixels to calibrate the adaptation stage on");
            }
            return (int) Math.max(1, Math.min(1 << 16, (residual << 12) / spread));
        }
    }

    /**
     * The totals of one image coded along {@code schedule} with {@code model}'s networks (any family
     * with an adaptation stage): the stage with bias cancellation alone, so the residuals are what the
     * spread correction will compare with the spreads.
     */
    public static Totals totals(LoadedModel model, List<NetworkEvaluator> evaluators, RgbImage image, String schedule,
                                int limit, int minCount) {
        Adaptation biasOnly = new Adaptation(true, false, limit, minCount, 1 << 12);
        LoadedModel measuring = model.withAdaptation(biasOnly, model.id());
        CodingPlan plan = model.family().encodingPlan(measuring, schedule, image, true);
        StepLoop loop = new StepLoop(plan, evaluators, Encoder.ENCODE_BATCH, Encoder.ENCODE_BATCH);
        try {
            loop.run((stream, cdf, known) -> known);
        } catch (CorruptStreamException e) {
            throw new IllegalStateException("measuring cannot meet a corrupt stream", e);
        }
        long[] t = plan.adaptationTotals();
        return new Totals(t[0], t[1], plan.unadaptedBits());
    }

    /** The calibration (Q12) of {@code model}'s networks on {@code images}, coded along {@code schedule}. */
    public static int measureQ12(LoadedModel model, List<NetworkEvaluator> evaluators, List<RgbImage> images, String schedule,
                                 int limit, int minCount) {
        Totals sum = new Totals(0, 0, 0);
        for (RgbImage image : images) {
            sum = sum.plus(totals(model, evaluators, image, schedule, limit, minCount));
        }
        return sum.calibrationQ12();
    }
}
