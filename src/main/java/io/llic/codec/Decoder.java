package io.llic.codec;

import io.llic.entropy.CorruptStreamException;
import io.llic.entropy.RansDecoder;
import io.llic.format.FormatException;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.image.UnsupportedImageException;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.prob.MixtureCdf;
import io.llic.runtime.NetworkEvaluator;
import io.llic.schedule.Schedule;
import io.llic.schedule.Schedules;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Decodes .llic files. Follows the schedule named in the header, evaluates the network on at most
 * {@code batch} pixels per call, and proves the result against the header's pixel checksum.
 * Damaged input ends in a {@link FormatException}, {@link CorruptStreamException} or
 * {@link ModelException}, never in a hang or a silently wrong image.
 */
public final class Decoder {
    /** Smallest possible code length of one symbol in bits: a frequency of 65536 - 255 of 65536. */
    static final double MIN_BITS_PER_SYMBOL = -Math.log((MixtureCdf.TOTAL - 255.0) / MixtureCdf.TOTAL) / Math.log(2);

    private final LoadedModel model;
    private final NetworkEvaluator evaluator;
    private final int batch;

    /**
     * @param model     may be null: then only stored-PNG files decode
     * @param evaluator may be null together with the model
     * @param batch     most pixels per network call (any value gives the same pixels)
     */
    public Decoder(LoadedModel model, NetworkEvaluator evaluator, int batch) {
        this.model = model;
        this.evaluator = evaluator;
        this.batch = batch;
    }

    /** The decoded image and its measurements. */
    public record Result(RgbImage image, LlicHeader header, CodecStats stats) {}

    public Result decode(byte[] file) throws IOException {
        long t0 = System.nanoTime();
        LlicFile parsed = LlicFile.parse(file);
        LlicHeader h = parsed.header();
        if (parsed.chunks().size() != 1) {
            throw new FormatException("expected 1 payload chunk, found " + parsed.chunks().size());
        }
        byte[] payload = parsed.chunks().get(0);
        RgbImage image;
        long networkNanos = 0;
        if (h.mode() == LlicHeader.Mode.STORED_PNG) {
            try {
                image = PngIo.read(payload);
            } catch (UnsupportedImageException e) {
                throw new FormatException("stored PNG payload is unreadable: " + e.getMessage());
            }
            if (image.width() != h.width() || image.height() != h.height()) {
                throw new FormatException("stored PNG is " + image.width() + "x" + image.height() + ", header says "
                        + h.width() + "x" + h.height());
            }
        } else {
            checkModel(h);
            Schedule schedule;
            try {
                schedule = Schedules.byName(h.schedule());
            } catch (IllegalArgumentException e) {
                throw new FormatException("header names " + e.getMessage());
            }
            double maxSymbols = (payload.length * 8.0 + 64) / MIN_BITS_PER_SYMBOL;
            if (3.0 * h.pixelCount() > maxSymbols) {
                throw new FormatException("header claims " + h.width() + "x" + h.height() + " pixels but the payload has only "
                        + payload.length + " bytes (corrupt file)");
            }
            image = new RgbImage(h.width(), h.height());
            RansDecoder rans = new RansDecoder(payload, MixtureCdf.PRECISION_BITS);
            StepLoop loop = new StepLoop(image, schedule, evaluator, batch, 0, model.adaptation(), false);
            loop.run((cdf, ignored) -> {
                int symbol = cdf.symbolFor(rans.target());
                rans.advance(cdf.foundStart(), cdf.foundFreq());
                return symbol;
            });
            rans.checkFinished();
            networkNanos = loop.networkNanos();
        }
        if (!MessageDigest.isEqual(image.sha256(), h.pixelSha256())) {
            throw new FormatException("decoded pixels do not match the checksum in the header (corrupt file or wrong model)");
        }
        long total = System.nanoTime() - t0;
        return new Result(image, h, new CodecStats(Double.NaN, payload.length * 8L, file.length * 8L, networkNanos, total));
    }

    private void checkModel(LlicHeader h) throws ModelException {
        if (model == null) {
            throw new ModelException("the file was coded with model '" + h.modelId() + "' but no model was given; "
                    + io.llic.model.ModelCatalog.hint(h.modelId(), h.modelSha256()));
        }
        if (!MessageDigest.isEqual(model.sha256(), h.modelSha256())) {
            throw new ModelException("the file was coded with model '" + h.modelId() + "' (sha256 "
                    + HexFormat.of().formatHex(h.modelSha256()).substring(0, 16) + "...) but the model given is '"
                    + model.id() + "' (sha256 " + model.sha256Hex().substring(0, 16) + "...); "
                    + io.llic.model.ModelCatalog.hint(h.modelId(), h.modelSha256()));
        }
    }
}
