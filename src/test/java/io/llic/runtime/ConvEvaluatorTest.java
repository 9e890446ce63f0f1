package io.llic.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.model.FixedPointConvNet;
import io.llic.model.FixedPointConvNet.Add;
import io.llic.model.FixedPointConvNet.Concat;
import io.llic.model.FixedPointConvNet.Conv;
import io.llic.model.FixedPointConvNet.Op;
import io.llic.model.FixedPointConvNet.Shuffle;
import io.llic.model.FixedPointConvNet.Slice;
import io.llic.model.ModelException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fixed-point convolutional network (L3C's building block): the pure-Java evaluator equals a
 * naive transcription of the definition, DJL (float64) equals the Java evaluator, also at the 2^53
 * bound, and the load-time checks refuse what could not be exact.
 */
class ConvEvaluatorTest {

    private static Conv conv(Random r, int src, int in, int out, int k, int stride, int dilation, int weightBits, int shift,
                             int activation, long clip) {
        long[] w = new long[out * in * k * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = r.nextInt(2 << weightBits) - (1L << weightBits);
        }
        long[] b = new long[out];
        for (int i = 0; i < out; i++) {
            b[i] = r.nextInt(1 << (weightBits + 8)) - (1L << (weightBits + 7));
        }
        return new Conv(src, in, out, k, stride, dilation, w, b, shift, activation, clip);
    }

    /**
     * An L3C-shaped network: input 3 channels (an "image") and 2 channels ("z"), an encoder conv with
     * stride 2, a residual block, a shuffle back up, concatenation, three dilated heads, slices.
     */
    static FixedPointConvNet l3cShaped(long seed) throws ModelException {
        Random r = new Random(seed);
        List<Op> ops = new ArrayList<>();
        long clip = 1L << 20;
        ops.add(new Slice(0, 0, 3));                                                    // 1: image
        ops.add(conv(r, 1, 3, 8, 5, 2, 1, 10, 6, FixedPointConvNet.RELU, clip));         // 2: stride 2
        ops.add(conv(r, 2, 8, 8, 3, 1, 1, 10, 12, FixedPointConvNet.LEAKY, clip));      // 3
        ops.add(conv(r, 3, 8, 8, 3, 1, 1, 10, 12, FixedPointConvNet.NONE, clip));       // 4
        ops.add(new Add(2, 4));                                                         // 5: residual
        ops.add(conv(r, 5, 8, 16, 3, 1, 1, 10, 12, FixedPointConvNet.NONE, clip));      // 6
        ops.add(new Shuffle(6));                                                        // 7: 4 channels, full size
        ops.add(new Concat(7, 0));                                                      // 8: 4 + 5 channels
        ops.add(conv(r, 8, 9, 4, 3, 1, 1, 10, 8, FixedPointConvNet.RELU, clip));        // 9: dilation 1
        ops.add(conv(r, 8, 9, 4, 3, 1, 2, 10, 8, FixedPointConvNet.RELU, clip));        // 10: dilation 2
        ops.add(conv(r, 8, 9, 4, 3, 1, 4, 10, 8, FixedPointConvNet.RELU, clip));        // 11: dilation 4
        ops.add(new Concat(9, 10));                                                     // 12
        ops.add(new Concat(12, 11));                                                    // 13
        ops.add(conv(r, 13, 12, 6, 1, 1, 1, 10, 10, FixedPointConvNet.NONE, 1L << 30)); // 14: 1x1 head
        return new FixedPointConvNet(new long[] {255, 255, 255, 24, 24}, ops);
    }

    static long[] randomInput(FixedPointConvNet net, int h, int w, long seed) {
        Random r = new Random(seed);
        long[] bounds = net.inputBounds();
        long[] x = new long[bounds.length * h * w];
        for (int c = 0; c < bounds.length; c++) {
            for (int i = 0; i < h * w; i++) {
                x[c * h * w + i] = r.nextLong(2 * bounds[c] + 1) - bounds[c];
            }
        }
        return x;
    }

    /** The definition, transcribed with no cleverness: one output value at a time, every tap checked. */
    static long[] naive(FixedPointConvNet net, long[] input, int height, int width) {
        int n = net.ops().size();
        long[][] t = new long[n + 1][];
        int[] h = new int[n + 1];
        int[] w = new int[n + 1];
        t[0] = input;
        h[0] = height;
        w[0] = width;
        for (int k = 0; k < n; k++) {
            Op op = net.ops().get(k);
            int o = k + 1;
            if (op instanceof Conv c) {
                int hi = h[c.src()];
                int wi = w[c.src()];
                h[o] = (hi + c.stride() - 1) / c.stride();
                w[o] = (wi + c.stride() - 1) / c.stride();
                t[o] = new long[c.out() * h[o] * w[o]];
                for (int oc = 0; oc < c.out(); oc++) {
                    for (int y = 0; y < h[o]; y++) {
                        for (int x = 0; x < w[o]; x++) {
                            long acc = c.bias()[oc];
                            for (int ic = 0; ic < c.in(); ic++) {
                                for (int ky = 0; ky < c.kernel(); ky++) {
                                    for (int kx = 0; kx < c.kernel(); kx++) {
                                        int iy = y * c.stride() + ky * c.dilation() - c.padding();
                                        int ix = x * c.stride() + kx * c.dilation() - c.padding();
                                        if (iy >= 0 && iy < hi && ix >= 0 && ix < wi) {
                                            acc += c.weights()[((oc * c.in() + ic) * c.kernel() + ky) * c.kernel() + kx]
                                                    * t[c.src()][(ic * hi + iy) * wi + ix];
                                        }
                                    }
                                }
                            }
                            t[o][(oc * h[o] + y) * w[o] + x] = c.finish(acc);
                        }
                    }
                }
            } else if (op instanceof Add a) {
                h[o] = h[a.a()];
                w[o] = w[a.a()];
                t[o] = new long[t[a.a()].length];
                for (int i = 0; i < t[o].length; i++) {
                    t[o][i] = t[a.a()][i] + t[a.b()][i];
                }
            } else if (op instanceof Shuffle p) {
                int hi = h[p.src()];
                int wi = w[p.src()];
                h[o] = 2 * hi;
                w[o] = 2 * wi;
                int cout = net.channels(p.src()) / 4;
                t[o] = new long[cout * h[o] * w[o]];
                for (int c = 0; c < cout; c++) {
                    for (int y = 0; y < h[o]; y++) {
                        for (int x = 0; x < w[o]; x++) {
                            int from = 4 * c + 2 * (y % 2) + x % 2;
                            t[o][(c * h[o] + y) * w[o] + x] = t[p.src()][(from * hi + y / 2) * wi + x / 2];
                        }
                    }
                }
            } else if (op instanceof Concat c) {
                h[o] = h[c.a()];
                w[o] = w[c.a()];
                t[o] = new long[t[c.a()].length + t[c.b()].length];
                System.arraycopy(t[c.a()], 0, t[o], 0, t[c.a()].length);
                System.arraycopy(t[c.b()], 0, t[o], t[c.a()].length, t[c.b()].length);
            } else {
                Slice s = (Slice) op;
                h[o] = h[s.src()];
                w[o] = w[s.src()];
                int plane = h[o] * w[o];
                t[o] = Arrays.copyOfRange(t[s.src()], s.from() * plane, s.to() * plane);
            }
        }
        return t[n];
    }

    @Test
    void javaEvaluatorIsTheDefinitionAndDjlAgreesWithIt() throws Exception {
        FixedPointConvNet net = l3cShaped(1);
        try (ConvEvaluator java = new JavaConvEvaluator(net);
             ConvEvaluator djl1 = new DjlConvEvaluator(net, 1);
             ConvEvaluator djl2 = new DjlConvEvaluator(net, 2);
             ConvEvaluator banded = new DjlConvEvaluator(net, 1, 200)) {
            for (int[] size : new int[][] {{8, 8}, {6, 10}, {16, 12}}) {
                long[] x = randomInput(net, size[0], size[1], size[0] * 31L + size[1]);
                long[] expected = naive(net, x, size[0], size[1]);
                assertEquals(6L * size[0] * size[1], expected.length);
                assertArrayEquals(expected, java.evaluate(x, size[0], size[1]), "java " + Arrays.toString(size));
                assertArrayEquals(expected, djl1.evaluate(x, size[0], size[1]), "djl 1 thread " + Arrays.toString(size));
                assertArrayEquals(expected, djl2.evaluate(x, size[0], size[1]), "djl 2 threads " + Arrays.toString(size));
                // bands of one or two output rows: the gathered matrices are cut, the result is the same
                assertArrayEquals(expected, banded.evaluate(x, size[0], size[1]), "djl in bands " + Arrays.toString(size));
                // the outputs are not trivial: many distinct values, some clipped heads would show as constants
                assertTrue(Arrays.stream(expected).distinct().count() > expected.length / 4);
            }
        }
    }

    /**
     * Large inputs are evaluated in bands of rows, each from the input rows its receptive field needs
     * (here: a stride-2 conv, 3x3 convs, a shuffle back up, dilations up to 4): the same output as the
     * whole input at once, for bands of a few rows up to nearly the whole height, in Java and in DJL.
     */
    @Test
    void bandsOfRowsGiveTheWholeInputsOutput() throws Exception {
        FixedPointConvNet net = l3cShaped(5);
        int[] convs = new int[1];
        for (int[] size : new int[][] {{40, 14}, {38, 22}, {64, 8}}) {
            long[] x = randomInput(net, size[0], size[1], size[0] * 7L + size[1]);
            long[] expected = naive(net, x, size[0], size[1]);
            long whole = 0;
            for (int t = 0; t <= net.ops().size(); t++) {
                whole += (long) net.channels(t) * net.sizes(size[0])[t] * net.sizes(size[1])[t] * Long.BYTES;
            }
            for (long budget : new long[] {1, whole / 9, whole / 3, whole - 1}) {
                convs[0] = 0;
                JavaConvEvaluator counted = new JavaConvEvaluator(net, (k, c, in, hi, wi, ho, wo) -> {
                    convs[0]++;
                    return JavaConvEvaluator.conv(c, in, hi, wi, ho, wo);
                }, budget);
                assertArrayEquals(expected, counted.evaluate(x, size[0], size[1]), "java, budget " + budget + " " + Arrays.toString(size));
                assertTrue(convs[0] > 8, "evaluated in bands: " + convs[0] + " conv passes (8 convs)");
                // and products cut into bands of a few rows inside each row band
                try (ConvEvaluator djl = new DjlConvEvaluator(net, 1, 20_000, budget)) {
                    assertArrayEquals(expected, djl.evaluate(x, size[0], size[1]), "djl, budget " + budget + " " + Arrays.toString(size));
                }
            }
            convs[0] = 0;
            new JavaConvEvaluator(net, (k, c, in, hi, wi, ho, wo) -> {
                convs[0]++;
                return JavaConvEvaluator.conv(c, in, hi, wi, ho, wo);
            }, whole).evaluate(x, size[0], size[1]);
            assertEquals(8, convs[0], "within the budget: one pass");
        }
    }

    /** Negative control: one weight changed by one unit changes the outputs, so agreement means something. */
    @Test
    void aPerturbedNetworkDisagrees() throws Exception {
        FixedPointConvNet net = l3cShaped(2);
        List<Op> ops = new ArrayList<>(net.ops());
        Conv c = (Conv) ops.get(2);
        long[] w = c.weights().clone();
        w[w.length / 2] += 1;
        ops.set(2, new Conv(c.src(), c.in(), c.out(), c.kernel(), c.stride(), c.dilation(), w, c.bias(), c.shift(),
                c.activation(), c.clip()));
        FixedPointConvNet perturbed = new FixedPointConvNet(net.inputBounds(), ops);
        long[] x = randomInput(net, 16, 16, 3);
        try (ConvEvaluator a = new JavaConvEvaluator(net); ConvEvaluator b = new DjlConvEvaluator(perturbed, 1)) {
            assertFalse(Arrays.equals(a.evaluate(x, 16, 16), b.evaluate(x, 16, 16)));
        }
    }

    /** Hand-computed: padding, stride 2, dilation 2 and the shuffle's channel-to-position mapping. */
    @Test
    void smallCasesByHand() throws Exception {
        // 1 channel, 3x3 input 1..9; kernel all ones, stride 2: outputs at (0,0), (0,2), (2,0), (2,2) of a padded sum
        long[] ones = new long[9];
        Arrays.fill(ones, 1);
        FixedPointConvNet sum = new FixedPointConvNet(new long[] {9},
                List.of(new Conv(0, 1, 1, 3, 2, 1, ones, new long[] {0}, 0, FixedPointConvNet.NONE, 1000)));
        long[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        // (0,0): 1+2+4+5 = 12; (0,2): 2+3+5+6 = 16; (2,0): 4+5+7+8 = 24; (2,2): 5+6+8+9 = 28
        assertArrayEquals(new long[] {12, 16, 24, 28}, new JavaConvEvaluator(sum).evaluate(x, 3, 3));
        // dilation 2 (padding 2): taps at offsets -2, 0, +2 in each direction
        FixedPointConvNet dilated = new FixedPointConvNet(new long[] {9},
                List.of(new Conv(0, 1, 1, 3, 1, 2, ones, new long[] {0}, 0, FixedPointConvNet.NONE, 1000)));
        // (0,0) sees (0,0), (0,2), (2,0), (2,2): 1+3+7+9 = 20; (0,1) sees (0,1), (2,1): 2+8 = 10; (1,1) sees 5
        assertArrayEquals(new long[] {20, 10, 20, 10, 5, 10, 20, 10, 20}, new JavaConvEvaluator(dilated).evaluate(x, 3, 3));
        // shuffle: 4 channels of 1x1 (values 10, 11, 12, 13) make one 2x2 plane [[10, 11], [12, 13]]
        FixedPointConvNet shuffle = new FixedPointConvNet(new long[] {20, 20, 20, 20}, List.of(new Shuffle(0)));
        assertArrayEquals(new long[] {10, 11, 12, 13}, new JavaConvEvaluator(shuffle).evaluate(new long[] {10, 11, 12, 13}, 1, 1));
        try (ConvEvaluator djl = new DjlConvEvaluator(shuffle, 1)) {
            assertArrayEquals(new long[] {10, 11, 12, 13}, djl.evaluate(new long[] {10, 11, 12, 13}, 1, 1));
        }
        // floor, leaky slope and clip: acc = -1000 with shift 2 -> -250 -> floor(-250 * 655 / 65536) = -3
        FixedPointConvNet leaky = new FixedPointConvNet(new long[] {1000},
                List.of(new Conv(0, 1, 1, 1, 1, 1, new long[] {1}, new long[] {0}, 2, FixedPointConvNet.LEAKY, 100)));
        assertArrayEquals(new long[] {-3, 100, 0}, new JavaConvEvaluator(leaky).evaluate(new long[] {-1000, 1000, 3}, 1, 3));
    }

    /**
     * Values at the edge of exactness: weights and inputs chosen so that the worst partial sum is just
     * below 2^53 (output channel 0: positive weights, inputs mostly at +bound, so interior sums reach
     * over half of 2^53), output channel 1 with mixed signs and large magnitudes (cancellation in any
     * summation order), and a large shift: DJL's float64 still gives the Java integers exactly.
     */
    @Test
    void djlIsExactNearTheBound() throws Exception {
        Random r = new Random(7);
        int in = 16;
        int k = 3;
        long inputBound = 1L << 20;
        // 16 * 9 = 144 products of at most 2^20 * wmax, plus the bias, below 2^53: wmax = 2^53 / (145 * 2^20)
        long wmax = (1L << 53) / (145L << 20);
        int kk = in * k * k;
        long[] w = new long[2 * kk];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i < kk ? 1 : r.nextBoolean() ? 1 : -1) * (wmax - r.nextInt(3));
        }
        long[] b = {wmax * inputBound - 12345, -(wmax * inputBound) + 777};
        int shift = 33;
        FixedPointConvNet net = new FixedPointConvNet(fill(in, inputBound),
                List.of(new Conv(0, in, 2, k, 1, 1, w, b, shift, FixedPointConvNet.LEAKY, 1L << 52)));
        int h = 5;
        int wd = 7;
        long[] x = new long[in * h * wd];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextInt(8) == 0 ? -(inputBound - r.nextInt(100)) : inputBound - r.nextInt(3);
        }
        long[] expected = naive(net, x, h, wd);
        long largest = Arrays.stream(expected).max().orElseThrow();
        assertTrue(largest >= 1L << (52 - shift), "some sums pass 2^52: largest output " + largest);
        try (ConvEvaluator djl = new DjlConvEvaluator(net, 2)) {
            assertArrayEquals(expected, djl.evaluate(x, h, wd));
        }
        assertArrayEquals(expected, new JavaConvEvaluator(net).evaluate(x, h, wd));
    }

    private static long[] fill(int n, long v) {
        long[] a = new long[n];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void refusesWhatCouldNotBeExactAndInputsBeyondTheBound() throws Exception {
        long[] w = new long[9];
        Arrays.fill(w, 1L << 40);
        // 9 * 2^40 * 2^10 = 9 * 2^50 > 2^53
        ModelException e = assertThrows(ModelException.class, () -> new FixedPointConvNet(new long[] {1 << 10},
                List.of(new Conv(0, 1, 1, 3, 1, 1, w, new long[] {0}, 0, FixedPointConvNet.NONE, 1L << 52))));
        assertTrue(e.getMessage().contains("2^53"), e.getMessage());
        // a residual sum of two clipped tensors at 2^52 each reaches 2^53
        FixedPointConvNet.Op big = new Conv(0, 1, 1, 1, 1, 1, new long[] {1L << 20}, new long[] {0}, 0,
                FixedPointConvNet.NONE, 1L << 52);
        assertThrows(ModelException.class, () -> new FixedPointConvNet(new long[] {1L << 32}, List.of(big, new Add(1, 1))));
        // operands of different shapes, reading a tensor not yet written
        assertThrows(ModelException.class, () -> new FixedPointConvNet(new long[] {1, 1},
                List.of(new Slice(0, 0, 1), new Add(0, 1))));
        assertThrows(ModelException.class, () -> new FixedPointConvNet(new long[] {1}, List.of(new Add(0, 1))));
        // an input beyond its channel's bound is refused by every evaluator, naming where it is
        FixedPointConvNet net = l3cShaped(3);
        long[] x = randomInput(net, 8, 8, 1);
        x[3 * 64 + 5] = 25; // channel 3 (a z channel) has bound 24
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new JavaConvEvaluator(net).evaluate(x, 8, 8));
        assertTrue(ex.getMessage().contains("channel 3"), ex.getMessage());
        try (ConvEvaluator djl = new DjlConvEvaluator(net, 1)) {
            assertThrows(IllegalArgumentException.class, () -> djl.evaluate(x, 8, 8));
            // an odd size cannot go down by 2 and back up to the same size
            assertThrows(IllegalArgumentException.class, () -> djl.evaluate(randomInput(net, 7, 8, 1), 7, 8));
        }
    }

    @Test
    void bytesRoundTripAndCorruptBytesAreRefused() throws Exception {
        FixedPointConvNet net = l3cShaped(4);
        byte[] bytes = net.toBytes();
        FixedPointConvNet back = FixedPointConvNet.fromBytes(bytes, "test net");
        assertArrayEquals(bytes, back.toBytes());
        long[] x = randomInput(net, 8, 8, 2);
        assertArrayEquals(new JavaConvEvaluator(net).evaluate(x, 8, 8), new JavaConvEvaluator(back).evaluate(x, 8, 8));
        assertEquals(net.parameterCount(), back.parameterCount());
        ModelException truncated = assertThrows(ModelException.class,
                () -> FixedPointConvNet.fromBytes(Arrays.copyOf(bytes, bytes.length - 3), "test net"));
        assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
        byte[] junk = bytes.clone();
        junk[3] = 'X';
        assertThrows(ModelException.class, () -> FixedPointConvNet.fromBytes(junk, "test net"));
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertThrows(ModelException.class, () -> FixedPointConvNet.fromBytes(longer, "test net"));
        assertTrue(net.compact() && back.compact(), "networks built here are written in version 2");
        // varints of either sign and any size (a 1x1 conv whose weights span 0 to 2^40), and a damaged one
        long[] w = {0, 1, -1, 63, -64, 64, -65, 8191, -8192, 1L << 20, -(1L << 20), 1L << 40};
        FixedPointConvNet wide = new FixedPointConvNet(new long[] {1},
                List.of(new Conv(0, 1, w.length, 1, 1, 1, w, w.clone(), 0, FixedPointConvNet.NONE, 1L << 45)));
        byte[] wideBytes = wide.toBytes();
        FixedPointConvNet wideBack = FixedPointConvNet.fromBytes(wideBytes, "wide");
        assertArrayEquals(w, ((Conv) wideBack.ops().get(0)).weights());
        assertArrayEquals(w, ((Conv) wideBack.ops().get(0)).bias());
        assertArrayEquals(wideBytes, wideBack.toBytes());
        byte[] overlong = Arrays.copyOf(wideBytes, wideBytes.length + 11);
        int at = wideBytes.length - 2 * 6;  // inside the bias of 2^40 (6 varint bytes): make it run on
        Arrays.fill(overlong, at, overlong.length, (byte) 0xFF);
        ModelException damaged = assertThrows(ModelException.class, () -> FixedPointConvNet.fromBytes(overlong, "wide"));
        assertTrue(damaged.getMessage().contains("varint"), damaged.getMessage());
        // version 1 (8-byte integers, what models written before version 2 hold), typed out byte by byte:
        // a 1x1 conv from 2 channels to 1, weights 3 and -5, bias 7, shift 1, no activation, clip 1000
        ByteArrayOutputStream v1 = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(v1)) {
            out.writeBytes("LLICCNV1");
            out.writeInt(2);
            out.writeLong(255);
            out.writeLong(24);
            out.writeInt(1);
            out.writeByte(1); // a conv: src, in, out, kernel, stride, dilation, shift, activation
            for (int f : new int[] {0, 2, 1, 1, 1, 1, 1, FixedPointConvNet.NONE}) {
                out.writeInt(f);
            }
            out.writeLong(1000);
            out.writeLong(3);
            out.writeLong(-5);
            out.writeLong(7);
        }
        FixedPointConvNet old = FixedPointConvNet.fromBytes(v1.toByteArray(), "version 1 net");
        assertFalse(old.compact(), "read as version 1");
        assertArrayEquals(new long[] {255, 24}, old.inputBounds());
        assertArrayEquals(new long[] {3, -5}, ((Conv) old.ops().get(0)).weights());
        assertArrayEquals(v1.toByteArray(), old.toBytes(), "a version-1 network re-serialises to its own bytes");
        // (3 * 10 - 5 * 4 + 7) >> 1 = 8 at the one pixel
        assertArrayEquals(new long[] {8}, new JavaConvEvaluator(old).evaluate(new long[] {10, 4}, 1, 1));
        ModelException shortV1 = assertThrows(ModelException.class,
                () -> FixedPointConvNet.fromBytes(Arrays.copyOf(v1.toByteArray(), v1.size() - 4), "version 1 net"));
        assertTrue(shortV1.getMessage().contains("truncated"), shortV1.getMessage());
        // multiply-accumulates: computed from the shapes, e.g. the first conv: 4x4 outputs * 8 * 3 * 25 on 8x8
        assertTrue(net.multiplyAccumulates(8, 8) > 16L * 8 * 3 * 25);
    }
}
