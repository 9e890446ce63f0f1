package io.llic.codec;

import io.llic.entropy.RansEncoder;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.prob.MixtureCdf;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;
import java.util.List;

/**
 * Encodes an RGB image into a .llic file: network outputs for many pixels per call, one rANS stream
 * in schedule order. If the learned payload would be larger than the source PNG (or than a PNG
 * re-encoding when no source is given), the PNG is stored instead ({@link LlicHeader.Mode}).
 */
public final class Encoder {
    /** Pixels evaluated per network call when encoding (the whole image is known). */
    public static final int ENCODE_BATCH = 4096;
    private final LoadedModel model;
    private final NetworkEvaluator evaluator;
    private final boolean storedFallback;
    private boolean measureUnadapted;

    public Encoder(LoadedModel model, NetworkEvaluator evaluator) {
        this(model, evaluator, true);
    }

    /**
     * @param storedFallback whether to store the PNG instead when the model would expand the image
     *                       (off: always the learned payload, e.g. to measure the model itself)
     */
    public Encoder(LoadedModel model, NetworkEvaluator evaluator, boolean storedFallback) {
        this.model = model;
        this.evaluator = evaluator;
        this.storedFallback = storedFallback;
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

    /**
     * @param sourcePng the PNG the image came from, or null; used as the fallback payload
     */
    public Result encode(RgbImage image, Schedule schedule, byte[] sourcePng) {
        long t0 = System.nanoTime();
        byte[] pixelSha = image.sha256();
        RgbImage work = new RgbImage(image.width(), image.height(), image.samples().clone());
        RansEncoder rans = new RansEncoder(MixtureCdf.PRECISION_BITS);
        double[] predicted = new double[1];
        StepLoop loop = new StepLoop(work, schedule, evaluator, ENCODE_BATCH, ENCODE_BATCH, model.adaptation(),
                measureUnadapted);
        try {
            loop.run((cdf, value) -> {
                int start = cdf.start(value);
                int freq = cdf.start(value + 1) - start;
                rans.put(start, freq);
                predicted[0] += MixtureCdf.PRECISION_BITS - log2(freq);
                return value;
            });
        } catch (io.llic.entropy.CorruptStreamException e) {
            throw new IllegalStateException("the encoder cannot meet a corrupt stream", e);
        }
        byte[] payload = rans.finish();
        LlicHeader learned = header(image, LlicHeader.Mode.LEARNED, schedule.name(), pixelSha);
        byte[] file = new LlicFile(learned, List.of(payload)).toBytes();
        byte[] png = storedFallback ? sourcePng : null;
        if (storedFallback && png == null && file.length > image.samples().length / 2) {
            png = PngIo.write(image); // only worth the time when the model did poorly
        }
        LlicHeader header = learned;
        if (png != null) {
            LlicHeader stored = header(image, LlicHeader.Mode.STORED_PNG, schedule.name(), pixelSha);
            byte[] storedFile = new LlicFile(stored, List.of(png)).toBytes();
            if (storedFile.length < file.length) {
                file = storedFile;
                header = stored;
                payload = png;
            }
        }
        long total = System.nanoTime() - t0;
        return new Result(file, header, new CodecStats(predicted[0], payload.length * 8L, file.length * 8L,
                loop.networkNanos(), total, loop.unadaptedBits()));
    }

    private LlicHeader header(RgbImage image, int mode, String schedule, byte[] pixelSha) {
        return new LlicHeader(image.width(), image.height(), RgbImage.CHANNELS, 8, 0, mode, model.id(), model.sha256(),
                schedule, 0, pixelSha);
    }

    private static final double LN2 = StrictMath.log(2);

    private static double log2(int v) {
        return StrictMath.log(v) / LN2;
    }
}
