package io.llic.runtime;

import ai.djl.Device;
import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import java.util.List;

/** Creates evaluators by engine name: {@code djl} (the default, PyTorch) or {@code java}. */
public final class Evaluators {
    public static final String DJL = "djl";
    public static final String JAVA = "java";
    public static final List<String> ENGINES = List.of(DJL, JAVA);

    private Evaluators() {}

    /** GPUs the PyTorch engine can use here (0 on a CPU-only machine or without CUDA). */
    public static int usableGpus() {
        try {
            return ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The DJL version on the classpath. */
    public static String djlVersion() {
        return ai.djl.engine.Engine.class.getPackage().getImplementationVersion();
    }

    /**
     * @param engine  {@code djl} or {@code java}
     * @param device  a DJL device name ("cpu", "gpu0", ...); ignored by the java engine
     * @param threads threads for one evaluation (0 = engine default)
     */
    /**
     * One evaluator per network of {@code model}, in plan numbering ({@link LoadedModel#nets()}, then
     * {@link LoadedModel#convNets()}; closed by the caller).
     */
    public static List<NetworkEvaluator> forModel(String engine, LoadedModel model, String device, int threads) {
        List<NetworkEvaluator> list = new java.util.ArrayList<>();
        for (FixedPointNet net : model.nets()) {
            list.add(create(engine, net, device, threads));
        }
        for (FixedPointConvNet net : model.convNets()) {
            list.add(createConv(engine, net, threads));
        }
        return List.copyOf(list);
    }

    /**
     * An evaluator of a convolutional network. DJL runs it on the CPU whatever the device: cuDNN's
     * float64 convolutions may use FFT or Winograd algorithms, whose results are not exact, and no GPU
     * path has been verified bit-exact yet.
     */
    public static ConvEvaluator createConv(String engine, FixedPointConvNet net, int threads) {
        return switch (engine) {
            case DJL -> {
                offlineByDefault();
                yield new DjlConvEvaluator(net, threads);
            }
            case JAVA -> new JavaConvEvaluator(net);
            default -> throw new IllegalArgumentException("unknown engine '" + engine + "' (known: " + ENGINES + ")");
        };
    }

    /**
     * A DJL evaluator using this JVM's one shared copy of {@code net} on {@code device}
     * ({@link DjlEvaluator#sharing}): what Spark executors use, one copy per device for all their tasks.
     */
    public static NetworkEvaluator sharedDjl(FixedPointNet net, String device, int threads) {
        offlineByDefault();
        return DjlEvaluator.sharing(net, Device.fromName(device == null ? "cpu" : device), threads);
    }

    /** DJL never downloads unless the user says so ({@code -Dai.djl.offline=false}, e.g. for CUDA libtorch). */
    private static void offlineByDefault() {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    public static NetworkEvaluator create(String engine, FixedPointNet net, String device, int threads) {
        return switch (engine) {
            case DJL -> {
                offlineByDefault();
                yield new DjlEvaluator(net, Device.fromName(device == null ? "cpu" : device), threads);
            }
            case JAVA -> new JavaEvaluator(net, Math.max(1, threads));
            default -> throw new IllegalArgumentException("unknown engine '" + engine + "' (known: " + ENGINES + ")");
        };
    }
}
