package io.llic.train.l3c;

import io.llic.image.RgbImage;
import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.l3c.L3CFamily;
import io.llic.model.l3c.L3CStructure;
import io.llic.train.FamilyLoss;
import io.llic.train.TrainBatch;
import io.llic.train.TrainConfig;
import io.llic.train.TrainImage;
import io.llic.train.TrainableFamily;
import java.util.Iterator;
import java.util.List;

/**
 * Training of the l3c family: {@link L3CStructure} of {@code --hidden} channels and {@code --layers}
 * residual blocks per body, {@link L3CSampler} crops, {@link L3CLoss}.
 */
public final class L3CTraining implements TrainableFamily {

    @Override
    public String name() {
        return io.llic.model.l3c.L3CFamily.FAMILY;
    }

    @Override
    public int defaultHidden() {
        return 32;
    }

    @Override
    public int defaultLayers() {
        return 2;
    }

    @Override
    public int defaultCrop() {
        return 64;
    }

    static L3CStructure structure(TrainConfig c) {
        return new L3CStructure(c.hidden(), c.hiddenLayers(), "checkerboard".equals(c.imageContext()));
    }

    @Override
    public String describe(TrainConfig c) {
        return String.format(java.util.Locale.ROOT, "l3c, %d channels, %d residual blocks per body, %d logistic components,"
                + "%s %d parameters", c.hidden(), c.hiddenLayers(), L3CStructure.MIXTURES,
                structure(c).context() ? " the image in two checkerboard halves (network C1)," : "", parameters(c));
    }

    @Override
    public int parameters(TrainConfig config) {
        return structure(config).parameters();
    }

    /** {@link L3CStructure#initial} ("random"), {@link L3CStructure#pyramid} ("pyramid") or {@link L3CStructure#haar} ("haar"). */
    @Override
    public double[] init(TrainConfig config) {
        L3CStructure s = structure(config);
        return switch (config.start()) {
            case PYRAMID -> s.pyramid(config.seed());
            case HAAR -> s.haar(config.seed());
            default -> s.initial(config.seed());
        };
    }

    static final String PYRAMID = "pyramid";
    static final String HAAR = "haar";

    @Override
    public TrainBatch sample(List<TrainImage> images, TrainConfig config, long step, int shard, int crops) {
        return new L3CSampler(images, config.crop()).sample(config.seed(), step, shard, crops)
                .withSchedule(config.rateWeight(step), config.encodersFrozen(step));
    }

    @Override
    public Iterator<TrainBatch> wholeImage(TrainImage image, int maxSymbols) {
        return L3CSampler.strips(new RgbImage(image.width(), image.height(), image.samples()), Math.max(64, maxSymbols / 3));
    }

    @Override
    public String lossSchedule() {
        return io.llic.model.l3c.L3CPlan.SCHEDULE;
    }

    @Override
    public FamilyLoss loss(TrainConfig config, int threads, String device) {
        return new L3CLoss(structure(config), threads, device);
    }

    /** l3c has no per-position networks: everything is in {@link #exportConv}. */
    @Override
    public List<FixedPointNet> export(TrainConfig config, double[] params) {
        return List.of();
    }

    @Override
    public List<FixedPointConvNet> exportConv(TrainConfig config, double[] params) throws ModelException {
        return structure(config).export(params);
    }

    @Override
    public TrainConfig shapeOf(TrainConfig config, LoadedModel model) {
        try {
            L3CStructure s = L3CFamily.structure(model.convNets(), model.directory().toString());
            TrainConfig shaped = config.withNet(s.channels(), s.blocks());
            // a model with C1 keeps it; one without gets it when the run asks for it
            return s.context() ? shaped.toBuilder().imageContext("checkerboard").build() : shaped;
        } catch (ModelException e) {
            throw new IllegalArgumentException(e.getMessage(), e);  // LoadedModel.load checked it already
        }
    }

    /** The released model's parameters ({@link L3CStructure#fromFixedPoint}): fine-tuning starts where it ended. */
    @Override
    public double[] fromModel(TrainConfig config, LoadedModel model) throws ModelException {
        return structure(config).fromFixedPoint(model.convNets());
    }

    @Override
    public List<String> starts() {
        return List.of("random", PYRAMID, HAAR);
    }

    /** The encoders E1..E3 come first in the parameter vector. */
    @Override
    public int frozenPrefix(TrainConfig config) {
        return structure(config).offset(L3CStructure.D3);
    }

    @Override
    public boolean skipsNonFiniteSteps() {
        return true;
    }

    @Override
    public boolean adaptive() {
        return false;
    }
}
