package io.llic.spark;

import io.llic.codec.Decoder;
import io.llic.codec.Encoder;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.FixedPointNet;
import io.llic.runtime.DjlEvaluator;
import io.llic.runtime.Evaluators;
import io.llic.runtime.NetworkEvaluator;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * The models of one executor JVM: each model is rebuilt from its broadcast bytes once, and its
 * evaluators (one per concurrently running task, since an evaluator is not thread-safe) are created
 * lazily, reused by later tasks, and closed when the JVM shuts down. Each task picks its device from
 * {@link TaskContext#resources()} ("gpu" addresses) and falls back to the CPU with a logged warning
 * when no GPU is usable.
 */
final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<String, LoadedModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Queue<List<NetworkEvaluator>>> IDLE = new ConcurrentHashMap<>();
    private static final Queue<NetworkEvaluator> ALL = new ConcurrentLinkedQueue<>();
    private static final AtomicBoolean HOOK = new AtomicBoolean();
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** Device name of a task that was given a GPU it cannot use: "cpu-fallback-gpu" + address. */
    static final String CPU_FALLBACK_PREFIX = "cpu-fallback-gpu";

    private ExecutorModels() {}

    /** The DJL device name for a device chosen by {@link #device()}. */
    static String djlDevice(String device) {
        return device.startsWith("gpu") ? device : "cpu";
    }

    static LoadedModel model(LoadedModel.ModelBytes bytes) throws ModelException {
        String key = bytes.sha256();
        LoadedModel m = MODELS.get(key);
        if (m == null) {
            m = LoadedModel.fromBytes(Path.of("broadcast"), bytes.manifest(), bytes.weights());
            MODELS.putIfAbsent(key, m);
        }
        return MODELS.get(key);
    }

    /**
     * The device this task should use: the CUDA device of its first "gpu" address if PyTorch can use
     * it, else the CPU ({@link #CPU_FALLBACK_PREFIX} + address when a GPU was given but is unusable).
     */
    static String device() {
        TaskContext task = TaskContext.get();
        if (task == null) {
            return "cpu";
        }
        Option<ResourceInformation> gpu = task.resources().get("gpu");
        if (gpu.isEmpty() || gpu.get().addresses().length == 0) {
            return "cpu";
        }
        String address = gpu.get().addresses()[0];
        int usable = Evaluators.usableGpus();
        OptionalInt ordinal = cudaOrdinal(address, System.getenv("CUDA_VISIBLE_DEVICES"));
        if (ordinal.isPresent() && ordinal.getAsInt() < usable) {
            return "gpu" + ordinal.getAsInt();
        }
        if (WARNED.compareAndSet(false, true)) {
            LOG.warn("task was given GPU {} but PyTorch sees {} usable GPU(s) (CUDA_VISIBLE_DEVICES={}); running on the CPU",
                    address, usable, System.getenv("CUDA_VISIBLE_DEVICES"));
        }
        return CPU_FALLBACK_PREFIX + address;
    }

    /**
     * The CUDA ordinal of a GPU address from Spark's resource discovery. Discovery scripts report the
     * node's devices (nvidia-smi indices or UUIDs); CUDA numbers only the devices in
     * {@code CUDA_VISIBLE_DEVICES}, in its order, when that is set (YARN and some container runtimes
     * set it): address "3" with {@code CUDA_VISIBLE_DEVICES=2,3} is CUDA device 1. Empty when the
     * address is not visible to this process (or not a number without the variable).
     */
    static OptionalInt cudaOrdinal(String address, String visibleDevices) {
        String a = address.trim();
        if (visibleDevices == null || visibleDevices.isBlank()) {
            try {
                int id = Integer.parseInt(a);
                return id >= 0 ? OptionalInt.of(id) : OptionalInt.empty();
            } catch (NumberFormatException e) {
                return OptionalInt.empty();
            }
        }
        String[] visible = visibleDevices.split(",");
        for (int i = 0; i < visible.length; i++) {
            String v = visible[i].trim();
            if (v.isEmpty() || v.startsWith("-")) {
                break; // CUDA stops at the first invalid entry ("-1" hides every device)
            }
            if (v.equals(a) || (v.startsWith("GPU-") && a.startsWith("GPU-") && (v.startsWith(a) || a.startsWith(v)))) {
                return OptionalInt.of(i);
            }
        }
        return OptionalInt.empty();
    }

    /** A task's evaluators, the device they really run on, and their PyTorch threads. */
    record Acquired(String device, int threads, List<NetworkEvaluator> evaluators) {}

    /**
     * Evaluators (one per network of the model) for this task's thread on {@code device}; give them
     * back with {@link #release}. Their weights are the executor's one copy per device. If the GPU
     * cannot be used (driver, CUDA libtorch missing, out of device memory) the task runs on the CPU
     * with a warning: the integers, hence the bitstreams, are the same on every device.
     */
    static Acquired acquire(LoadedModel model, String device) {
        TaskContext task = TaskContext.get();
        return acquire(model, device, task == null ? 0 : Math.max(1, task.cpus()));
    }

    /** {@link #acquire(LoadedModel, String)} with {@code threads} PyTorch threads per evaluator (0: the engine's). */
    static Acquired acquire(LoadedModel model, String device, int threads) {
        List<NetworkEvaluator> ev = idle(model, device, threads).poll();
        if (ev != null) {
            return new Acquired(device, threads, ev);
        }
        try {
            ev = create(model, djlDevice(device), threads);
            return new Acquired(device, threads, ev);
        } catch (RuntimeException | LinkageError e) {
            if (!device.startsWith("gpu")) {
                throw e;
            }
            String fallback = CPU_FALLBACK_PREFIX + device.substring(3);
            LOG.warn("cannot use {} for model {} ({}); this task runs on the CPU", device, model.id(),
                    e.getMessage() == null ? e.toString() : e.getMessage());
            List<NetworkEvaluator> cpu = idle(model, fallback, threads).poll();
            return new Acquired(fallback, threads, cpu != null ? cpu : create(model, "cpu", threads));
        }
    }

    private static Queue<List<NetworkEvaluator>> idle(LoadedModel model, String device, int threads) {
        return IDLE.computeIfAbsent(model.sha256Hex() + "@" + device + "/" + threads, k -> new ConcurrentLinkedQueue<>());
    }

    private static List<NetworkEvaluator> create(LoadedModel model, String djlDevice, int threads) {
        List<NetworkEvaluator> ev = new java.util.ArrayList<>();
        try {
            for (FixedPointNet net : model.nets()) {
                ev.add(Evaluators.sharedDjl(net, djlDevice, threads));
            }
            for (io.llic.model.FixedPointConvNet net : model.convNets()) {
                ev.add(Evaluators.createConv(Evaluators.DJL, net, threads));
            }
        } catch (RuntimeException | LinkageError e) {
            ev.forEach(NetworkEvaluator::close);
            throw e;
        }
        ALL.addAll(ev);
        if (HOOK.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                ALL.forEach(NetworkEvaluator::close);
                DjlEvaluator.closeShared();
            }));
        }
        return List.copyOf(ev);
    }

    static void release(LoadedModel model, Acquired acquired) {
        idle(model, acquired.device(), acquired.threads()).add(acquired.evaluators());
    }

    /** What a coding task works with: the executor's model on the task's device, an encoder and a decoder. */
    record TaskCodec(LoadedModel model, String device, String executor, Encoder encoder, Decoder decoder) {}

    /** One row's work in a coding task. */
    interface CodingStep<O> {
        O apply(TaskCodec codec, org.apache.spark.sql.Row row);
    }

    /**
     * The rows of a coding task (compress-, decode-, archive-job), each mapped by {@code step} as Spark
     * pulls them ({@link LazyPartition}), with the executor's cached model on the task's device (or the
     * CPU fallback), an encoder tiling at {@code tile} and a decoder; the evaluators go back when the
     * rows run out or the task ends. A task given several cores ({@code spark.task.cpus} N > 1) codes
     * up to N tiles of an image at once: its first evaluator set (N PyTorch threads, for untiled images)
     * and N - 1 more of one thread each.
     */
    static <O> Iterator<O> codingTask(Broadcast<LoadedModel.ModelBytes> modelBytes, int tile,
                                      Iterator<org.apache.spark.sql.Row> rows, CodingStep<O> step) throws ModelException {
        if (!rows.hasNext()) {
            return List.<O>of().iterator();
        }
        LoadedModel model = model(modelBytes.value());
        Acquired acquired = acquire(model, device());
        TaskContext task = TaskContext.get();
        // extra sets only where tiles can use them
        int cpus = task == null || tile == 0 ? 1 : Math.max(1, task.cpus());
        List<Acquired> more = new java.util.ArrayList<>();
        TaskCodec codec;
        try {
            for (int i = 1; i < cpus; i++) {
                more.add(acquire(model, acquired.device(), 1));
            }
            List<List<NetworkEvaluator>> tileSets = more.stream().map(Acquired::evaluators).toList();
            codec = new TaskCodec(model, acquired.device(), Jobs.executorId(),
                    new Encoder(model, acquired.evaluators(), true).tiled(tile).parallelTiles(tileSets),
                    new Decoder(model, acquired.evaluators(), Integer.MAX_VALUE).parallelTiles(tileSets));
        } catch (RuntimeException | LinkageError e) {
            more.forEach(a -> release(model, a));
            release(model, acquired);
            throw e;
        }
        return new LazyPartition<org.apache.spark.sql.Row, O>(rows, r -> step.apply(codec, r), () -> {
            more.forEach(a -> release(model, a));
            release(model, acquired);
        });
    }
}
