package io.llic.model;

import io.llic.image.RgbImage;
import io.llic.prob.MixtureCdf;
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

    /** Tile side of a family whose coder's memory grows like the others' (a few hundred bytes per pixel of a tile). */
    int DEFAULT_TILE = 2048;

    /**
     * Tile side used when none is asked for: images wider or taller than it are coded as independent
     * tiles, which bounds the coder's memory by the tile instead of the image.
     */
    default int defaultTile() {
        return DEFAULT_TILE;
    }

    /** Number of convolutional networks ({@link FixedPointConvNet}) stored after them. */
    default int convNetworks() {
        return 0;
    }

    /** Number of convolutional networks of the model {@code manifest} describes (default: {@link #convNetworks()}). */
    default int convNetworks(ModelManifest manifest) {
        return convNetworks();
    }

    /** Checks the convolutional networks read from a model's weights file. */
    default void checkConv(List<FixedPointConvNet> nets, String where) throws ModelException {}

    /** Checks the networks (and adaptation stage, or null) read from a model's weights file. */
    void check(List<FixedPointNet> nets, Adaptation adaptation, String where) throws ModelException;

    /**
     * The checks every network whose outputs feed a {@link MixtureCdf} needs: its shape, an output clip
     * the CDF arithmetic takes without overflow ({@link MixtureCdf#MAX_PARAM}), and an input bound that
     * covers the sample values it is given (up to 255 in magnitude).
     *
     * @param what "network", "band 1 network": how messages name it
     */
    static void checkMixtureNetwork(FixedPointNet net, int inputs, int outputs, String family, String what, String where)
            throws ModelException {
        if (net.inputs() != inputs || net.outputs() != outputs) {
            throw new ModelException(where + ": " + what + " maps " + net.inputs() + " inputs to " + net.outputs()
                    + " outputs; the " + family + " family needs " + inputs + " -> " + outputs);
        }
        long clip = net.layers().get(net.layers().size() - 1).clip();
        if (clip > MixtureCdf.MAX_PARAM) {
            throw new ModelException(where + ": " + what + " output clip " + clip + " exceeds " + MixtureCdf.MAX_PARAM
                    + ", the largest parameter the CDF arithmetic takes without overflow");
        }
        if (net.inputBound() < 255) {
            throw new ModelException(where + ": " + what + " input bound " + net.inputBound()
                    + " is below the sample values it takes (up to 255 in magnitude)");
        }
    }

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

    /** Streams (file chunks) of an image coded along {@code schedule}. */
    int streams(String schedule);

    /**
     * A lower bound of the payload bits of any {@code width} x {@code height} image, times 2^16: the
     * sum over its symbols of (alphabet - 1), since a symbol of an alphabet of A costs at least
     * -log2(1 - (A - 1) / 2^16) > (A - 1) / 2^16 bits. The decoder checks it against the payload's
     * length before it allocates anything, so a corrupt size field cannot make it allocate or loop
     * without bound.
     */
    long leastPayloadBitsQ16(int width, int height);

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
