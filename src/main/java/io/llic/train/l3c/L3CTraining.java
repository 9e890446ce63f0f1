package io.llic.train.l3c;

import io.llic.image.RgbImage;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.l3c.L3CStructure;
import io.llic.train.FamilyLoss;
import io.llic.train.TrainBatch;
import io.llic.train.TrainConfig;
import io.llic.train.TrainImage;
import io.llic.train.TrainableFamily;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Training of the l3c family: {@link L3CStructure} of {@code --hidden} channels and {@code --layers}
 * residual blocks per body, {@link L3CSampler} crops, {@link L3CLoss}.
 */
public final class L3CTraining implements TrainableFamily {
    public static final String FAMILY = "l3c";
    /** Initial sigmas of the image's and the latents' mixture components (on the 1/255 scale). */
    static final double IMAGE_SIGMA = 0.05;
    static final double LATENT_SIGMA = 2.0 / 255;

    @Override
    public String name() {
        return FAMILY;
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
        return new L3CStructure(c.hidden(), c.hiddenLayers());
    }

    @Override
    public String describe(TrainConfig c) {
        return String.format(java.util.Locale.ROOT, "l3c, %d channels, %d residual blocks per body, %d logistic components,"
                + " %d parameters", c.hidden(), c.hiddenLayers(), L3CStructure.MIXTURES, parameters(c));
    }

    @Override
    public int parameters(TrainConfig config) {
        return structure(config).parameters();
    }

    /**
     * He-initialised convolutions (the second conv of each residual block and the parameter heads
     * scaled down, so that the network starts near its skips), zero biases except the heads': sigmas
     * that cover the values, image means at mid-grey, latent means at the centre level.
     */
    @Override
    public double[] init(TrainConfig config) {
        L3CStructure s = structure(config);
        Random r = new Random(config.seed());
        double[] p = new double[s.parameters()];
        for (int net = 0; net < L3CStructure.NETWORKS; net++) {
            int at = s.offset(net);
            List<Op> ops = s.template(net);
            for (int k = 0; k < ops.size(); k++) {
                if (!(ops.get(k) instanceof Conv c)) {
                    continue;
                }
                boolean last = k == lastConv(ops);
                boolean residual = k + 1 < ops.size() && ops.get(k + 1) instanceof io.llic.model.FixedPointConvNet.Add;
                double scale = Math.sqrt(2.0 / (c.in() * c.kernel() * c.kernel())) * (last ? 0.01 : residual ? 0.1 : 1);
                for (int i = 0; i < c.weights().length; i++) {
                    p[at + i] = r.nextGaussian() * scale;
                }
                at += c.weights().length;
                if (last && net >= L3CStructure.D3) {
                    for (int ch = 0; ch < (net == L3CStructure.D1 ? 3 : L3CStructure.Z); ch++) {
                        for (int m = 0; m < L3CStructure.MIXTURES; m++) {
                            int mean = L3CStructure.zParam(ch, L3CStructure.MEAN, m);
                            int sigma = L3CStructure.zParam(ch, L3CStructure.SIGMA, m);
                            p[at + mean] = net == L3CStructure.D1 ? 0.5 : L3CStructure.CENTRE / 255.0;
                            p[at + sigma] = net == L3CStructure.D1 ? IMAGE_SIGMA : LATENT_SIGMA;
                        }
                    }
                }
                at += c.bias().length;
            }
        }
        return p;
    }

    private static int lastConv(List<Op> ops) {
        for (int k = ops.size() - 1; k >= 0; k--) {
            if (ops.get(k) instanceof Conv) {
                return k;
            }
        }
        return -1;
    }

    @Override
    public TrainBatch sample(List<TrainImage> images, TrainConfig config, long step, int shard, int crops) {
        return new L3CSampler(images, config.crop()).sample(config.seed(), step, shard, crops);
    }

    @Override
    public Iterator<TrainBatch> wholeImage(TrainImage image, int maxSymbols) {
        return L3CSampler.strips(new RgbImage(image.width(), image.height(), image.samples()), Math.max(64, maxSymbols / 3));
    }

    @Override
    public FamilyLoss loss(TrainConfig config, int threads, String device) {
        return new L3CLoss(structure(config), threads, device);
    }

    @Override
    public List<FixedPointNet> export(TrainConfig config, double[] params) throws ModelException {
        throw new ModelException("the l3c family's fixed-point export is not built yet: its checkpoints resume with"
                + " --resume once it is");
    }

    @Override
    public TrainConfig shapeOf(TrainConfig config, LoadedModel model) {
        return config;
    }

    @Override
    public double[] fromModel(TrainConfig config, LoadedModel model) throws ModelException {
        throw new ModelException("fine-tuning (--init) an l3c model is not supported yet: train from scratch");
    }

    @Override
    public List<String> starts() {
        return List.of("random");
    }

    @Override
    public boolean adaptive() {
        return false;
    }
}
