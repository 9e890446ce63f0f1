package io.llic.runtime;

import io.llic.model.FixedPointLayer;
import io.llic.model.FixedPointNet;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The pure-Java fixed-point evaluator: plain {@code long} arithmetic, one pixel at a time, written
 * to be obviously the definition in {@link FixedPointLayer}. It is the oracle the DJL evaluator is
 * tested against, and works where no native library can be loaded. With more than one thread the
 * rows of a batch are split between threads; each row is computed the same way, so the result does
 * not depend on the thread count.
 */
public final class JavaEvaluator implements NetworkEvaluator {
    private static final int MIN_ROWS_PER_THREAD = 64;
    private final FixedPointNet net;
    private final int threads;
    private final ExecutorService pool;

    public JavaEvaluator(FixedPointNet net, int threads) {
        this.net = net;
        this.threads = Math.max(1, threads);
        this.pool = this.threads > 1 ? Executors.newFixedThreadPool(this.threads, r -> {
            Thread t = new Thread(r, "llic-java-evaluator");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    @Override
    public void evaluate(long[] inputs, int count, long[] outputs) {
        net.checkInputs(inputs, count);
        int parts = pool == null ? 1 : Math.min(threads, Math.max(1, count / MIN_ROWS_PER_THREAD));
        if (parts == 1) {
            evaluateRows(inputs, 0, count, outputs);
            return;
        }
        Future<?>[] futures = new Future<?>[parts];
        for (int p = 0; p < parts; p++) {
            int from = (int) ((long) count * p / parts);
            int to = (int) ((long) count * (p + 1) / parts);
            futures[p] = pool.submit(() -> evaluateRows(inputs, from, to, outputs));
        }
        try {
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private void evaluateRows(long[] inputs, int from, int to, long[] outputs) {
        List<FixedPointLayer> layers = net.layers();
        int widest = 0;
        for (FixedPointLayer l : layers) {
            widest = Math.max(widest, Math.max(l.in(), l.out()));
        }
        long[] a = new long[widest];
        long[] b = new long[widest];
        int in = net.inputs();
        int outs = net.outputs();
        for (int row = from; row < to; row++) {
            System.arraycopy(inputs, row * in, a, 0, in);
            for (FixedPointLayer layer : layers) {
                long[] w = layer.weights();
                int n = layer.fanIn();
                int perGroup = layer.out() / layer.groups();
                for (int o = 0; o < layer.out(); o++) {
                    long acc = layer.bias()[o];
                    int base = o * n;
                    int first = o / perGroup * n;
                    for (int i = 0; i < n; i++) {
                        acc += a[first + i] * w[base + i];
                    }
                    b[o] = layer.finish(acc);
                }
                long[] t = a;
                a = b;
                b = t;
            }
            System.arraycopy(a, 0, outputs, row * outs, outs);
        }
    }

    @Override
    public String description() {
        return "java(" + threads + (threads == 1 ? " thread)" : " threads)");
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
