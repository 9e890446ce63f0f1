package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** eval-job's check that every listed image ends with a full set of rows or one input error. */
class EvalAccountingTest {
    private static Row row(String id, String codec) {
        return RowFactory.create(id, codec, 1L, 8L, 8.0, 1.0, 1.0, true, null);
    }

    private static List<Row> complete(String id) {
        return new ArrayList<>(List.of(row(id, "llic:m:wavefront"), row(id, "png")));
    }

    @Test
    void completeRowsAndInputErrorsAreAccountedFor() {
        List<Row> rows = new ArrayList<>(complete("a.png"));
        rows.add(row("bad.png", EvalJob.INPUT_ERROR));
        assertEquals(List.of(), EvalJob.unaccounted(List.of("a.png", "bad.png"), rows, 2));
    }

    @Test
    void missingDuplicatedAndStrayRowsAreNamed() {
        List<Row> rows = new ArrayList<>(complete("a.png"));
        rows.add(row("b.png", "png"));                        // one codec missing
        rows.addAll(complete("c.png"));
        rows.add(row("c.png", "png"));                        // a codec twice
        rows.add(row("d.png", EvalJob.INPUT_ERROR));
        rows.add(row("d.png", "png"));                        // an input error and a measurement
        rows.addAll(complete("stray.png"));                   // never listed
        assertEquals(List.of("b.png", "c.png", "d.png", "e.png", "stray.png"),
                EvalJob.unaccounted(List.of("a.png", "b.png", "c.png", "d.png", "e.png"), rows, 2));
    }
}
