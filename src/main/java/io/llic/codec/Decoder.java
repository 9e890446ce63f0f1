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
import io.llic.model.CodingPlan;
import io.llic.model.ModelFamily;
import io.llic.prob.IntCdf;
import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * Decodes .llic files. Follows the model family's plan for the schedule named in the header,
 * evaluates the networks on at most {@code batch} positions per call, and proves the result against the header's pixel checksum.
 * Damaged input ends in a {@link FormatException}, {@link CorruptStreamException} or
 * {@link ModelException}, never in a hang or a silently wrong image.
 */
public final class Decoder {
    /** Bits a stream may carry beyond its symbols' code lengths (the coder's final state and slack). */
    static final long STREAM_SLACK_BITS = 64;

    private final LoadedModel model;
    private final List<NetworkEvaluator> evaluators;
    /** Evaluator sets of the threads that decode tiles: the constructor's first, then any {@link #parallelTiles} adds. */
    private List<List<NetworkEvaluator>> tileSets;
    private final int batch;

    /**
     * @param model     the model ({@link #withoutModel} for stored-PNG files only)
     * @param evaluator its network's evaluator
     * @param batch     most positions per network call (any value gives the same pixels)
     */
    public Decoder(LoadedModel model, NetworkEvaluator evaluator, int batch) {
        this(model, evaluator == null ? null : List.of(evaluator), batch);
    }

    /** @param evaluators one per network of the model ({@link LoadedModel#nets()}), or null without a model */
    public Decoder(LoadedModel model, List<NetworkEvaluator> evaluators, int batch) {
        if (model != null && (evaluators == null || evaluators.size() != model.networkCount())) {
            throw new IllegalArgumentException("model " + model.id() + " has " + model.networkCount() + " networks, "
                    + (evaluators == null ? 0 : evaluators.size()) + " evaluators given");
        }
        this.model = model;
        this.evaluators = evaluators;
        this.tileSets = evaluators == null ? List.of() : List.of(evaluators);
        this.batch = batch;
    }

    /**
     * Decodes the tiles of a tiled file on {@code 1 + more.size()} threads, the extra ones with these
     * evaluator sets (one evaluator per network each, used by that thread alone); the image is the same
     * as with one thread. Returns this.
     */
    public Decoder parallelTiles(List<List<NetworkEvaluator>> more) {
        if (model == null) {
            throw new IllegalStateException("a decoder without a model has no tiles to decode");
        }
        this.tileSets = TileWorkers.sets(model, evaluators, more);
        return this;
    }

    /** A decoder without a model: stored-PNG files only. */
    public static Decoder withoutModel() {
        return new Decoder(null, (List<NetworkEvaluator>) null, 1);
    }

    /** The decoded image and its measurements. */
    public record Result(RgbImage image, LlicHeader header, CodecStats stats) {}

    public Result decode(byte[] file) throws IOException {
        long t0 = System.nanoTime();
        LlicFile parsed = LlicFile.parse(file);
        LlicHeader h = parsed.header();
        List<byte[]> chunks = parsed.chunks();
        long payloadBytes = 0;
        for (byte[] c : chunks) {
            payloadBytes += c.length;
        }
        RgbImage image;
        long networkNanos = 0;
        if (h.mode() == LlicHeader.Mode.STORED_PNG) {
            if (chunks.size() != 1) {
                throw new FormatException("a stored PNG takes 1 payload chunk, found " + chunks.size());
            }
            try {
                image = PngIo.read(chunks.get(0));
            } catch (UnsupportedImageException e) {
                throw new FormatException("stored PNG payload is unreadable: " + e.getMessage());
            }
            if (image.width() != h.width() || image.height() != h.height()) {
                throw new FormatException("stored PNG is " + image.width() + "x" + image.height() + ", header says "
                        + h.width() + "x" + h.height());
            }
        } else {
            checkModel(h);
            ModelFamily family = model.family();
            try {
                family.checkSchedule(h.schedule());
            } catch (IllegalArgumentException e) {
                throw new FormatException("header names " + e.getMessage());
            }
            int streams = family.streams(h.schedule());
            Tiles tiles = new Tiles(h.width(), h.height(), h.tileSize());
            long count = tiles.count();
            if (chunks.size() != count * streams) {
                throw new FormatException("expected " + count * streams + " payload chunk(s) for schedule "
                        + h.schedule() + (count > 1 ? " in " + count + " tiles of " + tiles.side() : "")
                        + ", found " + chunks.size() + " (corrupt file)");
            }
            // a size field the payload cannot hold is corrupt, found before anything is allocated
            long payloadBits = 8 * payloadBytes + STREAM_SLACK_BITS * chunks.size();
            List<Tiles.Piece> pieces = tiles.pieces();
            long leastQ16 = 0;
            for (Tiles.Piece t : pieces) {
                leastQ16 += family.leastPayloadBitsQ16(t.width(), t.height());
            }
            if (leastQ16 > payloadBits << IntCdf.PRECISION_BITS) {
                throw new FormatException("header claims " + h.width() + "x" + h.height() + " pixels but the payload has only "
                        + payloadBytes + " bytes (corrupt file)");
            }
            long[] nanos = new long[1];
            if (count == 1) {
                image = decodePiece(h.schedule(), h.width(), h.height(), chunks, 0, streams, evaluators, nanos);
            } else {
                RgbImage whole = new RgbImage(h.width(), h.height());
                // each thread pastes its tiles into their own (disjoint) places; network time summed in tile order
                List<Long> times = TileWorkers.run(pieces.size(), tileSets, (i, ev) -> {
                    Tiles.Piece t = pieces.get(i);
                    long[] own = new long[1];
                    whole.paste(decodePiece(h.schedule(), t.width(), t.height(), chunks, i * streams, streams, ev, own),
                            t.row(), t.col());
                    return own[0];
                });
                for (long t : times) {
                    nanos[0] += t;
                }
                image = whole;
            }
            networkNanos = nanos[0];
        }
        if (!MessageDigest.isEqual(image.sha256(), h.pixelSha256())) {
            throw new FormatException("decoded pixels do not match the checksum in the header (corrupt file or wrong model)");
        }
        long total = System.nanoTime() - t0;
        return new Result(image, h, new CodecStats(Double.NaN, payloadBytes * 8L, file.length * 8L, networkNanos, total));
    }

    /** Decodes one image or tile from chunks {@code first .. first + streams - 1}, adding its network time to {@code nanos[0]}. */
    private RgbImage decodePiece(String schedule, int width, int height, List<byte[]> chunks, int first, int streams,
                                 List<NetworkEvaluator> evaluators, long[] nanos) throws IOException {
        CodingPlan plan = model.family().decodingPlan(model, schedule, width, height);
        RansDecoder[] rans = new RansDecoder[streams];
        for (int i = 0; i < streams; i++) {
            rans[i] = new RansDecoder(chunks.get(first + i), IntCdf.PRECISION_BITS);
        }
        StepLoop loop = new StepLoop(plan, evaluators, batch, 0);
        loop.run((stream, cdf, ignored) -> {
            RansDecoder r = rans[stream];
            int symbol = cdf.symbolFor(r.target());
            r.advance(cdf.foundStart(), cdf.foundFreq());
            return symbol;
        });
        for (RansDecoder r : rans) {
            r.checkFinished();
        }
        nanos[0] += loop.networkNanos();
        try {
            return plan.image();
        } catch (IllegalArgumentException e) {
            throw new FormatException("the decoded samples are no image (corrupt file): " + e.getMessage());
        }
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
