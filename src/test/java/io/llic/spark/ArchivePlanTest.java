package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What an archive run decides from a listing and the archive's state, and its options (no Spark). */
class ArchivePlanTest {
    static InputListing.Listed file(String id, long size, long time) {
        return new InputListing.Listed("file:/src/" + id, id, size, time);
    }

    static ArchiveTable.Current archived(String id, int version, long size, long time) {
        return new ArchiveTable.Current(id, version, false, size, time, "content-" + id + version, "pixels-" + id + version);
    }

    @Test
    void newChangedUnchangedAndDeletedImagesAreToldApart() {
        Map<String, ArchiveTable.Current> current = new HashMap<>();
        current.put("same.png", archived("same.png", 1, 100, 5));
        current.put("touched.png", archived("touched.png", 2, 100, 5));
        current.put("resized.png", archived("resized.png", 1, 100, 5));
        current.put("gone.png", archived("gone.png", 3, 100, 5));
        current.put("back.png", new ArchiveTable.Current("back.png", 2, true, 100, 5, "c", "p"));
        List<InputListing.Listed> listing = List.of(file("back.png", 100, 5), file("new.png", 50, 9),
                file("resized.png", 101, 5), file("same.png", 100, 5), file("touched.png", 100, 6));
        ArchiveJob.Plan plan = ArchiveJob.Plan.of(listing, current, false);
        Map<String, ArchiveJob.Candidate> byId = new HashMap<>();
        plan.candidates.forEach(c -> byId.put(c.id(), c));
        assertEquals(List.of("gone.png"), plan.deletions);
        assertEquals(1, plan.unchangedBySize, "same.png is not read");
        assertEquals(2, plan.newCount);
        assertEquals(2, plan.checkCount);
        assertEquals(1, byId.get("new.png").version());
        assertTrue(byId.get("new.png").isNew());
        assertEquals(3, byId.get("back.png").version(), "an image back after its deletion gets a new version");
        assertTrue(byId.get("back.png").isNew());
        assertEquals(3, byId.get("touched.png").version());
        assertEquals("content-touched.png2", byId.get("touched.png").currentContentSha256(), "compared by content");
        assertEquals("pixels-resized.png1", byId.get("resized.png").currentPixelSha256());
        // --checksum reads every file
        ArchiveJob.Plan all = ArchiveJob.Plan.of(listing, current, true);
        assertEquals(0, all.unchangedBySize);
        assertEquals(5, all.candidates.size());
    }

    @Test
    void theLaterEventOfAnImageIsItsState() {
        ArchiveTable.Current v1 = archived("a.png", 1, 10, 1);
        ArchiveTable.Current v2 = archived("a.png", 2, 20, 2);
        ArchiveTable.Current gone2 = new ArchiveTable.Current("a.png", 2, true, -1, -1, null, null);
        assertEquals(v2, ArchiveTable.Current.later(v1, v2));
        assertEquals(v2, ArchiveTable.Current.later(v2, v1));
        ArchiveTable.Current deleted = ArchiveTable.Current.later(v2, gone2);
        assertTrue(deleted.deleted());
        assertEquals(2, deleted.version());
        assertEquals("content-a.png2", deleted.contentSha256(), "the deletion keeps the archived version's facts");
        assertEquals(deleted, ArchiveTable.Current.later(gone2, v2));
        ArchiveTable.Current v3 = archived("a.png", 3, 30, 3);
        assertEquals(v3, ArchiveTable.Current.later(gone2, v3), "archived again after the deletion");
    }

    @Test
    void optionsAndTimes() {
        assertThrows(IllegalArgumentException.class, () -> ArchiveJob.checkRunId("../x"));
        assertThrows(IllegalArgumentException.class, () -> ArchiveJob.checkRunId(""));
        assertEquals("nightly-20261201", ArchiveJob.checkRunId("nightly-20261201"));
        assertInstanceOf(ArchiveJob.StatusMode.class, ArchiveJob.parseMode(new String[] {"--status", "--archive", "a"}));
        ArchiveJob.MaintainMode m = (ArchiveJob.MaintainMode) ArchiveJob.parseMode(
                new String[] {"--maintain", "--archive", "a", "--retain-hours", "24"});
        assertEquals(24, m.retainHours());
        assertThrows(IllegalArgumentException.class, () -> ArchiveJob.parseMode(new String[] {"--archive", "a"}),
                "a run needs --source");
        assertThrows(IllegalArgumentException.class, () -> ArchiveJob.parseMode(
                new String[] {"--source", "s", "--archive", "a", "--run-id", "a b"}));
        ArchiveJob.Config c = (ArchiveJob.Config) ArchiveJob.parseMode(new String[] {"--source", "s", "--archive", "a"});
        assertNull(c.runId(), "taken from LLIC_RUN_ID or made when the run starts");

        assertEquals(Instant.parse("2026-12-01T18:00:00Z"), DecodeJob.Restore.parseTime("2026-12-01T18:00:00Z"));
        assertEquals(Instant.parse("2026-12-01T17:00:00Z"), DecodeJob.Restore.parseTime("2026-12-01T18:00+01:00"));
        assertEquals(Instant.parse("2026-12-01T18:30:00Z"), DecodeJob.Restore.parseTime("2026-12-01T18:30"));
        assertEquals(Instant.parse("2026-12-01T00:00:00Z"), DecodeJob.Restore.parseTime("2026-12-01"));
        assertThrows(IllegalArgumentException.class, () -> DecodeJob.Restore.parseTime("yesterday"));
        assertThrows(IllegalArgumentException.class, () -> DecodeJob.Config.parse(
                new String[] {"--archive", "a", "--output", "o", "--as-of", "2026-12-01", "--version", "3"}));
        assertThrows(IllegalArgumentException.class, () -> DecodeJob.Config.parse(
                new String[] {"--input", "i", "--archive", "a", "--output", "o"}));
        assertThrows(IllegalArgumentException.class, () -> DecodeJob.Config.parse(
                new String[] {"--input", "i", "--output", "o", "--version", "3"}));
        DecodeJob.Config r = DecodeJob.Config.parse(new String[] {"--archive", "a", "--output", "o", "--version", "3",
            "--where", "image_id = 'x'"});
        assertEquals(3, r.restore().version());
        assertEquals("image_id = 'x'", r.restore().where());
    }
}
