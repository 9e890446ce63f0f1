package io.llic.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.runtime.NetworkEvaluator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The tile threads: results in tile order whatever the threads, each thread with its own evaluator set, failures rethrown. */
class TileWorkersTest {
    private static List<List<NetworkEvaluator>> sets(int n) {
        List<List<NetworkEvaluator>> sets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sets.add(new ArrayList<>()); // distinct objects: which set a tile used is visible
        }
        return sets;
    }

    private static void pause(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }

    @Test
    void resultsAreInTileOrderAndEachThreadKeepsItsSet() throws Exception {
        List<List<NetworkEvaluator>> sets = sets(3);
        Set<String> threadAndSet = Collections.synchronizedSet(new HashSet<>());
        List<Integer> out = TileWorkers.run(40, sets, (i, ev) -> {
            threadAndSet.add(Thread.currentThread().getName() + "/" + System.identityHashCode(ev));
            pause(i % 3);
            return i * i;
        });
        for (int i = 0; i < 40; i++) {
            assertEquals(i * i, out.get(i));
        }
        Set<String> threads = new HashSet<>();
        for (String s : threadAndSet) {
            assertTrue(threads.add(s.split("/")[0]), "a thread used two evaluator sets: " + threadAndSet);
        }
        assertTrue(threads.size() >= 2 && threads.size() <= 3, threadAndSet.toString());
    }

    @Test
    void theFirstFailureIsRethrownAndStopsTheOtherThreads() {
        AtomicInteger started = new AtomicInteger();
        IOException boom = new IOException("tile 3 is corrupt");
        IOException e = assertThrows(IOException.class, () -> TileWorkers.run(1000, sets(3), (i, ev) -> {
            started.incrementAndGet();
            if (i == 3) {
                throw boom;
            }
            pause(2);
            return i;
        }));
        assertSame(boom, e);
        assertTrue(started.get() < 100, started.get() + " tiles started after the failure");
        OutOfMemoryError oom = assertThrows(OutOfMemoryError.class, () -> TileWorkers.run(5, sets(2), (i, ev) -> {
            throw new OutOfMemoryError("tile heap");
        }));
        assertEquals("tile heap", oom.getMessage());
    }

    @Test
    void oneSetOrOneTileRunsOnTheCallingThread() throws Exception {
        String caller = Thread.currentThread().getName();
        assertEquals(List.of(caller, caller), TileWorkers.run(2, sets(1), (i, ev) -> Thread.currentThread().getName()));
        assertEquals(List.of(caller), TileWorkers.run(1, sets(4), (i, ev) -> Thread.currentThread().getName()));
    }
}
