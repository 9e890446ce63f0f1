package io.llic.spark;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Logs images done / total and MPix/s on the driver while a job runs. Finished tasks count through
 * the accumulators; running tasks through the accumulator values their executors report with every
 * heartbeat ({@code spark.executor.heartbeatInterval}), so progress moves within long tasks too.
 */
final class Progress implements AutoCloseable {
    private final SparkContext sc;
    private final Listener listener;
    private final Thread thread;
    private volatile boolean done;

    Progress(Logger log, SparkContext sc, String job, long totalImages, LongAccumulator images, LongAccumulator pixels,
             long periodMillis) {
        this.sc = sc;
        this.listener = new Listener(images.id(), pixels.id());
        sc.addSparkListener(listener);
        long start = System.nanoTime();
        thread = new Thread(() -> {
            while (!done) {
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                long imagesNow = images.value() + listener.running(listener.runningImages);
                double mpix = (pixels.value() + listener.running(listener.runningPixels)) / 1e6;
                log.info(String.format("%s: %d / %d images, %.1f MPix, %.2f MPix/s, %.0f s", job, imagesNow,
                        totalImages, mpix, mpix / seconds, seconds));
            }
        }, "llic-progress");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        done = true;
        thread.interrupt();
        sc.removeSparkListener(listener);
    }

    /** Keeps the latest accumulator values of running tasks. */
    static final class Listener extends SparkListener {
        private final long imagesId;
        private final long pixelsId;
        final Map<Long, Long> runningImages = new ConcurrentHashMap<>();
        final Map<Long, Long> runningPixels = new ConcurrentHashMap<>();

        Listener(long imagesId, long pixelsId) {
            this.imagesId = imagesId;
            this.pixelsId = pixelsId;
        }

        long running(Map<Long, Long> m) {
            return m.values().stream().mapToLong(Long::longValue).sum();
        }

        @Override
        public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
            for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t
                    : CollectionConverters.asJava(update.accumUpdates())) {
                long task = (Long) t._1();
                for (AccumulableInfo info : CollectionConverters.asJava(t._4())) {
                    if (info.update().isDefined() && info.update().get() instanceof Long v) {
                        if (info.id() == imagesId) {
                            runningImages.put(task, v);
                        } else if (info.id() == pixelsId) {
                            runningPixels.put(task, v);
                        }
                    }
                }
            }
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            runningImages.remove(end.taskInfo().taskId());
            runningPixels.remove(end.taskInfo().taskId());
        }
    }
}
