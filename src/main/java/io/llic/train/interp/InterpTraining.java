package io.llic.train.interp;

import io.llic.image.RgbImage;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.interp.InterpModel;
import io.llic.train.FamilyLoss;
import io.llic.train.TrainBatch;
import io.llic.train.TrainConfig;
import io.llic.train.TrainImage;
import io.llic.train.TrainableFamily;
import java.util.Iterator;
import java.util.List;

/** Training of the interp family: {@link InterpNet}, {@link InterpSampler}, {@link InterpLoss}. */
public final class InterpTraining implements TrainableFamily {
    @Override
    public String name() {
        return InterpModel.FAMILY;
    }

    /** The paper's width of each of the four sub-networks. */
    @Override
    public int defaultHidden() {
        return 88;
    }

    @Override
    public int defaultCrop() {
        return 64;
    }

    @Override
    public String describe(TrainConfig c) {
        return String.format(java.util.Locale.ROOT, "interp, three band networks of 4 x %d (window layer, grouped"
                + " LeakyReLU layer, grouped outputs), %d parameters", c.hidden(), parameters(c));
    }

    @Override
    public int parameters(TrainConfig config) {
        return new InterpNet(config.hidden()).size();
    }

    @Override
    public double[] init(TrainConfig config) {
        return new InterpNet(config.hidden()).init(config.seed());
    }

    @Override
    public TrainBatch sample(List<TrainImage> images, TrainConfig config, long step, int shard, int crops) {
        return new InterpSampler(images, config.crop()).sample(config.seed(), step, shard, crops);
    }

    @Override
    public Iterator<TrainBatch> wholeImage(TrainImage image, int maxSymbols) {
        return InterpSampler.chunks(new RgbImage(image.width(), image.height(), image.samples()), Math.max(1, maxSymbols / 3));
    }

    @Override
    public FamilyLoss loss(TrainConfig config, int threads, String device) {
        return new InterpLoss(new InterpNet(config.hidden()), threads, device);
    }

    @Override
    public List<FixedPointNet> export(TrainConfig config, double[] params) throws ModelException {
        return new InterpNet(config.hidden()).export(params);
    }

    @Override
    public TrainConfig shapeOf(TrainConfig config, LoadedModel model) {
        return config.withNet(model.nets().get(0).layers().get(0).out() / InterpModel.GROUPS, 1);
    }

    @Override
    public double[] fromModel(TrainConfig config, LoadedModel model) throws ModelException {
        throw new ModelException("fine-tuning (--init) an interp model is not supported yet: train from scratch");
    }

    @Override
    public List<String> starts() {
        return List.of("random");
    }

    @Override
    public boolean adaptive() {
        return true;
    }
}
