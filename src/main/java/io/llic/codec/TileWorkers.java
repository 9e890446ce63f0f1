package io.llic.codec;

import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Codes the tiles of one image on several threads, one set of network evaluators per thread
 * (evaluators are not thread-safe). Tiles are independent images with their own streams, so the
 * result is the same whatever the number of threads: each tile's result lands at its index, and
 * the caller assembles them in tile order. The calling thread is one of the workers; the first
 * failure stops the others from taking new tiles and is rethrown.
 */
final class TileWorkers {
    private TileWorkers() {}

    /** The work on one tile with one thread's evaluators. */
    interface Job<R> {
        R run(int tile, List<NetworkEvaluator> evaluators) throws IOException;
    }

    /**
     * The evaluator sets of the tile threads: {@code first} (the coder's own) and then {@code more},
     * each checked to hold one evaluator per network of {@code model}.
     */
    static List<List<NetworkEvaluator>> sets(io.llic.model.LoadedModel model, List<NetworkEvaluator> first,
                                             List<List<NetworkEvaluator>> more) {
        List<List<NetworkEvaluator>> sets = new ArrayList<>();
        sets.add(first);
        for (List<NetworkEvaluator> set : more) {
            if (set.size() != model.networkCount()) {
                throw new IllegalArgumentException("model " + model.id() + " has " + model.networkCount() + " networks, "
                        + set.size() + " evaluators in a tile thread's set");
            }
            sets.add(set);
        }
        return List.copyOf(sets);
    }

    /** Runs {@code job} for tiles {@code 0 .. tiles - 1} on up to {@code sets.size()} threads; results in tile order. */
    static <R> List<R> run(int tiles, List<List<NetworkEvaluator>> sets, Job<R> job) throws IOException {
        Object[] results = new Object[tiles];
        int workers = Math.min(sets.size(), tiles);
        if (workers <= 1) {
            for (int i = 0; i < tiles; i++) {
                results[i] = job.run(i, sets.get(0));
            }
            return list(results);
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 1; w < workers; w++) {
            Thread t = new Thread(worker(tiles, sets.get(w), job, results, next, failure), "llic-tile-" + w);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        worker(tiles, sets.get(0), job, results, next, failure).run();
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                    failure.compareAndSet(null, e);
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable f = failure.get();
        if (f instanceof IOException e) {
            throw e;
        }
        if (f instanceof RuntimeException e) {
            throw e;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new IllegalStateException("tile coding was interrupted", f);
        }
        return list(results);
    }

    private static <R> Runnable worker(int tiles, List<NetworkEvaluator> evaluators, Job<R> job, Object[] results,
                                       AtomicInteger next, AtomicReference<Throwable> failure) {
        return () -> {
            int i;
            while (failure.get() == null && (i = next.getAndIncrement()) < tiles) {
                try {
                    results[i] = job.run(i, evaluators);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static <R> List<R> list(Object[] results) {
        return (List<R>) Arrays.asList(results);
    }
}
