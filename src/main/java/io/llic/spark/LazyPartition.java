package io.llic.spark;

import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;

/**
 * A partition's rows mapped one at a time as Spark pulls them, so a task holds one image (and its
 * bitstream) at once instead of the whole partition's results. {@code close} (giving the executor's
 * model back) runs once: when the rows run out, or when the task ends early (failure, or a consumer
 * that stops reading).
 *
 * @param <I> input rows
 * @param <O> results; a step may return null for "nothing to emit"
 */
final class LazyPartition<I, O> implements Iterator<O> {
    /** One row's work. */
    interface Step<I, O> {
        O apply(I row);
    }

    private final Iterator<I> rows;
    private final Step<I, O> step;
    private Runnable close;
    private O pending;

    LazyPartition(Iterator<I> rows, Step<I, O> step, Runnable close) {
        this.rows = rows;
        this.step = step;
        this.close = close;
        TaskContext task = TaskContext.get();
        if (task != null) {
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> closeOnce());
        }
    }

    @Override
    public boolean hasNext() {
        while (pending == null) {
            if (!rows.hasNext()) {
                closeOnce();
                return false;
            }
            pending = step.apply(rows.next());
        }
        return true;
    }

    @Override
    public O next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        O out = pending;
        pending = null;
        return out;
    }

    private void closeOnce() {
        Runnable c = close;
        close = null;
        if (c != null) {
            c.run();
        }
    }
}
