package io.llic.codec;

import io.llic.entropy.RansEncoder;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.CodingPlan;
import io.llic.model.LoadedModel;
import io.llic.model.ModelFamily;
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
    /**
     * The tile setting "the model family's default" ({@link ModelFamily#defaultTile}: 2048, l3c 1024):
     * an image wider or taller than the tile side is coded as independent tiles of that size (the
     * header's {@code tileSize}), which bounds the coder's memory by the tile instead of the image.
     * Images that fit in one tile are not tiled, so their bitstreams are as before tiling.
     */
    public static final int MODEL_TILE = -1;
    /** Smallest tile side accepted (a tile below this loses too much context to its borders). */
    public static final int MIN_TILE = 64;
    private final LoadedModel model;
    private final List<NetworkEvaluator> evaluators;
    /** Evaluator sets of the threads that code tiles: the constructor's first, then any {@link #parallelTiles} adds. */
    private List<List<NetworkEvaluator>> tileSets;
    private final boolean storedFallback;
    private boolean measureUnadapted;
    private int tileSize = MODEL_TILE;

    public Encoder(LoadedModel model, NetworkEvaluator evaluator) {
        this(model, List.of(evaluator), true);
    }

    /**
     * @param evaluators     one per network of the model ({@link LoadedModel#nets()})
     * @param storedFallback whether to store the PNG instead when the model would expand the image
     *                       (off: always the learned payload, e.g. to measure the model itself)
     */
    public Encoder(LoadedModel model, List<NetworkEvaluator> evaluators, boolean storedFallback) {
        if (evaluators.size() != model.networkCount()) {
            throw new IllegalArgumentException("model " + model.id() + " has " + model.networkCount() + " networks, "
                    + evaluators.size() + " evaluators given");
        }
        this.model = model;
        this.evaluators = evaluators;
        this.tileSets = List.of(evaluators);
        this.storedFallback = storedFallback;
    }

    /**
     * Codes the tiles of a tiled image on {@code 1 + more.size()} threads, the extra ones with these
     * evaluator sets (one evaluator per network each, used by that thread alone). The file is the
     * same as with one thread. Returns this.
     */
    public Encoder parallelTiles(List<List<NetworkEvaluator>> more) {
        this.tileSets = TileWorkers.sets(model, evaluators, more);
        return this;
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

    /**
     * Tile side for images larger than it ({@link #MODEL_TILE}, the model family's, unless set); 0 never tiles.
     * Returns this.
     */
    public Encoder tiled(int size) {
        this.tileSize = checkTile(size);
        return this;
    }

    /**
     * {@code size} if it is a tile setting this encoder takes (0, {@link #MODEL_TILE}, or at least
     * {@link #MIN_TILE}); the one check of --tile.
     */
    public static int checkTile(int size) {
        if (size != 0 && size != MODEL_TILE && size < MIN_TILE) {
            throw new IllegalArgumentException("tile size (--tile) must be 0 (no tiles) or at least " + MIN_TILE + ", got "
                    + size);
        }
        return size;
    }

    /** The tile side this encoder uses for {@code image}: 0 when the image is coded as one piece. */
    public int tileSizeFor(RgbImage image) {
        return tileSide(resolveTile(tileSize, model), image.width(), image.height());
    }

    /** The tile side the setting {@code tile} means for {@code model}: its family's default for {@link #MODEL_TILE}. */
    public static int resolveTile(int tile, LoadedModel model) {
        return tile == MODEL_TILE ? model.family().defaultTile() : tile;
    }

    /** The tile side a {@code width} x {@code height} image is cut with under the setting {@code tile}: 0 for one piece. */
    public static int tileSide(int tile, int width, int height) {
        return tile > 0 && (width > tile || height > tile) ? tile : 0;
    }

    /** How many tiles of side {@code side} (0: untiled) a {@code width} x {@code height} image has. */
    public static long tileCount(int side, int width, int height) {
        return new Tiles(width, height, side).count();
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
        int tile = tileSizeFor(image);
        Tiles tiles = new Tiles(image.width(), image.height(), tile);
        if (tiles.count() * model.family().streams(model.family().checkSchedule(schedule)) > LlicFile.MAX_CHUNKS) {
            throw new IllegalArgumentException("tile size " + tile + " cuts a " + image.width() + "x" + image.height()
                    + " image into " + tiles.count() + " tiles, more streams than a file holds (" + LlicFile.MAX_CHUNKS
                    + "): choose larger tiles");
        }
        // tiles in raster order, each an independent image with its own streams (untiled: the image itself)
        List<Tiles.Piece> pieces = tiles.pieces();
        List<Coded> coded;
        try {
            coded = TileWorkers.run(pieces.size(), tileSets, (i, ev) -> {
                Tiles.Piece t = pieces.get(i);
                RgbImage piece = tile == 0 ? image : image.crop(t.row(), t.col(), t.width(), t.height());
                return codePiece(model.family().encodingPlan(model, schedule, piece, measureUnadapted), ev);
            });
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // coding an image in memory reads nothing
        }
        String planned = null;
        List<byte[]> chunks = new ArrayList<>();
        double predictedBits = 0;
        long networkNanos = 0;
        double unadapted = 0;
        for (Coded c : coded) {
            planned = c.schedule;
            chunks.addAll(c.chunks);
            predictedBits += c.predicted;
            networkNanos += c.networkNanos;
            unadapted += c.unadapted;
        }
        long payloadBytes = 0;
        for (byte[] chunk : chunks) {
            payloadBytes += chunk.length;
        }
        LlicHeader learned = header(image, LlicHeader.Mode.LEARNED, planned, tile, pixelSha);
        byte[] file = new LlicFile(learned, chunks).toBytes();
        byte[] png = storedFallback ? sourcePng : null;
        if (storedFallback && png == null && file.length > image.samples().length / 2) {
            png = PngIo.write(image); // only worth the time when the model did poorly
        }
        LlicHeader header = learned;
        // the stored alternative has the same header and one chunk: build it only when it can be smaller
        if (png != null && png.length <= payloadBytes + 8L * chunks.size() + 64) {
            LlicHeader stored = header(image, LlicHeader.Mode.STORED_PNG, planned, 0, pixelSha);
            byte[] storedFile = new LlicFile(stored, List.of(png)).toBytes();
            if (storedFile.length < file.length) {
                file = storedFile;
                header = stored;
                payloadBytes = png.length;
            }
        }
        long total = System.nanoTime() - t0;
        return new Result(file, header, new CodecStats(predictedBits, payloadBytes * 8L, file.length * 8L,
                networkNanos, total, unadapted));
    }

    /** One coded image or tile: its streams, in order, and its measurements. */
    private record Coded(String schedule, List<byte[]> chunks, double predicted, long networkNanos, double unadapted) {}

    /** Codes one image or tile along its plan with one thread's evaluators. */
    private Coded codePiece(CodingPlan plan, List<NetworkEvaluator> ev) {
        RansEncoder[] rans = new RansEncoder[model.family().streams(plan.schedule())];
        for (int i = 0; i < rans.length; i++) {
            rans[i] = new RansEncoder(IntCdf.PRECISION_BITS);
        }
        double[] predicted = new double[1];
        StepLoop loop = new StepLoop(plan, ev, ENCODE_BATCH, ENCODE_BATCH);
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
        for (RansEncoder r : rans) {
            chunks.add(r.finish());
        }
        return new Coded(plan.schedule(), chunks, predicted[0], loop.networkNanos(), plan.unadaptedBits());
    }

    private LlicHeader header(RgbImage image, int mode, String schedule, int tile, byte[] pixelSha) {
        return new LlicHeader(image.width(), image.height(), RgbImage.CHANNELS, 8, 0, mode, model.id(), model.sha256(),
                schedule, tile, pixelSha);
    }
}
