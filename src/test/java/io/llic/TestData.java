package io.llic;

import io.llic.image.RgbImage;
import io.llic.model.FixedPointExport;
import io.llic.model.FixedPointLayer;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.causal.ReferenceImporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Shared test inputs: paths into ../shared, small generated models and images. */
public final class TestData {
    private TestData() {}

    public static Path shared() {
        return Path.of(System.getProperty("llic.shared", "../shared"));
    }

    public static Path kodak() {
        return shared().resolve("datasets/kodak");
    }

    public static Path referenceWeights() {
        return shared().resolve("reference/gumus2023-59k");
    }

    /** The published reference weights imported into {@code dir} (read from ../shared, never copied into the repo). */
    public static LoadedModel referenceModel(Path dir) throws IOException {
        return ReferenceImporter.importReference(referenceWeights(), dir, ReferenceImporter.DEFAULT_ID);
    }

    /** A small random network of the causal family (36 -> hidden -> hidden -> 36). */
    /**
     * A random net with grouped hidden layers, as an interpolation band network is built: dense
     * {@code inputs -> 4*hidden}, then {@code 4*hidden -> 4*hidden} and {@code 4*hidden -> outputs} in 4 groups.
     */
    public static FixedPointNet randomGroupedNet(long seed, int inputs, int hidden, int outputs) throws ModelException {
        Random r = new Random(seed);
        int g = 4;
        int[][] shapes = {{inputs, g * hidden, 1}, {g * hidden, g * hidden, g}, {g * hidden, outputs, g}};
        List<FixedPointLayer> layers = new ArrayList<>();
        for (int l = 0; l < shapes.length; l++) {
            int in = shapes[l][0];
            int out = shapes[l][1];
            int groups = shapes[l][2];
            long[] w = new long[in / groups * out];
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.round(r.nextGaussian() * (1 << 20) / Math.sqrt(in / groups));
            }
            long[] b = new long[out];
            for (int i = 0; i < out; i++) {
                b[i] = Math.round(0.1 * r.nextGaussian() * (1L << 36));
            }
            boolean last = l == shapes.length - 1;
            layers.add(new FixedPointLayer(in, out, w, b, 20, !last, last ? 1L << 31 : 1L << 26, groups));
        }
        return new FixedPointNet(255, layers);
    }

    public static FixedPointNet randomNet(long seed, int hidden) throws ModelException {
        Random r = new Random(seed);
        int[] widths = {36, hidden, hidden, 36};
        List<double[]> w = new ArrayList<>();
        List<double[]> b = new ArrayList<>();
        int[] ins = new int[widths.length - 1];
        for (int l = 0; l + 1 < widths.length; l++) {
            ins[l] = widths[l];
            double[] wl = new double[widths[l] * widths[l + 1]];
            for (int i = 0; i < wl.length; i++) {
                wl[i] = r.nextGaussian() / Math.sqrt(widths[l]);
            }
            double[] bl = new double[widths[l + 1]];
            for (int i = 0; i < bl.length; i++) {
                bl[i] = 0.1 * r.nextGaussian();
            }
            if (l + 2 == widths.length) {
                // means near mid-grey, usable standard deviations
                for (int i = 0; i < 9; i++) {
                    bl[i] = 0.5;
                }
                for (int i = 9; i < 18; i++) {
                    bl[i] = 0.05;
                }
            }
            w.add(wl);
            b.add(bl);
        }
        return FixedPointExport.export(w, b, ins);
    }

    public static LoadedModel randomModel(Path dir, long seed) throws IOException {
        return LoadedModel.write(dir, "test-random-" + seed, randomNet(seed, 16), Map.of("source", "TestData.randomNet"));
    }

    /** A random model of the interp family (three band networks of the right shapes, small hidden width). */
    public static LoadedModel randomInterpModel(Path dir, long seed) throws IOException {
        List<FixedPointNet> nets = new ArrayList<>();
        for (int band = 0; band < 3; band++) {
            nets.add(randomGroupedNet(seed * 3 + band, io.llic.model.interp.InterpModel.inputs(band), 6,
                    io.llic.model.interp.InterpModel.OUTPUTS));
        }
        LoadedModel m = LoadedModel.of(dir, "test-interp-" + seed, io.llic.model.interp.InterpModel.FAMILY, nets, null,
                Map.of("source", "TestData.randomInterpModel"));
        java.nio.file.Files.createDirectories(dir);
        LoadedModel.ModelBytes files = m.toFiles();
        java.nio.file.Files.write(dir.resolve(LoadedModel.WEIGHTS), files.weights());
        java.nio.file.Files.write(dir.resolve(LoadedModel.MANIFEST), files.manifest());
        return LoadedModel.load(dir);
    }

    /** A random l3c model of {@code channels} channels and one residual block: a training start's weights. */
    public static LoadedModel randomL3CModel(Path dir, long seed, int channels) throws IOException {
        return l3cModel(dir, seed, channels, false);
    }

    /**
     * An l3c model of 1 block per body with random decoders; encoders random too, or at the {@code pyramid}
     * start (z channels 0..2 the colour means, 3 and 4 constant).
     */
    public static LoadedModel l3cModel(Path dir, long seed, int channels, boolean pyramid) throws IOException {
        return l3cModel(dir, seed, channels, pyramid, false);
    }

    /** {@link #l3cModel(Path, long, int, boolean)}, with the image's checkerboard context network C1 if {@code context}. */
    public static LoadedModel l3cModel(Path dir, long seed, int channels, boolean pyramid, boolean context) throws IOException {
        io.llic.model.l3c.L3CStructure shape = new io.llic.model.l3c.L3CStructure(channels, 1, context);
        return l3cModel(dir, seed, shape, pyramid ? shape.pyramid(seed) : shape.initial(seed),
                "TestData.l3cModel" + (pyramid ? " (pyramid)" : "") + (context ? " (checkerboard context)" : ""));
    }

    /** An l3c model of {@code shape} with parameters {@code p}, written to {@code dir} and loaded from there. */
    public static LoadedModel l3cModel(Path dir, long seed, io.llic.model.l3c.L3CStructure shape, double[] p, String source)
            throws IOException {
        LoadedModel m = LoadedModel.of(dir, "test-l3c-" + seed, io.llic.model.l3c.L3CFamily.FAMILY, List.of(),
                shape.export(p), null, Map.of("source", source));
        java.nio.file.Files.createDirectories(dir);
        LoadedModel.ModelBytes files = m.toFiles();
        java.nio.file.Files.write(dir.resolve(LoadedModel.WEIGHTS), files.weights());
        java.nio.file.Files.write(dir.resolve(LoadedModel.MANIFEST), files.manifest());
        return LoadedModel.load(dir);
    }

    /** A smooth synthetic image with some noise, so models have something to predict. */
    public static RgbImage syntheticImage(int width, int height, long seed) {
        Random r = new Random(seed);
        RgbImage img = new RgbImage(width, height);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < 3; c++) {
                    double v = 128 + 60 * Math.sin(0.1 * x + c) + 40 * Math.cos(0.07 * y - c) + r.nextInt(9) - 4;
                    img.set(y, x, c, (int) Math.max(0, Math.min(255, v)));
                }
            }
        }
        return img;
    }

    public static byte[] read(Path p) throws IOException {
        return Files.readAllBytes(p);
    }
}
