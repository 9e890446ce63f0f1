package io.llic.train.l3c;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.codec.Decoder;
import io.llic.codec.Encoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.model.l3c.L3CFamily;
import io.llic.model.l3c.L3CStructure;
import io.llic.runtime.Evaluators;
import io.llic.runtime.NetworkEvaluator;
import io.llic.train.Adam;
import io.llic.train.LossModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The l3c family's training pieces: the loss learns, its gradient is the loss's, and export codes what was trained. */
class L3CTrainTest {
    static RgbImage kodakCrop(int row, int col, int w, int h) throws Exception {
        RgbImage kodim = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim05.png")));
        return kodim.crop(row, col, w, h);
    }

    static L3CBatch batchOf(RgbImage image) {
        Iterator<io.llic.train.TrainBatch> it = L3CSampler.strips(image, 1 << 20);
        return (L3CBatch) it.next();
    }

    /**
     * Along the gradient of each network (a unit direction u), the central difference of the loss
     * equals |g|: the gradient is the loss's, through the decoders and (straight through the rounding)
     * into the encoders. The step h moves the loss by about one bit, far above float32 noise and small
     * enough that few latents change level.
     */
    @Test
    void gradientMatchesCentralDifferencesOfTheDecoders() throws Exception {
        L3CStructure shape = new L3CStructure(4, 1);
        double[] p = shape.initial(3);
        L3CBatch batch = batchOf(kodakCrop(100, 200, 32, 32));
        try (L3CLoss loss = new L3CLoss(shape, 1, "cpu")) {
            Adam adam = new Adam(p.length);
            for (int t = 1; t <= 30; t++) {
                adam.step(p, loss.evaluateOnce(p, batch, 1.0 / batch.subpixels(), true).gradient(), t, 3e-3);
            }
            LossModel.Result whole = loss.evaluate(p, batch, 1.0, false);
            double[] scales = loss.lastScaleBits();
            assertEquals(whole.bits(), scales[0] + scales[1] + scales[2] + scales[3], 1e-4 * whole.bits(), "the scales add up");
            assertEquals(5 * 4 * 4 * Math.log(25) / Math.log(2), scales[3], 1e-3, "z3: 4 x 4 x 5 symbols of 25 levels, uniform");
            assertTrue(scales[0] > scales[1] && scales[1] > 0 && scales[2] > 0, java.util.Arrays.toString(scales));
            double[] g = loss.evaluateOnce(p, batch, 1.0, true).gradient();
            assertTrue(java.util.Arrays.stream(g).allMatch(Double::isFinite), "a finite gradient, first time");
            for (int net = L3CStructure.D3; net <= L3CStructure.D1; net++) {
                int from = shape.offset(net);
                int to = from + shape.parameters(net);
                double norm = distance(g, new double[p.length], shape, net);
                assertTrue(norm > 0, L3CStructure.NAMES[net] + " has a gradient");
                double h = 1.0 / norm;
                double[] up = p.clone();
                double[] down = p.clone();
                for (int i = from; i < to; i++) {
                    up[i] += h * g[i] / norm;
                    down[i] -= h * g[i] / norm;
                }
                double numeric = (loss.evaluate(up, batch, 1, false).bits() - loss.evaluate(down, batch, 1, false).bits()) / (2 * h);
                assertEquals(norm, numeric, 0.15 * norm, L3CStructure.NAMES[net]);
            }
            // the encoders get a gradient too (through the straight-through rounding)
            for (int net = L3CStructure.E1; net <= L3CStructure.E3; net++) {
                assertTrue(distance(g, new double[p.length], shape, net) > 0, L3CStructure.NAMES[net] + " has a gradient");
            }
        }
    }

