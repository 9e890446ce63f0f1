package io.llic.train;

import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import java.util.Iterator;
import java.util.List;

/**
 * The training side of a model family: what {@code train-job} asks of it. The job itself (data,
 * shards, schedule, checkpoints, export and reports) knows no family.
 */
public interface TrainableFamily {
    /** The manifest's {@code family} value. */
    String name();

    /** Default width of the hidden layers (or of each sub-network), when {@code --hidden} is not given. */
    int defaultHidden();

    /** Default number of hidden layers (or residual blocks), when {@code --layers} is not given. */
    default int defaultLayers() {
        return 4;
    }

    /** Default crop side, when {@code --crop} is not given. */
    int defaultCrop();

    /** "causal, 4 hidden layers of 128, 59K parameters": for logs and model cards. */
    String describe(TrainConfig config);

    int parameters(TrainConfig config);

    /** Random initial parameters (from {@code config.seed()}). */
    double[] init(TrainConfig config);

    /** {@code crops} random crops of the shard's images for (seed, step, shard): a pure function of them. */
    TrainBatch sample(List<TrainImage> images, TrainConfig config, long step, int shard, int crops);

    /** Every symbol of a whole image as the codec codes it, in batches of at most about {@code maxSymbols}. */
    Iterator<TrainBatch> wholeImage(TrainImage image, int maxSymbols);

    /** The objective on this thread's device ({@code threads} PyTorch threads, 0 = engine default). */
    FamilyLoss loss(TrainConfig config, int threads, String device);

    /** The fixed-point networks of float parameters. */
    List<FixedPointNet> export(TrainConfig config, double[] params) throws ModelException;

    /** The fixed-point convolutional networks of float parameters (stored after {@link #export}'s). */
    default List<io.llic.model.FixedPointConvNet> exportConv(TrainConfig config, double[] params) throws ModelException {
        return List.of();
    }

    /** The config with the network shape of a released model (for {@code --init} without --hidden/--layers). */
    TrainConfig shapeOf(TrainConfig config, LoadedModel model);

    /** Float parameters of a released model (fine-tuning), for a config of its shape. */
    double[] fromModel(TrainConfig config, LoadedModel model) throws ModelException;

    /**
     * The initialisations a fresh run may choose ({@code --start}), the default first: "ls" (a
     * least-squares linear start fitted on the data), "predictor", "random".
     */
    List<String> starts();

    /**
     * Whether a step whose gradient has NaN, infinite or huge elements is skipped (no update) rather
     * than applied with those elements clamped.
     */
    /**
     * How many leading parameters are held during the run's first {@link TrainConfig#freezeEncoders} steps
     * (l3c: the encoders'); Adam starts them afresh when they are released, at {@link TrainConfig#encoderLr}
     * times the run's rate.
     */
    default int frozenPrefix(TrainConfig config) {
        return 0;
    }

    default boolean skipsNonFiniteSteps() {
        return false;
    }

    /** Whether exported models can carry the adaptation-while-coding stage. */
    boolean adaptive();

    /**
     * The schedule whose code length the float loss models, so that train-job's quantisation figure
     * compares like with like; null: the family's default schedule. (l3c: {@code l3c}, z3 uniform and
     * no correction while coding, as its loss counts them; its default codes less.)
     */
    default String lossSchedule() {
        return null;
    }
}
