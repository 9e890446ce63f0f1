package io.llic.codec;

import io.llic.entropy.RansEncoder;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.CodingPlan;
import io.llic.model.LoadedModel;
import io.llic.prob.IntCdf;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes an RGB image into a .llic file along the model family's {@link CodingPlan}: network outputs
 * for many positions per call, one rANS stream per stream of the plan (one chunk each). If the learned
 * payload would be larger than the source PNG (or than a PNG re-encoding when no source is given), the
 * PNG is stored instead ({@link LlicHeader.Mode}).
 */
public final class Encoder {
    /** Positions evaluated per network call when encoding (the whole image is known). */
    public static final int ENCODE_BATCH = 4096;
    private final LoadedModel model;
    private final List<NetworkEvaluator> evaluators;
    private final boolean storedFallback;
    private boolean measureUnadapted;

    public Encoder(LoadedModel model, NetworkEvaluator evaluator) {
        this(model, List.of(evaluator), true);
    }

    /**
     * @param evaluators     one per network of the model ({@link LoadedModel#nets()})
     * @param storedFallback whether to store the PNG instead when the model would expand the image
     *                       (off: always the learned payload, e.g. to measure the model itself)
     */
    public Encoder(LoadedModel model, List<NetworkEvaluator> evaluators, boolean storedFallback) {
        if (evaluators.size() != model.nets().size()) {
            throw new IllegalArgumentException("model " + model.id() + " has " + model.nets().size() + " networks, "
                    + evaluators.size() + " evaluators given");
        }
        this.model = model;
        this.evaluators = evaluators;
        this.storedFallback = storedFallback;
    }

    public Encoder(LoadedModel model, NetworkEvaluator evaluator, boolean storedFallback) {
        this(model, List.of(evaluator), storedFallback);
    }

    /**
     * Also measure the code length without the model's adaptation stage ({@link CodecStats#unadaptedBits}),
     * for reports; costs one more CDF lookup per symbol. Returns this.
     */
    public Encoder measuringUnadapted(boolean on) {
        this.measureUnadapted = on;
        return this;
    }

    /** The encoded file and its measurements. */
    public record Result(byte[] file, LlicHeader header, CodecStats stats) {
        public double bitsPerPixel() {
            return (double) stats.fileBits() / header.pixelCount();
        }
    }

    /** Encodes along a causal schedule object (the causal family's schedules; see {@link #encode(RgbImage, String, byte[])}). */
    public Result encode(RgbImage image, Schedule schedule, byte[] sourcePng) {
        return encode(image, schedule.name(), sourcePng);
    }

    /**
     * @param schedule  one of the model family's schedules
     * @param sourcePng the PNG the image came from, or null; used as the fallback payload
     */
    public Result encode(RgbImage image, String schedule, byte[] sourcePng) {
        long t0 = System.nanoTime();
        byte[] pixelSha = image.sha256();
        CodingPlan plan = model.family().encodingPlan(model, schedule, image, measureUnadapted);
        RansEncoder[] rans = new RansEncoder[model.family().streams(plan.schedule())];
        for (int i = 0; i < rans.length; i++) {
            rans[i] = new RansEncoder(IntCdf.PRECISION_BITS);
        }
        double[] predicted = new double[1];
        StepLoop loop = new StepLoop(plan, evaluators, ENCODE_BATCH, ENCODE_BATCH);
        try {
            loop.run((stream, cdf, value) -> {
                int start = cdf.start(value);
                int freq = cdf.start(value + 1) - start;
                rans[stream].put(start, freq);
                predicted[0] += IntCdf.bitsOfFrequency(freq);
                return value;
            });
        } catch (io.llic.entropy.CorruptStreamException e) {
            throw new IllegalStateException("the encoder cannot meet a corrupt stream", e);
        }
        List<byte[]> chunks = new ArrayList<>();
        long payloadBytes = 0;
        for (RansEncoder r : rans) {
            byte[] chunk = r.finish();
            chunks.add(chunk);
            payloadBytes += chunk.length;
        }
        LlicHeader learned = header(image, LlicHeader.Mode.LEARNED, plan.schedule(), pixelSha);
        byte[] file = new LlicFile(learned, chunks).toBytes();
        byte[] png = storedFallback ? sourcePng : null;
        if (storedFallback && png == null && file.length > image.samples().length / 2) {
            png = PngIo.write(image); // only worth the time when the model did poorly
        }
        LlicHeader header = learned;
        if (png != null) {
            LlicHeader stored = header(image, LlicHeader.Mode.STORED_PNG, plan.schedule(), pixelSha);
            byte[] storedFile = new LlicFile(stored, List.of(png)).toBytes();
            if (storedFile.length < file.length) {
                file = storedFile;
                header = stored;
                payloadBytes = png.length;
            }
        }
        long total = System.nanoTime() - t0;
        return new Result(file, header, new CodecStats(predicted[0], payloadBytes * 8L, file.length * 8L,
                loop.networkNanos(), total, plan.unadaptedBits()));
    }

    private LlicHeader header(RgbImage image, int mode, String schedule, byte[] pixelSha) {
        return new LlicHeader(image.width(), image.height(), RgbImage.CHANNELS, 8, 0, mode, model.id(), model.sha256(),
                schedule, 0, pixelSha);
    }
}
