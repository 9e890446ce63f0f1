package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.runtime.DjlEvaluator;
import io.llic.runtime.JavaEvaluator;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Executor-side device choice (issue 10, GPUs): CUDA numbering, one model copy per device, CPU fallback. */
class ExecutorModelsTest {
    @Test
    void gpuAddressesMapToCudaOrdinalsThroughCudaVisibleDevices() {
        assertEquals(OptionalInt.of(0), ExecutorModels.cudaOrdinal("0", null));
        assertEquals(OptionalInt.of(3), ExecutorModels.cudaOrdinal("3", ""));
        // the node's GPU 3 is CUDA device 1 when only 2 and 3 are visible
        assertEquals(OptionalInt.of(1), ExecutorModels.cudaOrdinal("3", "2,3"));
        assertEquals(OptionalInt.of(0), ExecutorModels.cudaOrdinal("2", " 2 , 3"));
        assertEquals(OptionalInt.empty(), ExecutorModels.cudaOrdinal("1", "2,3"));
        assertEquals(OptionalInt.empty(), ExecutorModels.cudaOrdinal("0", "-1"));
        assertEquals(OptionalInt.empty(), ExecutorModels.cudaOrdinal("3", "2,-1,3"));
        assertEquals(OptionalInt.of(1), ExecutorModels.cudaOrdinal("GPU-8f2e1c9a-1111", "GPU-0000,GPU-8f2e"));
        assertEquals(OptionalInt.empty(), ExecutorModels.cudaOrdinal("GPU-8f2e1c9a", null));
        assertEquals(OptionalInt.empty(), ExecutorModels.cudaOrdinal("gpu-a", null));
    }

    @Test
    void aGpuThatCannotBeUsedFallsBackToTheCpuWithTheSameIntegers() throws Exception {
        LoadedModel model = LoadedModel.load(Path.of("models/causal-4"));
        // no CUDA here: creating the evaluators on gpu0 fails, and the task gets CPU evaluators instead
        ExecutorModels.Acquired gpu = ExecutorModels.acquire(model, "gpu0");
        assertEquals(ExecutorModels.CPU_FALLBACK_PREFIX + "0", gpu.device());
        ExecutorModels.Acquired cpu = ExecutorModels.acquire(model, "cpu");
        ExecutorModels.Acquired cpu2 = ExecutorModels.acquire(model, "cpu");
        try {
            assertEquals("cpu", cpu.device());
            assertNotSame(cpu.evaluators(), cpu2.evaluators(), "each concurrent task has its own evaluators");
            FixedPointNet net = model.net();
            assertEquals(1, DjlEvaluator.sharedCopies(net), "one copy of the weights for the CPU device");
            Random r = new Random(4);
            int count = 300;
            long[] in = new long[count * net.inputs()];
            for (int i = 0; i < in.length; i++) {
                in[i] = r.nextInt(2 * (int) net.inputBound() + 1) - net.inputBound();
            }
            long[] expected = new long[count * net.outputs()];
            try (JavaEvaluator java = new JavaEvaluator(net, 1)) {
                java.evaluate(in, count, expected);
            }
            for (ExecutorModels.Acquired a : new ExecutorModels.Acquired[] {gpu, cpu, cpu2}) {
                long[] out = new long[expected.length];
                a.evaluators().get(0).evaluate(in, count, out);
                assertArrayEquals(expected, out, a.device());
            }
        } finally {
            ExecutorModels.release(model, gpu);
            ExecutorModels.release(model, cpu);
            ExecutorModels.release(model, cpu2);
        }
        // released evaluators are reused by the next task on the same device
        ExecutorModels.Acquired again = ExecutorModels.acquire(model, ExecutorModels.CPU_FALLBACK_PREFIX + "0");
        assertSame(gpu.evaluators(), again.evaluators());
        ExecutorModels.release(model, again);
    }
}
