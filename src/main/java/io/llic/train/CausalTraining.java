package io.llic.train;

import io.llic.model.FixedPointLayer;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.causal.CausalModel;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/** Training of the causal family: {@link CausalNet}, {@link CropSampler}, {@link LossModel}. */
public final class CausalTraining implements TrainableFamily {
    @Override
    public String name() {
        return CausalModel.FAMILY;
    }

    @Override
    public int defaultHidden() {
        return 128;
    }

    @Override
    public int defaultCrop() {
        return 32;
    }

    @Override
    public String describe(TrainConfig c) {
        return String.format(java.util.Locale.ROOT, "causal, 36 causal inputs -> %d x %d LeakyReLU -> 36 outputs, %d parameters",
                c.hiddenLayers(), c.hidden(), c.net().size());
    }

    @Override
    public int parameters(TrainConfig config) {
        return config.net().size();
    }

    @Override
    public double[] init(TrainConfig config) {
        return config.net().init(config.seed());
    }

    @Override
    public TrainBatch sample(List<TrainImage> images, TrainConfig config, long step, int shard, int crops) {
        return new CropSampler(images, config.crop()).sample(config.seed(), step, shard, crops);
    }

    @Override
    public Iterator<TrainBatch> wholeImage(TrainImage image, int maxSymbols) {
        int band = Math.max(1, maxSymbols / 3 / image.width());
        return new Iterator<>() {
            private int row;

            @Override
            public boolean hasNext() {
                return row < image.height();
            }

            @Override
            public TrainBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Batch b = CropSampler.rows(image, row, Math.min(band, image.height() - row));
                row += band;
                return b;
            }
        };
    }

    @Override
    public FamilyLoss loss(TrainConfig config, int threads, String device) {
        return new LossModel(config.net(), threads, device);
    }

    @Override
    public List<FixedPointNet> export(TrainConfig config, double[] params) throws ModelException {
        return List.of(config.net().export(params));
    }

    @Override
    public TrainConfig shapeOf(TrainConfig config, LoadedModel model) {
        List<FixedPointLayer> layers = model.net().layers();
        return config.withNet(layers.get(0).out(), layers.size() - 1);
    }

    @Override
    public double[] fromModel(TrainConfig config, LoadedModel model) throws ModelException {
        return config.net().fromFixedPoint(model.net());
    }

    @Override
    public List<String> starts() {
        return List.of("ls", "predictor");
    }

    @Override
    public boolean adaptive() {
        return true;
    }
}
