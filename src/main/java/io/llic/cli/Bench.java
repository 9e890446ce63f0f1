package io.llic.cli;

import io.llic.codec.Decoder;
import io.llic.codec.Encoder;
import io.llic.codec.PlanCost;
import io.llic.format.FormatException;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.LoadedModel;
import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code llic bench DIR}: encodes (and decodes, checking every pixel) each PNG of a directory and
 * prints one line per image (bpp, predicted bpp, coder overhead, encode and decode time, share of
 * time in the network, and for a model with an adaptation stage the bpp its network alone would give)
 * and a summary line; several models take turns image by image and are compared in ratio lines with dataset totals (total bits / total pixels) and
 * median times.
 */
final class Bench {
    private final Main main;
    private final Args args;
    private final PrintStream out;
    private final PrintStream err;

    Bench(Main main, Args args, PrintStream out, PrintStream err) {
        this.main = main;
        this.args = args;
        this.out = out;
        this.err = err;
    }

    /** One model's and schedule's totals over the set. */
    private record Summary(String label, long pixels, double decodeMs, double encodeMs, double medianDecodeMs,
                           double medianEncodeMs, double bpp) {}

    void run() throws IOException, UsageException {
        Path dir = Path.of(args.positional().get(0));
        if (!Files.isDirectory(dir)) {
            throw new java.nio.file.NoSuchFileException(dir.toString());
        }
        int limit = args.getInt("limit", Integer.MAX_VALUE, 1);
        int crop = args.getInt("crop", 0, 0);
        int batch = args.getInt("batch", Integer.MAX_VALUE, 1);
        int repeat = args.getInt("repeat", 1, 1);
        int tile = Main.tile(args);
        boolean decode = !args.flag("no-decode");
        boolean fallback = !args.flag("no-fallback");
        String scheduleOption = args.get("schedule", null);
        Main.checkEngineOptions(args);
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().toLowerCase().endsWith(".png")).sorted().limit(limit).toList();
        }
        if (files.isEmpty()) {
            throw new IOException(dir + ": no .png files");
        }
        List<LoadedModel> models = new ArrayList<>();
        String names = args.get("model", null);
        if (names == null || !names.contains(",")) {
            models.add(main.loadModel(args));
        } else {
            for (String name : names.split(",")) {
                models.add(LoadedModel.load(Path.of(name.trim())));
            }
        }
        // every model with every schedule its family codes (the family's default when none is named)
        record Pair(LoadedModel model, String schedule) {}
        List<String> asked = scheduleOption == null ? null
                : java.util.Arrays.stream(scheduleOption.split(",")).map(String::trim).toList();
        List<Pair> pairs = new ArrayList<>();
        for (LoadedModel model : models) {
            for (String name : asked == null ? List.of(model.family().defaultSchedule()) : asked) {
                if (model.family().schedules().contains(name)) {
                    pairs.add(new Pair(model, name));
                }
            }
        }
        for (String name : asked == null ? List.<String>of() : asked) {
            if (pairs.stream().noneMatch(p -> p.schedule().equals(name))) {
                throw new UsageException("no model given codes schedule '" + name + "' (their schedules: "
                        + models.stream().map(m -> m.id() + ": " + String.join(", ", m.family().schedules()))
                                .collect(java.util.stream.Collectors.joining("; ")) + ")");
            }
        }
        List<Summary> summaries = new ArrayList<>();
        List<NetworkEvaluator> evaluators = new ArrayList<>();
        try {
            List<Run> runs = new ArrayList<>();
            for (Pair pair : pairs) {
                LoadedModel model = pair.model();
                String schedule = pair.schedule();
                List<NetworkEvaluator> ev = main.evaluators(args, model);
                evaluators.addAll(ev);
                err.println("bench: " + files.size() + " images, model " + model.id() + ", schedule " + schedule
                        + ", engine " + ev.get(0).description() + (crop > 0 ? ", centre crop " + crop : "") + ", repeat " + repeat);
                runs.add(new Run(model, ev, schedule, batch, repeat, decode, tile, fallback));
            }
            // the runs take turns image by image, so that a noisy machine slows them alike
            for (Path f : files) {
                byte[] png = Files.readAllBytes(f);
                RgbImage image = PngIo.read(png);
                if (crop > 0) {
                    int w = Math.min(crop, image.width());
                    int h = Math.min(crop, image.height());
                    image = image.crop((image.height() - h) / 2, (image.width() - w) / 2, w, h);
                    png = null; // the source PNG is not the cropped image: no stored fallback comparison
                }
                for (Run r : runs) {
                    r.image(f, image, png);
                }
                if (runs.size() > 1) {
                    err.println("bench: " + f.getFileName() + " done");
                }
            }
            for (Run r : runs) {
                summaries.add(r.print(out));
            }
        } finally {
            for (NetworkEvaluator ev : evaluators) {
                ev.close();
            }
        }
        // side-by-side ratios, measured in this one run, per pixel so crops and sizes compare
        Summary first = summaries.get(0);
        for (Summary other : summaries.subList(1, summaries.size())) {
            out.printf("ratio\t%s/%s\tdecode_time_per_pixel=%.2f\tencode_time_per_pixel=%.2f\tmedian_decode=%.2f"
                            + "\tmedian_encode=%.2f\tbpp=%.4f%n", other.label(), first.label(),
                    (other.decodeMs() / other.pixels()) / (first.decodeMs() / first.pixels()),
                    (other.encodeMs() / other.pixels()) / (first.encodeMs() / first.pixels()),
                    other.medianDecodeMs() / first.medianDecodeMs(), other.medianEncodeMs() / first.medianEncodeMs(),
                    other.bpp() / first.bpp());
        }
    }

    /** One model and schedule over the set: its per-image lines and totals. */
    private static final class Run {
        private final LoadedModel model;
        private final List<NetworkEvaluator> ev;
        private final String schedule;
        private final Encoder encoder;
        private final Decoder decoder;
        private final int repeat;
        private final boolean decode;
        private final boolean adapted;
        private final StringBuilder lines = new StringBuilder();
        private long totalPixels;
        private double totalBits;
        private double totalPredicted;
        private double totalPayload;
        private double totalUnadapted;
        private double totalWithoutPredictor;
        /** The same model with its adaptation stage minus the error predictor (null when it has none). */
        private final LoadedModel withoutPredictor;
        private final int tile;
        private double sumEncodeMs;
        private double sumDecodeMs;
        private final List<Double> encodeMs = new ArrayList<>();
        private final List<Double> decodeMs = new ArrayList<>();
        private long passes;
        private long multiplyAccumulates;
        private int stored;   // images whose file stores the PNG instead (the model would have expanded them)

        Run(LoadedModel model, List<NetworkEvaluator> ev, String schedule, int batch, int repeat, boolean decode, int tile,
            boolean fallback) {
            this.model = model;
            this.ev = ev;
            this.schedule = schedule;
            this.tile = tile;
            this.encoder = new Encoder(model, ev, fallback).tiled(tile);
            this.decoder = new Decoder(model, ev, batch);
            this.repeat = repeat;
            this.decode = decode;
            this.adapted = model.adaptation() != null;
            Adaptation a = model.adaptation();
            this.withoutPredictor = a != null && a.lms()
                    ? model.withAdaptation(new Adaptation(a.bias(), a.spread(), false, a.limit(), a.minCount(), a.calibrationQ12()),
                            model.id() + "-without-predictor")
                    : null;
        }

        void image(Path f, RgbImage image, byte[] png) throws IOException {
            // the code length without the adaptation stage: one more (untimed) encode that also measures it
            double unadaptedBits = adapted
                    ? new Encoder(model, ev, false).tiled(tile).measuringUnadapted(true).encode(image, schedule, null).stats().unadaptedBits()
                    : Double.NaN;
            // and without the error predictor (the rest of the stage kept), for models that have it
            double withoutPredictorBits = withoutPredictor != null
                    ? new Encoder(withoutPredictor, ev, false).tiled(tile).encode(image, schedule, null).stats().predictedBits()
                    : Double.NaN;
            double[] enc = new double[repeat];
            double[] dec = new double[repeat];
            Encoder.Result r = null;
            double networkShare = Double.NaN;
            double encodeNetworkShare = Double.NaN;
            for (int i = 0; i < repeat; i++) {
                r = encoder.encode(image, schedule, png);
                enc[i] = r.stats().totalNanos() / 1e6;
                encodeNetworkShare = 100.0 * r.stats().networkNanos() / r.stats().totalNanos();
            }
            if (decode) {
                for (int i = 0; i < repeat; i++) {
                    Decoder.Result d = decoder.decode(r.file());
                    if (!d.image().samePixels(image)) {
                        throw new FormatException(f + ": round trip FAILED (decoded pixels differ)");
                    }
                    dec[i] = d.stats().totalNanos() / 1e6;
                    networkShare = 100.0 * d.stats().networkNanos() / d.stats().totalNanos();
                }
            }
            long pixels = image.pixelCount();
            if (r.header().mode() == io.llic.format.LlicHeader.Mode.STORED_PNG) {
                stored++;
            }
            PlanCost cost = PlanCost.of(model, schedule, image.width(), image.height(), r.header().tileSize());
            passes += cost.passes();
            multiplyAccumulates += cost.multiplyAccumulates();
            double predictedBits = r.stats().predictedBits();
            lines.append(String.format("%s\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s%n", f.getFileName(),
                    image.width(), image.height(), r.stats().fileBits() / (double) pixels, predictedBits / pixels,
                    100.0 * (r.stats().payloadBits() - predictedBits) / predictedBits, median(enc), encodeNetworkShare,
                    decode ? String.format("%.1f", median(dec)) : "-", decode ? String.format("%.1f", networkShare) : "-",
                    adapted ? String.format("%.4f", unadaptedBits / pixels) : "-",
                    withoutPredictor != null ? String.format("%.4f", withoutPredictorBits / pixels) : "-", model.id(), schedule));
            totalUnadapted += unadaptedBits;
            totalWithoutPredictor += withoutPredictorBits;
            totalPixels += pixels;
            totalBits += r.stats().fileBits();
            totalPredicted += predictedBits;
            totalPayload += r.stats().payloadBits();
            encodeMs.add(median(enc));
            sumEncodeMs += median(enc);
            if (decode) {
                decodeMs.add(median(dec));
                sumDecodeMs += median(dec);
            }
        }

        Summary print(PrintStream out) {
            out.println("image\twidth\theight\tbpp\tpredicted_bpp\toverhead_pct\tencode_ms\tencode_network_pct\tdecode_ms"
                    + "\tdecode_network_pct\tunadapted_bpp\tno_predictor_bpp\tmodel\tschedule");
            out.print(lines);
            double medianEncode = median(encodeMs.stream().mapToDouble(Double::doubleValue).toArray());
            double medianDecode = median(decodeMs.stream().mapToDouble(Double::doubleValue).toArray());
            out.printf("summary\timages=%d\tpixels=%d\tbpp=%.4f\tpredicted_bpp=%.4f\tpayload_bpp=%.4f\toverhead_pct=%.4f"
                            + "\tmedian_encode_ms=%.1f\tmedian_decode_ms=%s\tschedule=%s\tengine=%s\tunadapted_bpp=%s\tno_predictor_bpp=%s\tmodel=%s"
                            + "\tpasses_per_image=%.1f\tmacs_per_pixel=%.0f\ttile=%d\tstored_png=%d%n",
                    encodeMs.size(), totalPixels, totalBits / totalPixels, totalPredicted / totalPixels,
                    totalPayload / totalPixels, 100.0 * (totalPayload - totalPredicted) / totalPredicted, medianEncode,
                    decode ? String.format("%.1f", medianDecode) : "-", schedule, ev.get(0).description(),
                    adapted ? String.format("%.4f", totalUnadapted / totalPixels) : "-",
                    withoutPredictor != null ? String.format("%.4f", totalWithoutPredictor / totalPixels) : "-", model.id(),
                    (double) passes / encodeMs.size(), (double) multiplyAccumulates / totalPixels, Encoder.resolveTile(tile, model), stored);
            out.flush();
            return new Summary(model.id() + ":" + schedule, totalPixels, sumDecodeMs, sumEncodeMs, medianDecode,
                    medianEncode, totalBits / totalPixels);
        }
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