    /**
     * Small models' gradients are finite and repeat bit for bit, also on two intra-op threads. PyTorch's
     * convolution (oneDNN) reads uninitialised channel padding when a spatial convolution's channel
     * count is not a multiple of 16; without {@link L3CLoss#conv}'s zero channels, the same evaluation
     * of a 4-channel model came out non-finite 17 times in 20 on two threads, a 12-channel model's
     * differed or was non-finite in most repeats, and a 24-channel model's loss was NaN.
     */
    @Test
    void smallModelsGradientsRepeatExactlyOnTwoThreads() throws Exception {
        L3CBatch batch = batchOf(kodakCrop(120, 40, 64, 48));
        for (int channels : new int[] {4, 12, 24}) {
            L3CStructure shape = new L3CStructure(channels, 1);
            double[] p = shape.pyramid(2);
            try (L3CLoss loss = new L3CLoss(shape, 2, "cpu")) {
                LossModel.Result first = loss.evaluateOnce(p, batch, 1.0, true);
                assertTrue(Double.isFinite(first.bits()), channels + " channels: the loss " + first.bits());
                assertTrue(java.util.Arrays.stream(first.gradient()).allMatch(Double::isFinite), channels + " channels");
                for (int r = 1; r < 8; r++) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(first.gradient(),
                            loss.evaluateOnce(p, batch, 1.0, true).gradient(), channels + " channels, repeat " + r);
                }
            }
        }
    }

    /**
     * The rate warm-up weights z1's and z2's bits where they reach the encoders through their symbols,
     * and nothing else: the bits reported are the same at every weight; the decoders (which learn the
     * whole code length) and E3 (whose z3 is coded uniformly) get the same gradient; E1 and E2 do not;
     * and their gradient is linear in the weight (at 1/2 it is the mean of those at 0 and 1). Frozen
     * encoders get no gradient, and the decoders theirs as before.
     */
    @Test
    void rateWeightAndFreezeShapeOnlyTheEncodersGradient() throws Exception {
        L3CStructure shape = new L3CStructure(4, 1);
        double[] p = shape.initial(5);
        L3CBatch batch = batchOf(kodakCrop(300, 100, 32, 32));
        try (L3CLoss loss = new L3CLoss(shape, 1, "cpu")) {
            LossModel.Result[] r = new LossModel.Result[4];
            double[] weights = {0, 0.5, 1, 1};
            for (int k = 0; k < 4; k++) {
                r[k] = loss.evaluate(p, batch.withSchedule(weights[k], k == 3), 1.0, true);
            }
            double[] zero = new double[p.length];
            assertEquals(r[2].bits(), r[0].bits(), 1e-6 * r[2].bits(), "the bits are the whole code length at any weight");
            assertEquals(r[2].bits(), r[1].bits(), 1e-6 * r[2].bits());
            assertEquals(r[2].bits(), r[3].bits(), 1e-6 * r[2].bits());
            for (int net = L3CStructure.E3; net < L3CStructure.NETWORKS; net++) {
                double norm = distance(r[2].gradient(), zero, shape, net);
                assertTrue(norm > 0, L3CStructure.NAMES[net]);
                assertTrue(distance(r[0].gradient(), r[2].gradient(), shape, net) <= 1e-4 * norm,
                        L3CStructure.NAMES[net] + "'s gradient does not depend on the weight");
                if (net > L3CStructure.E3) {
                    assertTrue(distance(r[3].gradient(), r[2].gradient(), shape, net) <= 1e-4 * norm,
                            L3CStructure.NAMES[net] + "'s gradient does not depend on the encoders being frozen");
                }
            }
            for (int net = L3CStructure.E1; net <= L3CStructure.E3; net++) {
                assertEquals(0, distance(r[3].gradient(), zero, shape, net), 0, "frozen " + L3CStructure.NAMES[net]);
            }
            for (int net = L3CStructure.E1; net <= L3CStructure.E2; net++) {
                double norm = distance(r[2].gradient(), zero, shape, net);
                assertTrue(distance(r[0].gradient(), r[2].gradient(), shape, net) > 0.05 * norm,
                        L3CStructure.NAMES[net] + "'s gradient depends on the weight");
                double[] mean = new double[p.length];
                for (int i = 0; i < p.length; i++) {
                    mean[i] = (r[0].gradient()[i] + r[2].gradient()[i]) / 2;
                }
                assertTrue(distance(r[1].gradient(), mean, shape, net) <= 1e-3 * norm, L3CStructure.NAMES[net] + " is linear");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> batch.withSchedule(1.5, false));
    }

    /**
     * The pyramid start, exported to fixed point: E1's, E2's and E3's latent channels 0..2 are the crop's
     * colour means over 2x2, 4x4 and 8x8 blocks as symbols 12 (mean / 128 - 1), channels 3 and 4 are
     * the centre symbol, and the decoders start as the random start's.
     */
    @Test
    void pyramidStartMakesTheLatentsAnRgbPyramid() throws Exception {
        L3CStructure shape = new L3CStructure(8, 1);
        double[] p = shape.pyramid(7);
        assertDecodersRandom(shape, p);
        RgbImage crop = kodakCrop(200, 300, 64, 64);
        long[][] z = latents(shape, p, crop);
        java.util.Set<Integer> centre = new java.util.HashSet<>();
        for (int s = 0; s < 3; s++) {
            assertMeans(z[s], crop, s);
            for (int i = 0; i < 2 * z[s].length / L3CStructure.Z; i++) {
                centre.add(L3CStructure.symbol(z[s][3 * z[s].length / L3CStructure.Z + i]));
            }
        }
        assertEquals(java.util.Set.of(L3CStructure.CENTRE), centre, "channels 3 and 4 start at the centre symbol");
    }

    /**
     * The haar start: the pyramid's means in channels 0..2 of every scale, and in channels 3 and 4 of z1
     * and z2 the blocks' luminance detail (mean of the left half minus the right half, top minus bottom,
     * over R, G and B) in steps of {@link L3CStructure#DETAIL_STEP}; z3's channels 3 and 4 at the centre.
     * On this crop (a textured one) the details take many symbols, so a wrong sign, axis or scale fails.
     */
    @Test
    void haarStartAddsTheBlocksLuminanceDetail() throws Exception {
        L3CStructure shape = new L3CStructure(8, 1);
        double[] p = shape.haar(7);
        assertDecodersRandom(shape, p);
        RgbImage crop = kodakCrop(200, 300, 64, 64);
        long[][] z = latents(shape, p, crop);
        for (int s = 0; s < 3; s++) {
            assertMeans(z[s], crop, s);
        }
        for (int s = 0; s < 2; s++) {
            int block = 2 << s;
            int side = 64 / block;
            int plane = side * side;
            int exact = 0;
            java.util.Set<Integer> used = new java.util.HashSet<>();
            for (int axis = 0; axis < 2; axis++) {
                for (int y = 0; y < side; y++) {
                    for (int x = 0; x < side; x++) {
                        double first = 0;
                        double second = 0;
                        for (int dy = 0; dy < block; dy++) {
                            for (int dx = 0; dx < block; dx++) {
                                boolean isFirst = (axis == 0 ? dx : dy) < block / 2;
                                for (int ch = 0; ch < 3; ch++) {
                                    int v = crop.get(y * block + dy, x * block + dx, ch);
                                    if (isFirst) {
                                        first += v;
                                    } else {
                                        second += v;
                                    }
                                }
                            }
                        }
                        double expected = (first - second) / (1.5 * block * block) / L3CStructure.DETAIL_STEP;
                        long u = z[s][(3 + axis) * plane + y * side + x];
                        assertEquals(expected, u / 256.0, 0.02, "z" + (s + 1) + " detail " + axis + " at " + y + "," + x);
                        int symbol = L3CStructure.symbol(u);
                        exact += symbol == (int) Math.max(0, Math.min(24, Math.round(expected) + 12)) ? 1 : 0;
                        used.add(symbol);
                    }
                }
            }
            assertTrue(exact >= 0.98 * 2 * plane, "z" + (s + 1) + ": " + exact + " of " + 2 * plane + " details exact");
            assertTrue(used.size() >= 5, "z" + (s + 1) + "'s details take " + used + " on a textured crop");
        }
        int plane = 8 * 8;
        for (int i = 3 * plane; i < 5 * plane; i++) {
            assertEquals(L3CStructure.CENTRE, L3CStructure.symbol(z[2][i]), "z3's channels 3 and 4 stay at the centre");
        }
    }

    /**
     * --init for l3c: a released model's fixed-point networks come back as float parameters that export
     * to the same integers (so fine-tuning starts exactly where the model ended), the run's shape is read
     * from the model, and a run of another shape is refused naming the shape.
     */
    @Test
    void aReleasedModelComesBackAsItsParameters(@TempDir Path dir) throws Exception {
        LoadedModel model = TestData.l3cModel(dir.resolve("m"), 3, 6, true);
        io.llic.train.TrainableFamily family = io.llic.train.TrainableFamilies.byName("l3c");
        io.llic.train.TrainConfig config = family.shapeOf(io.llic.train.TrainConfig.builder("l3c", List.of("x"),
                List.of(1)).net(32, 2).steps(10).build(), model);
        assertEquals(6, config.hidden(), "channels from the model");
        assertEquals(1, config.hiddenLayers(), "residual blocks from the model");
        double[] p = family.fromModel(config, model);
        L3CStructure shape = new L3CStructure(6, 1);
        double[] original = shape.pyramid(3);
        assertEquals(original.length, p.length);
        List<io.llic.model.FixedPointConvNet> again = shape.export(p);
        int differ = 0;
        for (int net = 0; net < L3CStructure.NETWORKS; net++) {
            List<io.llic.model.FixedPointConvNet.Op> a = model.convNets().get(net).ops();
            List<io.llic.model.FixedPointConvNet.Op> b = again.get(net).ops();
            for (int k = 0; k < a.size(); k++) {
                if (a.get(k) instanceof io.llic.model.FixedPointConvNet.Conv x) {
                    io.llic.model.FixedPointConvNet.Conv y = (io.llic.model.FixedPointConvNet.Conv) b.get(k);
                    assertTrue(java.util.Arrays.equals(x.weights(), y.weights()) && java.util.Arrays.equals(x.bias(), y.bias())
                            && x.shift() == y.shift() && x.clip() == y.clip(), L3CStructure.NAMES[net] + " conv " + k);
                }
            }
        }
        for (int i = 0; i < p.length; i++) {
            // within half a unit of the export's scale (2^-14 at least) of the float start
            differ += Math.abs(p[i] - original[i]) <= Math.scalb(1.0, -15) ? 0 : 1;
        }
        assertEquals(0, differ, "parameters further from the float start than the export's rounding");
        io.llic.model.ModelException e = assertThrows(io.llic.model.ModelException.class,
                () -> new L3CStructure(6, 2).fromFixedPoint(model.convNets()));
        assertTrue(e.getMessage().contains("6 channels and 2 residual blocks"), e.getMessage());
        e = assertThrows(io.llic.model.ModelException.class, () -> new L3CStructure(8, 1).fromFixedPoint(model.convNets()));
        assertTrue(e.getMessage().contains("8 channels and 1 residual blocks"), e.getMessage());
        // another fixed point: D1's output conv with another clip (a shift alone does not pin the fractions)
        List<io.llic.model.FixedPointConvNet> nets = new java.util.ArrayList<>(model.convNets());
        io.llic.model.FixedPointConvNet d1 = nets.get(L3CStructure.D1);
        List<io.llic.model.FixedPointConvNet.Op> ops = new java.util.ArrayList<>(d1.ops());
        int last = L3CStructure.lastConv(ops);
        io.llic.model.FixedPointConvNet.Conv c = (io.llic.model.FixedPointConvNet.Conv) ops.get(last);
        ops.set(last, new io.llic.model.FixedPointConvNet.Conv(c.src(), c.in(), c.out(), c.kernel(), c.stride(), c.dilation(),
                c.weights(), c.bias(), c.shift(), c.activation(), c.clip() / 2));
        nets.set(L3CStructure.D1, new io.llic.model.FixedPointConvNet(d1.inputBounds(), ops));
        e = assertThrows(io.llic.model.ModelException.class, () -> shape.fromFixedPoint(nets));
        assertTrue(e.getMessage().contains("D1") && e.getMessage().contains("clip"), e.getMessage());
    }

    /**
     * Validation in pieces: an l3c batch splits into consecutive runs of whole crops under the same
     * schedule, and the pieces' bits add up to the whole batch's (each crop's code length is its own).
     */
    @Test
    void aBatchInPiecesCostsWhatItCostsWhole() throws Exception {
        L3CStructure shape = new L3CStructure(4, 1);
        double[] p = shape.pyramid(3);
        List<io.llic.train.TrainImage> images = List.of(io.llic.train.TrainImage.of("k",
                kodakCrop(0, 0, 256, 192)));
        L3CBatch batch = new L3CSampler(images, 32).sample(5, 2, 0, 5).withSchedule(0.5, true);
        List<io.llic.train.TrainBatch> pieces = batch.pieces(2L * 3 * 32 * 32);
        assertEquals(List.of(2, 2, 1), pieces.stream().map(b -> ((L3CBatch) b).count()).toList());
        java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream();
        for (io.llic.train.TrainBatch b : pieces) {
            L3CBatch l = (L3CBatch) b;
            assertTrue(l.rateWeight() == 0.5 && l.encodersFrozen(), "the schedule stays");
            joined.write(l.planes());
        }
        assertTrue(java.util.Arrays.equals(batch.planes(), joined.toByteArray()), "the same crops in order");
        assertEquals(List.of(batch), batch.pieces(5L * 3 * 32 * 32), "a batch within the limit stays whole");
        assertEquals(5, batch.pieces(1).size(), "at least a crop per piece");
        try (L3CLoss loss = new L3CLoss(shape, 1, "cpu")) {
            double whole = loss.evaluate(p, batch, 1, false).bits();
            double sum = 0;
            for (io.llic.train.TrainBatch b : pieces) {
                sum += loss.evaluate(p, b, 1, false).bits();
            }
            assertEquals(whole, sum, 1e-5 * whole);
        }
    }

    private static void assertDecodersRandom(L3CStructure shape, double[] p) {
        double[] random = shape.initial(7);
        for (int i = shape.offset(L3CStructure.D3); i < p.length; i++) {
            assertEquals(random[i], p[i], 0, "decoders start as the random start's");
        }
    }

    /** The fixed-point latents u1..u3 (5 channel planes each, 8 fraction bits) of a 64x64 crop. */
    private static long[][] latents(L3CStructure shape, double[] p, RgbImage crop) throws Exception {
        List<io.llic.model.FixedPointConvNet> nets = shape.export(p);
        long[] input = new long[3 * 64 * 64];
        for (int r = 0; r < 64; r++) {
            for (int c = 0; c < 64; c++) {
                for (int ch = 0; ch < 3; ch++) {
                    input[(ch * 64 + r) * 64 + c] = crop.get(r, c, ch);
                }
            }
        }
        int side = 64;
        long[][] z = new long[3][];
        for (int net = L3CStructure.E1; net <= L3CStructure.E3; net++) {
            long[] out = new io.llic.runtime.JavaConvEvaluator(nets.get(net)).evaluate(input, side, side);
            side /= 2;
            int plane = side * side;
            int zAt = net == L3CStructure.E3 ? 0 : shape.channels() * plane;
            z[net] = java.util.Arrays.copyOfRange(out, zAt, zAt + L3CStructure.Z * plane);
            input = java.util.Arrays.copyOf(out, shape.channels() * plane);  // F(s), the next encoder's input
        }
        return z;
    }

    /** Channels 0..2 of latent s are the colour means over 2^(s+1) blocks as symbols 12 (mean / 128 - 1). */
    private static void assertMeans(long[] z, RgbImage crop, int s) {
        int block = 2 << s;
        int side = 64 / block;
        int plane = side * side;
        int exact = 0;
        for (int ch = 0; ch < 3; ch++) {
            for (int y = 0; y < side; y++) {
                for (int xx = 0; xx < side; xx++) {
                    double sum = 0;
                    for (int dy = 0; dy < block; dy++) {
                        for (int dx = 0; dx < block; dx++) {
                            sum += crop.get(y * block + dy, xx * block + dx, ch);
                        }
                    }
                    double expected = 12 * (sum / (block * block) / 128 - 1);
                    long u = z[ch * plane + y * side + xx];
                    assertEquals(expected, u / 256.0, 0.02, "z" + (s + 1) + " channel " + ch + " at " + y + "," + xx);
                    exact += L3CStructure.symbol(u) == (int) Math.max(0, Math.min(24, Math.round(expected) + 12)) ? 1 : 0;
                }
            }
        }
        assertTrue(exact >= 0.98 * 3 * plane, "z" + (s + 1) + ": " + exact + " of " + 3 * plane + " symbols are the rounded means");
    }

    private static double distance(double[] a, double[] b, L3CStructure shape, int net) {
        double s = 0;
        for (int i = shape.offset(net); i < shape.offset(net) + shape.parameters(net); i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    /**
     * A few Adam steps lower the loss; the exported fixed-point networks then code the crop in the bits
     * the float loss predicts (within 2%), and decode it exactly: ties the padding, the latents' scale,
     * the coupling, the parameter layout and the fraction bits of export to the codec.
     */
    @Test
    void trainedNetworksExportToTheCodecsBits(@TempDir Path dir) throws Exception {
        exportCodesTheTrainedBits(new L3CStructure(8, 1), dir.resolve("plain"));
    }

    /**
     * As {@link #trainedNetworksExportToTheCodecsBits} with the checkerboard context C1: ties the two
     * halves, their order and C1's input (the first half's pixels on the image's scale, then f1) to the
     * codec.
     */
    @Test
    void trainedCheckerboardNetworksExportToTheCodecsBits(@TempDir Path dir) throws Exception {
        exportCodesTheTrainedBits(new L3CStructure(8, 1, true), dir.resolve("context"));
    }

    /**
     * Started from D1's head ({@link L3CStructure#withContext}), C1 gives D1's mixtures: a crop costs
     * what it costs without C1. C1's convolution of the first half's pixels, zero at that start, gets a
     * gradient, and a few steps of C1 alone lower the bits by more than 0.2% beyond what the same steps
     * without the pixel convolution reach.
     */
    @Test
    void theCheckerboardContextStartsAsD1AndLearnsFromTheFirstHalf() throws Exception {
        L3CStructure plain = new L3CStructure(8, 1);
        L3CStructure checker = new L3CStructure(8, 1, true);
        double[] base = plain.pyramid(3);
        L3CBatch batch = batchOf(kodakCrop(100, 200, 64, 64));
        try (L3CLoss a = new L3CLoss(plain, 1, "cpu"); L3CLoss b = new L3CLoss(checker, 1, "cpu")) {
            Adam adam = new Adam(base.length);
            for (int t = 1; t <= 20; t++) {
                adam.step(base, a.evaluateOnce(base, batch, 1.0 / batch.subpixels(), true).gradient(), t, 3e-3);
            }
            double without = a.evaluate(base, batch, 1, false).bits();
            double[] p = checker.withContext(base);
            double with = b.evaluate(p, batch, 1, false).bits();
            assertEquals(without, with, 1e-5 * without, "C1 as D1's head: the same bits");
            int from = checker.offset(L3CStructure.C1);
            int to = from + checker.parameters(L3CStructure.C1);
            int pixelConv = 3 * 8 * L3CStructure.CONTEXT_KERNEL * L3CStructure.CONTEXT_KERNEL;
            double[] g0 = b.evaluateOnce(p, batch, 1.0, true).gradient();
            double norm = 0;
            for (int i = from; i < from + pixelConv; i++) {
                norm += g0[i] * g0[i];
            }
            assertTrue(norm > 0, "C1's pixel convolution has a gradient");
            // C1 alone learns, with and without its pixel convolution: the pixels are what helps
            double seeing = c1Steps(b, p.clone(), batch, from, to);
            double blind = c1Steps(b, p.clone(), batch, from + pixelConv + 8, to);
            assertTrue(seeing < blind - 0.002 * with, "C1 learned from the first half: " + with + " -> " + seeing
                    + " bits, " + blind + " without its pixels");
        }
    }

    /** 40 Adam steps (rate 5e-4) of parameters [from, to) alone; the bits after them. */
    private static double c1Steps(L3CLoss loss, double[] p, L3CBatch batch, int from, int to) {
        Adam adam = new Adam(p.length);
        for (int t = 1; t <= 40; t++) {
            double[] g = loss.evaluateOnce(p, batch, 1.0 / batch.subpixels(), true).gradient();
            for (int i = 0; i < g.length; i++) {
                g[i] = i >= from && i < to ? g[i] : 0;
            }
            adam.step(p, g, t, 5e-4);
        }
        return loss.evaluate(p, batch, 1, false).bits();
    }

    private static void exportCodesTheTrainedBits(L3CStructure shape, Path dir) throws Exception {
        double[] p = shape.initial(4);
        RgbImage crop = kodakCrop(64, 320, 61, 37); // padded to 64 x 40: the padding is not coded
        L3CBatch batch = batchOf(crop);
        assertEquals(3L * 61 * 37, batch.subpixels());
        Adam adam = new Adam(p.length);
        double first;
        double last;
        try (L3CLoss loss = new L3CLoss(shape, 1, "cpu")) {
            first = loss.evaluate(p, batch, 1, false).bits();
            for (int t = 1; t <= 80; t++) {
                double[] g = loss.evaluateOnce(p, batch, 1.0 / batch.subpixels(), true).gradient();
                assertTrue(java.util.Arrays.stream(g).allMatch(Double::isFinite), "a finite gradient at step " + t);
                adam.step(p, g, t, 3e-3);
            }
            last = loss.evaluate(p, batch, 1, false).bits();
        }
        assertTrue(last < 0.8 * first, "loss fell from " + first + " to " + last);
        LoadedModel model = LoadedModel.of(dir, "l3c-test", L3CFamily.FAMILY, List.of(), shape.export(p), null, Map.of());
        List<NetworkEvaluator> ev = Evaluators.forModel(Evaluators.JAVA, model, "cpu", 1);
        try {
            Encoder.Result r = new Encoder(model, ev, false).encode(crop, "l3c", null);
            double predicted = r.stats().predictedBits();
            assertEquals(last, predicted, 0.02 * predicted, "codec bits vs trained loss");
            assertTrue(new Decoder(model, ev, 1 << 12).decode(r.file()).image().samePixels(crop));
        } finally {
            ev.forEach(NetworkEvaluator::close);
        }
    }
}
