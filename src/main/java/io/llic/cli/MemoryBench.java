package io.llic.cli;

import io.llic.codec.Decoder;
import io.llic.codec.Encoder;
import io.llic.format.FormatException;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code llic bench-memory}: how much heap a large image needs. Builds a synthetic photo-like image of
 * the given size, then measures, each from a clean heap, the two phases a user runs: "encode" (read
 * the PNG, code it) and "decode" (decode the file, write the PNG), with wall time and the peak heap
 * (sum of the heap pools' peaks, garbage included: an upper bound) and the peak live heap (largest heap
 * in use after a collection, the data the phase really holds), per megapixel above the baseline (the
 * heap before the phase: model, engine, classes). Run it under the heap to prove, e.g.
 * {@code LLIC_JAVA_OPTS=-Xmx2g jobs/llic bench-memory --megapixels 100}: finishing is the proof, the
 * peak is the margin.
 */
final class MemoryBench {
    private final Main main;
    private final Args args;
    private final PrintStream out;
    private final PrintStream err;

    MemoryBench(Main main, Args args, PrintStream out, PrintStream err) {
        this.main = main;
        this.args = args;
        this.out = out;
        this.err = err;
    }

    void run() throws IOException, UsageException {
        int megapixels = args.getInt("megapixels", 100, 1);
        int tile = Main.tile(args);
        Main.checkEngineOptions(args);
        LoadedModel model = main.loadModel(args);
        String schedule = Main.schedule(args, model);
        // 3:2, like a camera
        int width = (int) Math.round(Math.sqrt(megapixels * 1e6 * 1.5));
        int height = (int) Math.round(megapixels * 1e6 / width);
        if ((long) width * height > PngIo.MAX_PIXELS) {
            throw new UsageException("--megapixels " + megapixels + " is above the image limit of " + PngIo.MAX_PIXELS + " pixels");
        }
        long heapLimit = Runtime.getRuntime().maxMemory();
        err.printf(Locale.ROOT, "bench-memory: %dx%d synthetic image (%.1f MP), model %s, schedule %s, tile %d, heap limit %d MB%n",
                width, height, width * (double) height / 1e6, model.id(), schedule, Encoder.resolveTile(tile, model), heapLimit >> 20);
        byte[] png = PngIo.write(synthetic(width, height));
        byte[] sha;
        byte[] file;
        List<NetworkEvaluator> ev = main.evaluators(args, model);
        try {
            out.println("phase\tseconds\tbaseline_mb\tpeak_heap_mb\tpeak_live_mb\tlive_mb_per_megapixel");
            double mp = width * (double) height / 1e6;
            startPhase();
            long t0 = System.nanoTime();
            RgbImage image = PngIo.read(png);
            Encoder.Result r = new Encoder(model, ev, true).tiled(tile).encode(image, schedule, png);
            report("encode", t0, mp);
            sha = image.sha256();
            file = r.file();
            image = null;
            png = null;
            err.printf(Locale.ROOT, "bench-memory: %d bytes, %.4f bpp, tile size %d%n", file.length, r.bitsPerPixel(),
                    r.header().tileSize());
            startPhase();
            t0 = System.nanoTime();
            RgbImage back = new Decoder(model, ev, Integer.MAX_VALUE).decode(file).image();
            byte[] written = PngIo.write(back);
            report("decode", t0, mp);
            if (!MessageDigest.isEqual(sha, back.sha256()) || written.length == 0) {
                throw new FormatException("bench-memory: round trip FAILED (decoded pixels differ)");
            }
            out.println("round_trip\texact");
        } finally {
            ev.forEach(NetworkEvaluator::close);
        }
    }

    /** Smooth shapes, edges and sensor-like noise: compresses like a photo, not like a flat test card. */
    static RgbImage synthetic(int width, int height) {
        RgbImage image = new RgbImage(width, height);
        byte[] s = image.samples();
        SplittableRandom random = new SplittableRandom(7);
        int i = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double base = 110 + 60 * Math.sin(x * 0.0021 + y * 0.0013) + 40 * Math.cos(y * 0.0047 - x * 0.0009)
                        + (((x >> 7) + (y >> 7)) % 5 == 0 ? 35 : 0);
                for (int c = 0; c < 3; c++) {
                    int v = (int) (base + 12 * c * Math.sin(x * 0.0003 * (c + 1)) + random.nextInt(7) - 3);
                    s[i++] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        }
        return image;
    }

    /** Largest heap in use right after a collection since the phase began: the live data, without garbage. */
    private final java.util.concurrent.atomic.AtomicLong peakLive = new java.util.concurrent.atomic.AtomicLong();
    private boolean listening;
    private long baseline;

    private void listen() {
        if (listening) {
            return;
        }
        listening = true;
        for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof javax.management.NotificationEmitter emitter) {
                emitter.addNotificationListener((notification, handback) -> {
                    if (!com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION
                            .equals(notification.getType())) {
                        return;
                    }
                    var info = com.sun.management.GarbageCollectionNotificationInfo.from(
                            (javax.management.openmbean.CompositeData) notification.getUserData());
                    long used = 0;
                    for (var usage : info.getGcInfo().getMemoryUsageAfterGc().values()) {
                        used += usage.getUsed();
                    }
                    peakLive.accumulateAndGet(used, Math::max);
                }, null, null);
            }
        }
    }

    private void startPhase() {
        listen();
        System.gc();
        baseline = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        peakLive.set(0);
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    private void report(String phase, long t0, double megapixels) {
        double seconds = (System.nanoTime() - t0) / 1e9;
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.gc(); // what the phase's result holds counts as live too
        double mb = peak / (double) (1 << 20);
        double live = Math.max(peakLive.get(), 0) / (double) (1 << 20);
        double base = baseline / (double) (1 << 20);
        out.printf(Locale.ROOT, "%s\t%.1f\t%.0f\t%.0f\t%.0f\t%.2f%n", phase, seconds, base, mb, live,
                (live - base) / megapixels);
        out.flush();
    }
}
