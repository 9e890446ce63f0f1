package io.llic.model;

import io.llic.image.RgbImage;
import java.util.List;

/**
 * A model family: a plug-in chosen by the {@code family} field of a model's manifest
 * ({@link Families}). It knows the shape of its networks, the schedules it can code along and how a
 * schedule becomes a {@link CodingPlan}; everything else (coder, container, step loop, jobs) is
 * shared and knows no family.
 */
public interface ModelFamily {
    /** The manifest's {@code family} value. */
    String name();

    /** Number of networks stored one after another in {@code weights.bin}. */
    int networks();

    /** Checks the networks (and adaptation stage, or null) read from a model's weights file. */
    void check(List<FixedPointNet> nets, Adaptation adaptation, String where) throws ModelException;

    /** Names of the schedules this family codes along; the first is the default. */
    List<String> schedules();

    default String defaultSchedule() {
        return schedules().get(0);
    }

    /** {@code schedule} if this family knows it; IllegalArgumentException naming the known ones otherwise. */
    default String checkSchedule(String schedule) {
        if (!schedules().contains(schedule)) {
            throw new IllegalArgumentException("schedule '" + schedule + "' is not one of the " + name()
                    + " family's (" + String.join(", ", schedules()) + ")");
        }
        return schedule;
    }

    /**
     * The number of symbols an image of this size codes into, summed over all streams, and the
     * smallest alphabet among them: the decoder checks them against the payload's length before it
     * allocates anything, so a corrupt size field cannot make it allocate or loop without bound.
     */
    long symbols(int width, int height);

    int smallestAlphabet();

    /**
     * The plan that encodes {@code image} (whole; the plan may write into a copy only).
     *
     * @param measureUnadapted also sum the code length without the model's adaptation stage
     *                         ({@link CodingPlan#unadaptedBits}), where the family has one
     */
    CodingPlan encodingPlan(LoadedModel model, String schedule, RgbImage image, boolean measureUnadapted);

    /** The plan that decodes a {@code width} x {@code height} image. */
    CodingPlan decodingPlan(LoadedModel model, String schedule, int width, int height);
}
