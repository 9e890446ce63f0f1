package io.llic.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.llic.TestData;
import io.llic.model.FixedPointLayer;
import io.llic.model.FixedPointNet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
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

    private static long[] run(NetworkEvaluator ev, FixedPointNet net, long[] inputs) {
        int n = inputs.length / net.inputs();
        long[] out = new long[n * net.outputs()];
        ev.evaluate(inputs, n, out);
        return out;
    }

    /** Negative control: the agreement tests can fail. A net with one weight changed gives other integers. */
    @Test
    void aPerturbedNetDisagrees() throws Exception {
        FixedPointNet net = TestData.randomNet(11, 64);
        List<FixedPointLayer> layers = new ArrayList<>(net.layers());
        FixedPointLayer first = layers.get(0);
        long[] w = first.weights().clone();
        w[3] += 1L << first.shift(); // input 3 now adds one more unit to hidden 0 per unit of value
        layers.set(0, new FixedPointLayer(first.in(), first.out(), w, first.bias(), first.shift(), first.leaky(), first.clip()));
        FixedPointNet perturbed = new FixedPointNet(net.inputBound(), layers);
        long[] inputs = new long[200 * net.inputs()];
        Random r = new Random(3);
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = r.nextInt(256);
        }
        try (NetworkEvaluator java = new JavaEvaluator(net, 1);
             NetworkEvaluator djl = new DjlEvaluator(perturbed, Device.cpu(), 1)) {
            assertFalse(Arrays.equals(run(java, net, inputs), run(djl, perturbed, inputs)));
        }
    }

    /**
     * Partial sums just below 2^53, where float32 or any inexact step would round: both evaluators
     * still give the same integers (and exactly the value computed by hand).
     */
    @Test
    void sumsNear2To53AreExact() throws Exception {
        long bound = 255;
        int in = 4;
        // each weight * 255 just below 2^51, four of them and the bias: just below 2^53
        long w = ((1L << 51) - 1) / bound;
        long bias = (1L << 53) - 1 - 4 * w * bound;
        FixedPointLayer layer = new FixedPointLayer(in, 2, new long[] {w, w, w, w, w, -w, w, -w}, new long[] {bias, 1},
                0, false, 1L << 52);
        FixedPointNet net = new FixedPointNet(bound, List.of(layer));
        assertEquals((1L << 53) - 1, layer.worstPartialSum(bound));
        long[] inputs = {255, 255, 255, 255, 255, 254, 253, 1, 0, 255, 1, 255};
        try (NetworkEvaluator java = new JavaEvaluator(net, 1);
             NetworkEvaluator djl = new DjlEvaluator(net, Device.cpu(), 1)) {
            long[] expected = run(java, net, inputs);
            assertEquals(Math.min((1L << 52), (1L << 53) - 1), expected[0]); // 2^53 - 1, clipped to 2^52
            assertEquals(1, expected[1]); // w*255 - w*255 + w*255 - w*255 + 1: huge terms cancel exactly
            assertEquals(Math.min(1L << 52, w * (255 + 254 + 253 + 1) + bias), expected[2]);
            assertArrayEquals(expected, run(djl, net, inputs));
        }
        // and unclipped, shifted: floor((2^53 - 1 - small) / 2^7) must come out exactly
        FixedPointLayer shifted = new FixedPointLayer(in, 2, layer.weights(), layer.bias(), 7, false, 1L << 52);
        FixedPointNet net2 = new FixedPointNet(bound, List.of(shifted));
        long[] odd = {255, 255, 255, 254, 3, 250, 7, 255};
        try (NetworkEvaluator java = new JavaEvaluator(net2, 1);
             NetworkEvaluator djl = new DjlEvaluator(net2, Device.cpu(), 1)) {
            long[] expected = run(java, net2, odd);
            assertEquals(Math.floorDiv(w * (255 + 255 + 255 + 254) + bias, 128), expected[0]);
            assertArrayEquals(expected, run(djl, net2, odd));
        }
    }

    /** The same net with its inputs in another order sums in another order: the integers do not change. */
    @Test
    void reductionsInAPermutedOrderGiveTheSameIntegers() throws Exception {
        FixedPointNet net = TestData.randomNet(13, 64);
        int k = net.inputs();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(5));
        FixedPointLayer first = net.layers().get(0);
        long[] w = new long[first.weights().length];
        for (int o = 0; o < first.out(); o++) {
            for (int i = 0; i < k; i++) {
                w[o * k + i] = first.weights()[o * k + order.get(i)];
            }
        }
        List<FixedPointLayer> layers = new ArrayList<>(net.layers());
        layers.set(0, new FixedPointLayer(k, first.out(), w, first.bias(), first.shift(), first.leaky(), first.clip()));
        FixedPointNet permuted = new FixedPointNet(net.inputBound(), layers);
        Random r = new Random(6);
        int n = 500;
        long[] inputs = new long[n * k];
        long[] permutedInputs = new long[n * k];
        for (int p = 0; p < n; p++) {
            for (int i = 0; i < k; i++) {
                inputs[p * k + i] = r.nextInt(256);
            }
            for (int i = 0; i < k; i++) {
                permutedInputs[p * k + i] = inputs[p * k + order.get(i)];
            }
        }
        try (NetworkEvaluator java = new JavaEvaluator(net, 1);
             NetworkEvaluator djl = new DjlEvaluator(permuted, Device.cpu(), 2);
             NetworkEvaluator javaPermuted = new JavaEvaluator(permuted, 2)) {
            long[] expected = run(java, net, inputs);
            assertArrayEquals(expected, run(djl, permuted, permutedInputs));
            assertArrayEquals(expected, run(javaPermuted, permuted, permutedInputs));
        }
    }

    @Test
    void inputsBeyondTheBoundAreRefusedByBothEvaluators() throws Exception {
        FixedPointNet net = TestData.randomNet(14, 8);
        long[] inputs = new long[net.inputs()];
        inputs[0] = net.inputBound() + 1;
        try (NetworkEvaluator java = new JavaEvaluator(net, 1);
             NetworkEvaluator djl = new DjlEvaluator(net, Device.cpu(), 1)) {
            assertThrows(IllegalArgumentException.class, () -> run(java, net, inputs));
            assertThrows(IllegalArgumentException.class, () -> run(djl, net, inputs));
        }
    }

    /**
     * Grouped layers: DJL's batched product equals the Java loop, and a grouped layer equals the dense
     * layer whose weights outside its groups are zero (on both evaluators).
     */
    @Test
    void groupedLayersAgreeAndEqualTheirDenseForm() throws Exception {
        FixedPointNet grouped = TestData.randomGroupedNet(21, 48, 12, 60);
        List<FixedPointLayer> dense = new ArrayList<>();
        for (FixedPointLayer l : grouped.layers()) {
            long[] w = new long[l.in() * l.out()];
            for (int o = 0; o < l.out(); o++) {
                for (int i = 0; i < l.fanIn(); i++) {
                    w[o * l.in() + l.firstInput(o) + i] = l.weights()[o * l.fanIn() + i];
                }
            }
            dense.add(new FixedPointLayer(l.in(), l.out(), w, l.bias(), l.shift(), l.leaky(), l.clip()));
        }
        FixedPointNet denseNet = new FixedPointNet(grouped.inputBound(), dense);
        Random r = new Random(22);
        long[] inputs = new long[301 * grouped.inputs()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = r.nextInt(511) - 255;
        }
        try (NetworkEvaluator java = new JavaEvaluator(grouped, 1);
             NetworkEvaluator djl = new DjlEvaluator(grouped, Device.cpu(), 2);
             NetworkEvaluator javaDense = new JavaEvaluator(denseNet, 1);
             NetworkEvaluator djlDense = new DjlEvaluator(denseNet, Device.cpu(), 1)) {
            long[] expected = run(java, grouped, inputs);
            assertArrayEquals(expected, run(djl, grouped, inputs));
            assertArrayEquals(expected, run(javaDense, denseNet, inputs));
            assertArrayEquals(expected, run(djlDense, denseNet, inputs));
            long distinct = Arrays.stream(expected).distinct().count();
            assertTrue(distinct > expected.length / 10, "outputs vary (not all clipped): " + distinct);
        }
    }
}
