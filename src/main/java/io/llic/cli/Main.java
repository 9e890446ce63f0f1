package io.llic.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.llic.codec.Decoder;
import io.llic.codec.Encoder;
import io.llic.format.LlicFile;
import io.llic.format.LlicHeader;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.Families;
import io.llic.model.LoadedModel;
import io.llic.model.causal.ReferenceImporter;
import io.llic.runtime.Evaluators;
import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code llic} command (ARCHITECTURE.md "The command line"). Exit status 0 on success, 2 for a
 * usage error, 3 for bad input (corrupt stream, unsupported image, model mismatch), with one line
 * on stderr naming the file and the problem.
 */
public final class Main {
    static final int OK = 0;
    static final int USAGE = 2;
    static final int BAD_INPUT = 3;

    static final String USAGE_TEXT = String.join("\n",
            "usage: llic <command> [arguments]",
            "  encode  IN.png OUT.llic [--model DIR] [--schedule NAME] [--tile N]",
            "  decode  IN.llic OUT.png [--model DIR] [--batch N]",
            "  info    IN.llic                      one JSON object describing the header",
            "  import-reference SRC_DIR DEST_DIR [--id ID]",
            "  bench   DIR [--model DIR[,DIR...]] [--schedule NAME[,NAME...]] [--limit N] [--crop N] [--batch N] [--tile N] [--repeat N] [--no-decode] [--no-fallback]",
            "  bench-memory [--megapixels N] [--model DIR] [--schedule NAME] [--tile N]   peak heap of a large synthetic image",
            "common options: --engine djl|java (default djl), --threads N, --device cpu|gpu0|...",
            "--tile N: images wider or taller than N pixels are coded as independent N x N tiles (default: the model's,"
                    + " " + Families.describeTiles() + "; 0: never), which bounds memory; smaller images are not tiled",
            "schedules (by model family, the first is the default): " + Families.describeSchedules(),
            "default model: $LLIC_HOME/models/default");

    private static final Set<String> ENGINE_OPTIONS = Set.of("model", "engine", "threads", "device");

