package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.codec.Encoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** archive-job and restores through decode-job, on a real local[2] session with real Delta tables on local disk. */
class ArchiveJobIT {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path model;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("model");
        TestData.referenceModel(model);
        spark = Jobs.withDelta(LocalSpark.builder("llic-archive-test")).getOrCreate();
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    /** A small crop of a Kodak image (real content), different for each (image, x). */
    static RgbImage crop(String kodak, int x, int width) throws Exception {
        return PngIo.read(Files.readAllBytes(TestData.kodak().resolve(kodak))).crop(x, 150, width, 36);
    }

    static void put(Path source, String id, RgbImage image) throws Exception {
        Path f = source.resolve(id);
        Files.createDirectories(f.getParent());
        Files.write(f, PngIo.write(image));
    }

    static ArchiveJob.Config config(Path source, Path archive, String runId) {
        return new ArchiveJob.Config(source.toString(), archive.toString(), model, "wavefront", runId,
                InputListing.DEFAULT_GLOB, 0, 1, Encoder.MODEL_TILE, 1, false);
    }

    /** The restored images of an archive (id -> pixels), checked by decode-job against their pixel hashes. */
    static Map<String, RgbImage> restore(Path archive, Path out, DecodeJob.Restore r) throws Exception {
        DecodeJob.Result d = DecodeJob.run(spark, new DecodeJob.Config(null, out.toString(), model, 1, r));
        assertEquals(0, d.failed(), "every restored image matches its pixel hash");
        Map<String, RgbImage> images = new HashMap<>();
        try (var files = Files.walk(out)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".png")).toList()) {
                images.put(out.relativize(f).toString(), PngIo.read(Files.readAllBytes(f)));
            }
        }
        assertEquals(d.decoded(), images.size());
        return images;
    }

    static DecodeJob.Restore at(Path archive, long version) {
        return new DecodeJob.Restore(archive.toString(), null, version, null, null, false);
    }

    static void assertSame(Map<String, RgbImage> expected, Map<String, RgbImage> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String id : expected.keySet()) {
            assertTrue(expected.get(id).samePixels(actual.get(id)), id);
        }
    }

    /** (image_id, version, event) of every row: each at most once, whatever happened. */
    static List<String> keys(Path archive) {
        return spark.read().format("delta").load(archive.resolve("images").toString())
                .select(functions.concat_ws("/", functions.col("image_id"), functions.col("version").cast("string"),
                        functions.col("event")))
                .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    }

    @Test
    void runsCodeOnlyNewAndChangedImagesAndRestoreAnyEarlierState() throws Exception {
        Path source = dir.resolve("src1");
        Path archive = dir.resolve("archive1");
        Map<String, RgbImage> first = new HashMap<>();
        first.put("a.png", crop("kodim03.png", 100, 40));
        first.put("b.png", crop("kodim07.png", 200, 44));
        first.put("sub/c.png", crop("kodim19.png", 300, 36));
        for (var e : first.entrySet()) {
            put(source, e.getKey(), e.getValue());
        }
        Files.writeString(source.resolve("notes.png"), "not an image");

        ArchiveJob.Result r1 = ArchiveJob.run(spark, config(source, archive, "r1"));
        assertEquals(3, r1.added());
        assertEquals(1, r1.failed());
        assertEquals(0, r1.changed());
        assertTrue(r1.tableVersion() >= 1);
        assertTrue(r1.bitsPerPixel() > 4 && r1.bitsPerPixel() < 16, "bpp " + r1.bitsPerPixel());
        assertFalse(Files.exists(archive.resolve(ArchiveJob.STAGING)), "staging removed after the run");
        assertFalse(Files.exists(archive.resolve(ArchiveLease.NAME)), "lease released");
        List<Row> errors = spark.read().format("delta").load(archive.resolve("errors").toString()).collectAsList();
        assertEquals(1, errors.size());
        assertEquals("notes.png", errors.get(0).getAs("image_id"));
        assertEquals("r1", errors.get(0).getAs("run_id"));

        // the same run id again is the same run: nothing coded, nothing committed
        ArchiveJob.Result again = ArchiveJob.run(spark, config(source, archive, "r1"));
        assertTrue(again.alreadyDone());
        // a new run with nothing new: no commit, a run record
        ArchiveJob.Result idle = ArchiveJob.run(spark, config(source, archive, "r2"));
        assertEquals(0, idle.added() + idle.changed() + idle.deleted());
        assertEquals(-1, idle.tableVersion(), "nothing to commit");
        assertEquals(3, idle.unchanged());

        // changes: a.png new content, b.png deleted, d.png new, c.png rewritten with the same bytes and a new time
        RgbImage a2 = crop("kodim03.png", 140, 40);
        put(source, "a.png", a2);
        Files.delete(source.resolve("b.png"));
        RgbImage d = crop("kodim23.png", 50, 30);
        put(source, "d.png", d);
        Path c = source.resolve("sub/c.png");
        Files.setLastModifiedTime(c, FileTime.fromMillis(Files.getLastModifiedTime(c).toMillis() + 60_000));
        ArchiveJob.Result r3 = ArchiveJob.run(spark, config(source, archive, "r3"));
        assertEquals(1, r3.added(), "d.png");
        assertEquals(1, r3.changed(), "a.png");
        assertEquals(1, r3.deleted(), "b.png");
        assertEquals(1, r3.unchanged(), "c.png: read, same content");

        List<String> keys = keys(archive);
        assertEquals(keys.size(), Set.copyOf(keys).size(), "no row twice: " + keys);
        assertEquals(Set.of("a.png/1/archived", "b.png/1/archived", "sub/c.png/1/archived", "a.png/2/archived",
                "b.png/1/deleted", "d.png/1/archived"), Set.copyOf(keys));

        // restores: latest; as of run 1's version; deleted included; by ids; by condition; as of a time
        Map<String, RgbImage> latest = Map.of("a.png", a2, "sub/c.png", first.get("sub/c.png"), "d.png", d);
        assertSame(latest, restore(archive, dir.resolve("rest-latest"), at(archive, -1)));
        assertSame(first, restore(archive, dir.resolve("rest-r1"), at(archive, r1.tableVersion())));
        Map<String, RgbImage> withDeleted = new HashMap<>(latest);
        withDeleted.put("b.png", first.get("b.png"));
        assertSame(withDeleted, restore(archive, dir.resolve("rest-del"),
                new DecodeJob.Restore(archive.toString(), null, -1, null, null, true)));
        Path ids = dir.resolve("ids.txt");
        Files.writeString(ids, "d.png\n\nsub/c.png\n");
        assertSame(Map.of("d.png", d, "sub/c.png", first.get("sub/c.png")), restore(archive, dir.resolve("rest-ids"),
                new DecodeJob.Restore(archive.toString(), null, -1, ids.toString(), null, false)));
        assertSame(Map.of("a.png", a2), restore(archive, dir.resolve("rest-where"),
                new DecodeJob.Restore(archive.toString(), null, -1, null, "image_id LIKE 'a%'", false)));
        java.time.Instant afterR1 = spark.read().format("delta").load(archive.resolve("runs").toString())
                .where("run_id = 'r1'").first().<java.sql.Timestamp>getAs("finished_at").toInstant();
        assertSame(first, restore(archive, dir.resolve("rest-time"),
                new DecodeJob.Restore(archive.toString(), afterR1, -1, null, null, false)));
        Exception early = assertThrows(java.io.IOException.class, () -> restore(archive, dir.resolve("rest-early"),
                new DecodeJob.Restore(archive.toString(), java.time.Instant.parse("2001-01-01T00:00:00Z"), -1, null, null,
                        false)));
        assertTrue(early.getMessage().contains("no version at or before"), early.getMessage());
        Files.writeString(ids, "nope.png\n");
        Exception unknown = assertThrows(java.io.IOException.class, () -> restore(archive, dir.resolve("rest-none"),
                new DecodeJob.Restore(archive.toString(), null, -1, ids.toString(), null, false)));
        assertTrue(unknown.getMessage().contains("nope.png"), unknown.getMessage());

        // the runs table and the status
        List<Row> runs = spark.read().format("delta").load(archive.resolve("runs").toString()).orderBy("committed_at")
                .collectAsList();
        assertEquals(List.of("r1", "r2", "r3"), runs.stream().map(x -> x.<String>getAs("run_id")).toList());
        assertEquals(3L, runs.get(0).<Long>getAs("new_images"));
        // one archive per source: another root would make every archived image look deleted
        Path other = dir.resolve("other-source");
        put(other, "a.png", a2);
        Exception wrongSource = assertThrows(java.io.IOException.class,
                () -> ArchiveJob.run(spark, config(other, archive, "r4")));
        assertTrue(wrongSource.getMessage().contains("one archive per source"), wrongSource.getMessage());
        assertEquals(keys.size(), keys(archive).size(), "nothing committed");
        String status = ArchiveStatus.render(spark, archive.toString());
        assertTrue(status.contains("3 in the archive now, 1 deleted from the source (kept), 5 content versions"), status);
        assertTrue(status.contains("r3") && status.contains("saved"), status);

        // maintenance: OPTIMIZE then VACUUM with no retention: the latest state restores as before, and
        // the first run's version, whose files were compacted away, is refused with the reason
        new ArchiveTable(spark, archive.toString()).maintain(0);
        assertSame(latest, restore(archive, dir.resolve("rest-after-maintain"), at(archive, -1)));
        Exception vacuumed = assertThrows(java.io.IOException.class, () -> restore(archive, dir.resolve("rest-vacuumed"),
                at(archive, r1.tableVersion())));
        assertTrue(vacuumed.getMessage().contains("removed by VACUUM"), vacuumed.getMessage());
    }

    @Test
    void runsStartedTogetherLeaveNoDuplicatesAndTheSecondIsToldTheArchiveIsBusy() throws Exception {
        Path source = dir.resolve("src2");
        Path archive = dir.resolve("archive2");
        put(source, "x.png", crop("kodim05.png", 10, 40));
        put(source, "y.png", crop("kodim08.png", 10, 40));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<ArchiveJob.Result>> runs = new ArrayList<>();
        for (String id : List.of("p1", "p2")) {
            runs.add(pool.submit(() -> ArchiveJob.run(spark, config(source, archive, id))));
        }
        int busy = 0;
        long added = 0;
        for (Future<ArchiveJob.Result> f : runs) {
            try {
                added += f.get().added();
            } catch (java.util.concurrent.ExecutionException e) {
                assertTrue(e.getCause() instanceof ArchiveLease.Held, String.valueOf(e.getCause()));
                busy++;
            }
        }
        pool.shutdown();
        List<String> keys = keys(archive);
        assertEquals(Set.of("x.png/1/archived", "y.png/1/archived"), Set.copyOf(keys));
        assertEquals(2, keys.size(), "no duplicates");
        assertEquals(1, busy, "the run that found the other's lease stopped at once");
        assertEquals(2, added, "each image coded and committed once");
        // a later run finds everything in place
        assertEquals(0, ArchiveJob.run(spark, config(source, archive, "p3")).added());
    }

    @Test
    void anotherRunsLiveLeaseKeepsARunOutAndAnExpiredOneIsTakenOver() throws Exception {
        Path archive = dir.resolve("archive3");
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        org.apache.hadoop.fs.Path a = new org.apache.hadoop.fs.Path(archive.toString());
        try (ArchiveLease held = ArchiveLease.acquire(conf, a, "first", 60_000)) {
            ArchiveLease.Held e = assertThrows(ArchiveLease.Held.class, () -> ArchiveLease.acquire(conf, a, "second", 60_000));
            assertTrue(e.getMessage().contains("first"), e.getMessage());
            held.check();
        }
        assertFalse(Files.exists(archive.resolve(ArchiveLease.NAME)), "released");
        // a lease that expired (a killed run) is taken over
        Files.writeString(archive.resolve(ArchiveLease.NAME), "{\"runId\":\"killed\",\"expiresMillis\":1}");
        try (ArchiveLease taken = ArchiveLease.acquire(conf, a, "third", 60_000)) {
            taken.check();
            assertTrue(Files.readString(archive.resolve(ArchiveLease.NAME)).contains("third"));
        }
    }
}
