package io.llic.spark;

import java.util.function.LongSupplier;
import org.slf4j.Logger;

/** A driver thread that logs images done / total and MPix/s while a job runs. */
final class Progress implements AutoCloseable {
    private final Thread thread;
    private volatile boolean done;

    Progress(Logger log, String job, long totalImages, LongSupplier images, LongSupplier pixels, long periodMillis) {
        long start = System.nanoTime();
        thread = new Thread(() -> {
            while (!done) {
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double mpix = pixels.getAsLong() / 1e6;
                log.info(String.format("%s: %d / %d images, %.1f MPix, %.2f MPix/s, %.0f s", job, images.getAsLong(),
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
    }
}