    private final PrintStream out;
    private final PrintStream err;

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] argv) {
        int status = new Main(System.out, System.err).run(argv);
        System.out.flush();
        System.exit(status);
    }

    int run(String[] argv) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            (argv.length == 0 ? err : out).println(USAGE_TEXT);
            return argv.length == 0 ? USAGE : OK;
        }
        String file = null;
        try {
            switch (argv[0]) {
                case "encode" -> {
                    Args a = new Args(argv, 1, with("schedule", "tile"), Set.of());
                    a.expectPositional(2, "encode IN.png OUT.llic");
                    file = a.positional().get(0);
                    encode(a);
                }
                case "decode" -> {
                    Args a = new Args(argv, 1, with("batch"), Set.of());
                    a.expectPositional(2, "decode IN.llic OUT.png");
                    file = a.positional().get(0);
                    decode(a);
                }
                case "info" -> {
                    Args a = new Args(argv, 1, Set.of(), Set.of());
                    a.expectPositional(1, "info IN.llic");
                    file = a.positional().get(0);
                    info(a);
                }
                case "import-reference" -> {
                    Args a = new Args(argv, 1, Set.of("id"), Set.of());
                    a.expectPositional(2, "import-reference SRC_DIR DEST_DIR");
                    file = a.positional().get(0);
                    LoadedModel m = ReferenceImporter.importReference(Path.of(file), Path.of(a.positional().get(1)),
                            a.get("id", ReferenceImporter.DEFAULT_ID));
                    out.println("imported " + m.id() + " (" + m.net().parameterCount() + " integers, sha256 "
                            + m.sha256Hex() + ") into " + m.directory());
                }
                case "bench" -> {
                    Args a = new Args(argv, 1, with("schedule", "limit", "crop", "batch", "repeat", "tsv", "tile"),
                            Set.of("no-decode", "no-fallback"));
                    a.expectPositional(1, "bench DIR");
                    file = a.positional().get(0);
                    new Bench(this, a, out, err).run();
                }
                case "bench-memory" -> {
                    Args a = new Args(argv, 1, with("schedule", "megapixels", "tile"), Set.of());
                    a.expectPositional(0, "bench-memory");
                    new MemoryBench(this, a, out, err).run();
                }
                default -> throw new UsageException("unknown command '" + argv[0] + "'");
            }
            return OK;
        } catch (UsageException e) {
            err.println("llic: " + e.getMessage());
            err.println("run 'llic --help' for usage");
            return USAGE;
        } catch (NoSuchFileException e) {
            err.println("llic: " + e.getFile() + ": no such file");
            return BAD_INPUT;
        } catch (IOException e) {
            String msg = e.getMessage();
            err.println("llic: " + (file != null && (msg == null || !msg.contains(file)) ? file + ": " : "") + msg);
            return BAD_INPUT;
        } catch (IllegalArgumentException e) {
            err.println("llic: " + e.getMessage());
            return USAGE;
        } catch (OutOfMemoryError e) {
            err.println("llic: " + file + ": out of memory");
            return BAD_INPUT;
        }
    }

    /** {@code --tile N}: tile side for images larger than N (default {@link Encoder#MODEL_TILE}, the model's; 0: never tile). */
    static int tile(Args a) throws UsageException {
        try {
            return Encoder.checkTile(a.getInt("tile", Encoder.MODEL_TILE, 0));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private static Set<String> with(String... more) {
        java.util.HashSet<String> s = new java.util.HashSet<>(ENGINE_OPTIONS);
        s.addAll(java.util.List.of(more));
        return s;
    }

    private void encode(Args a) throws IOException, UsageException {
        Path in = Path.of(a.positional().get(0));
        Path outPath = Path.of(a.positional().get(1));
        checkEngineOptions(a);
        int tile = tile(a);
        LoadedModel model = loadModel(a);
        String schedule = schedule(a, model);
        byte[] png = Files.readAllBytes(in);
        RgbImage image = PngIo.read(png);
        int tileThreads = tileThreads(a, Encoder.tileSide(Encoder.resolveTile(tile, model), image.width(), image.height()),
                image.width(), image.height());
        List<List<NetworkEvaluator>> sets = evaluatorSets(a, model, tileThreads);
        List<NetworkEvaluator> ev = sets.get(0);
        try {
            Encoder.Result r = new Encoder(model, ev, true).tiled(tile).parallelTiles(sets.subList(1, sets.size()))
                    .encode(image, schedule, png);
            writeAtomically(outPath, r.file());
            err.printf("%s: %dx%d, %.4f bpp (%s, %s, %d ms)%n", outPath, image.width(), image.height(), r.bitsPerPixel(),
                    r.header().schedule(), LlicHeader.Mode.name(r.header().mode()), r.stats().totalNanos() / 1_000_000);
        } finally {
            sets.forEach(set -> set.forEach(NetworkEvaluator::close));
        }
    }

    private void decode(Args a) throws IOException, UsageException {
        Path in = Path.of(a.positional().get(0));
        Path outPath = Path.of(a.positional().get(1));
        int batch = a.getInt("batch", Integer.MAX_VALUE, 1);
        checkEngineOptions(a);
        byte[] bytes = Files.readAllBytes(in);
        LlicHeader header = LlicFile.readHeader(bytes);
        Decoder.Result r;
        if (header.mode() == LlicHeader.Mode.STORED_PNG) {
            r = Decoder.withoutModel().decode(bytes);
        } else {
            LoadedModel model = loadModel(a);
            List<List<NetworkEvaluator>> sets = evaluatorSets(a, model, tileThreads(a, header.tileSize(), header.width(),
                    header.height()));
            try {
                r = new Decoder(model, sets.get(0), batch).parallelTiles(sets.subList(1, sets.size())).decode(bytes);
            } finally {
                sets.forEach(set -> set.forEach(NetworkEvaluator::close));
            }
        }
        writeAtomically(outPath, PngIo.write(r.image()));
    }

    private void info(Args a) throws IOException {
        Path in = Path.of(a.positional().get(0));
        byte[] bytes = Files.readAllBytes(in);
        LlicFile f = LlicFile.parse(bytes);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("file", in.toString());
        json.put("formatVersion", LlicFile.VERSION);
        json.putAll(f.header().describe());
        json.put("fileBytes", bytes.length);
        json.put("payloadBytes", f.chunks().stream().mapToLong(c -> c.length).sum());
        json.put("bitsPerPixel", bytes.length * 8.0 / f.header().pixelCount());
        out.println(new ObjectMapper().writeValueAsString(json));
    }

    LoadedModel loadModel(Args a) throws IOException, UsageException {
        String dir = a.get("model", null);
        if (dir == null) {
            Path fallback = defaultModel();
            if (!Files.isDirectory(fallback)) {
                throw new UsageException("no --model given and the default model " + fallback
                        + " does not exist (it points to models/causal in a checkout; train one with jobs/train-job,"
                        + " or name a model directory with --model)");
            }
            return LoadedModel.load(fallback);
        }
        return LoadedModel.load(Path.of(dir));
    }

    static Path defaultModel() {
        return LoadedModel.defaultDirectory();
    }

    /** Checks --engine and --threads before any file is read, so usage errors come first. */
    static void checkEngineOptions(Args a) throws UsageException {
        String engine = a.get("engine", Evaluators.DJL);
        if (!Evaluators.ENGINES.contains(engine)) {
            throw new UsageException("unknown engine '" + engine + "' (known: " + Evaluators.ENGINES + ")");
        }
        a.getInt("threads", 0, 0);
    }

    /** The --schedule option, checked against the model's family (its default when not given). */
    static String schedule(Args a, LoadedModel model) throws UsageException {
        try {
            return model.family().checkSchedule(a.get("schedule", model.family().defaultSchedule()));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /**
     * Threads for the tiles of an image cut into tiles of side {@code tile} (0: untiled): --threads N
     * codes up to N tiles at once, one evaluator thread each; an untiled image gets one set of
     * evaluators with N threads.
     */
    static int tileThreads(Args a, int tile, int width, int height) throws UsageException {
        int threads = a.getInt("threads", 0, 0);
        if (tile <= 0 || threads <= 1) {
            return 1;
        }
        long tiles = Encoder.tileCount(tile, width, height);
        return (int) Math.min(threads, tiles);
    }

    /** {@code count} sets of evaluators (one per network each): one thread each when there are several. */
    List<List<NetworkEvaluator>> evaluatorSets(Args a, LoadedModel model, int count) throws UsageException {
        if (count <= 1) {
            return List.of(evaluators(a, model));
        }
        List<List<NetworkEvaluator>> sets = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            sets.add(evaluators(a, model, 1));
        }
        return sets;
    }

    /** One evaluator per network of the model (closed by the caller). */
    List<NetworkEvaluator> evaluators(Args a, LoadedModel model) throws UsageException {
        return evaluators(a, model, a.getInt("threads", 0, 0));
    }

    /** One evaluator per network of the model with {@code threads} threads each (closed by the caller). */
    private List<NetworkEvaluator> evaluators(Args a, LoadedModel model, int threads) throws UsageException {
        checkEngineOptions(a);
        return Evaluators.forModel(a.get("engine", Evaluators.DJL), model, a.get("device", "cpu"), threads);
    }

    /**
     * Writes to a temporary file beside the target, then renames: no half-written outputs. The
     * temporary file is created like any new file (permissions from the umask), not as a private
     * temp file, so the output is as readable as the user's other files.
     */
    static void writeAtomically(Path target, byte[] data) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(System.nanoTime())
                + Long.toHexString(Thread.currentThread().getId()) + ".tmp");
        try {
            Files.write(tmp, data, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
            Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
