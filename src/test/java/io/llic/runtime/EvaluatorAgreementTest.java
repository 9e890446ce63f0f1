package io.llic.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import io.llic.TestData;
import io.llic.model.FixedPointNet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** DJL (float64, PyTorch) and the pure-Java evaluator give the same integers for any batch or thread count. */
class EvaluatorAgreementTest {

    @Test
    void djlEqualsJavaOnRandomInputsForAnyBatchSizeAndThreads() throws Exception {
        FixedPointNet net = TestData.randomNet(11, 64);
        Random r = new Random(12);
        int n = 3000;
        long[] inputs = new long[n * net.inputs()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = r.nextInt(256);
        }
        long[] expected = new long[n * net.outputs()];
        try (JavaEvaluator java = new JavaEvaluator(net, 1)) {
            java.evaluate(inputs, n, expected);
        }
        for (int threads : new int[] {1, 2}) {
            try (NetworkEvaluator javaThreads = new JavaEvaluator(net, threads);
                 NetworkEvaluator djl = new DjlEvaluator(net, Device.cpu(), threads)) {
                for (NetworkEvaluator ev : new NetworkEvaluator[] {javaThreads, djl}) {
                    for (int batch : new int[] {1, 7, n}) {
                        long[] out = new long[n * net.outputs()];
                        long[] in = new long[batch * net.inputs()];
                        long[] part = new long[batch * net.outputs()];
                        for (int from = 0; from < n; from += batch) {
                            int count = Math.min(batch, n - from);
                            System.arraycopy(inputs, from * net.inputs(), in, 0, count * net.inputs());
                            ev.evaluate(in, count, part);
                            System.arraycopy(part, 0, out, from * net.outputs(), count * net.outputs());
                        }
                        assertArrayEquals(expected, out, ev.description() + " batch " + batch);
                    }
                }
            }
        }
    }
}
