package io.llic.spark;

import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.runtime.Evaluators;
import io.llic.runtime.NetworkEvaluator;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.TaskContext;
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

    /** The device this task should use: its first "gpu" address if DJL sees that GPU, else "cpu". */
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
        try {
            int id = Integer.parseInt(address);
            if (id < usable) {
                return "gpu" + id;
            }
        } catch (NumberFormatException e) {
            // fall through to the CPU
        }
        if (WARNED.compareAndSet(false, true)) {
            LOG.warn("task was given GPU {} but PyTorch sees {} usable GPU(s); running on the CPU", address, usable);
        }
        return CPU_FALLBACK_PREFIX + address;
    }

    /** Evaluators (one per network of the model) for this task's thread; give them back with {@link #release}. */
    static List<NetworkEvaluator> acquire(LoadedModel model, String device) {
        String key = model.sha256Hex() + "@" + device;
        List<NetworkEvaluator> ev = IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>()).poll();
        if (ev == null) {
            TaskContext task = TaskContext.get();
            int threads = task == null ? 0 : Math.max(1, task.cpus());
            ev = Evaluators.forModel(Evaluators.DJL, model, djlDevice(device), threads);
            ALL.addAll(ev);
            if (HOOK.compareAndSet(false, true)) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> ALL.forEach(NetworkEvaluator::close)));
            }
        }
        return ev;
    }

    static void release(LoadedModel model, String device, List<NetworkEvaluator> ev) {
        IDLE.get(model.sha256Hex() + "@" + device).add(ev);
    }
}
