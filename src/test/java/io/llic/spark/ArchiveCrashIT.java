package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * archive-job killed with SIGKILL in a separate JVM (jobs/archive-job, as a scheduler runs it) before,
 * during and after its commit, then run again: every source image is in the archive exactly once per
 * content version, every row decodes to its pixel hash, every row belongs to a recorded run, and no
 * staged (uncommitted) data is left or visible.
 */
class ArchiveCrashIT {
    @TempDir
    static Path dir;
    static Path model;
    static SparkSession spark;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("model");
        TestData.referenceModel(model);
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** The session that inspects the archives (started after the killed JVMs, so they do not share cores early). */
    static SparkSession spark() {
        if (spark == null) {
            spark = Jobs.withDelta(LocalSpark.builder("llic-archive-crash-test")).getOrCreate();
        }
        return spark;
    }

    static Map<String, RgbImage> source(Path source) throws Exception {
        Map<String, RgbImage> images = new HashMap<>();
        String[] kodak = {"kodim01.png", "kodim02.png", "kodim04.png"};
        for (int i = 0; i < kodak.length; i++) {
            RgbImage img = PngIo.read(Files.readAllBytes(TestData.kodak().resolve(kodak[i]))).crop(40 * i, 100, 40, 32);
            Files.createDirectories(source);
            Files.write(source.resolve("img" + i + ".png"), PngIo.write(img));
            images.put("img" + i + ".png", img);
        }
        return images;
    }

    record Outcome(int status, String err, boolean killed) {}

    /**
     * Runs jobs/archive-job; with {@code haltAt} it is SIGKILLed once it reports that point ({@code
     * extraMillis} >= 0: that long after the report, wherever it then is).
     */
    static Outcome archiveJob(Path source, Path archive, String runId, String haltAt, long extraMillis) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("jobs/archive-job", "--master", "local[2]", "--source", source.toString(),
                "--archive", archive.toString(), "--model", model.toString(), "--run-id", runId, "--lease-minutes", "1");
        pb.environment().remove("SPARK_HOME");
        pb.environment().put("LLIC_JAVA_OPTS", "-Xmx2g");
        if (haltAt != null) {
            pb.environment().put("LLIC_ARCHIVE_HALT_AT", haltAt);
            if (extraMillis >= 0) {
                pb.environment().put("LLIC_ARCHIVE_HALT_MILLIS", String.valueOf(extraMillis));
            }
        }
        File err = dir.resolve("stderr-" + runId + "-" + System.nanoTime()).toFile();
        Process p = pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err).start();
        long deadline = System.currentTimeMillis() + TimeUnit.MINUTES.toMillis(10);
        boolean killed = false;
        while (p.isAlive() && System.currentTimeMillis() < deadline) {
            if (haltAt != null && Files.readString(err.toPath()).contains("llic-archive-halt: " + haltAt)) {
                if (extraMillis > 0) {
                    Thread.sleep(extraMillis);
                }
                p.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
                p.waitFor();
                killed = true;
                break;
            }
            Thread.sleep(50);
        }
        if (p.isAlive()) {
            p.destroyForcibly();
            throw new AssertionError("archive-job did not finish: " + Files.readString(err.toPath()));
        }
        return new Outcome(p.waitFor(), Files.readString(err.toPath()), killed);
    }

    /** The invariants that must hold after any crash and a clean re-run. */
    static void assertConsistent(Path archive, Map<String, RgbImage> expected) throws Exception {
        SparkSession s = spark();
        List<Row> rows = s.read().format("delta").load(archive.resolve("images").toString())
                .select("image_id", "version", "event", "run_id").collectAsList();
        Set<String> keys = new HashSet<>();
        Set<String> runIds = new HashSet<>();
        for (Row r : rows) {
            assertTrue(keys.add(r.getString(0) + "/" + r.getInt(1) + "/" + r.getString(2)), "a row twice: " + r);
            runIds.add(r.getString(3));
        }
        assertEquals(expected.size(), rows.size(), "one row per image: " + rows);
        Set<String> recorded = new HashSet<>(s.read().format("delta").load(archive.resolve("runs").toString())
                .select("run_id").as(org.apache.spark.sql.Encoders.STRING()).collectAsList());
        assertTrue(recorded.containsAll(runIds), "every committed run is recorded: rows " + runIds + ", runs " + recorded);
        assertFalse(Files.exists(archive.resolve(ArchiveJob.STAGING)), "no staged data left");
        assertFalse(Files.exists(archive.resolve(ArchiveLease.NAME)), "lease released");
        Path out = dir.resolve("restored-" + System.nanoTime());
        DecodeJob.Result d = DecodeJob.run(s, new DecodeJob.Config(null, out.toString(), model, 1,
                new DecodeJob.Restore(archive.toString(), null, -1, null, null, false)));
        assertEquals(0, d.failed());
        assertEquals(expected.size(), d.decoded());
        for (var e : expected.entrySet()) {
            assertTrue(PngIo.read(Files.readAllBytes(out.resolve(e.getKey()))).samePixels(e.getValue()), e.getKey());
        }
    }

    @Test
    void killedAtAnyPointThenRunAgainLeavesEachImageOnceAndDecodable() throws Exception {
        Random random = new Random();
        List<String> notes = new ArrayList<>();
        // before the commit (staged), then a retry of the same run id resumes from the staged rows
        Path src1 = dir.resolve("src1");
        Path arc1 = dir.resolve("arc1");
        Map<String, RgbImage> images1 = source(src1);
        Outcome k1 = archiveJob(src1, arc1, "nightly-1", "staged", -1);
        assertTrue(k1.killed(), k1.err());
        assertFalse(Files.exists(arc1.resolve("images/_delta_log/00000000000000000001.json")), "nothing committed yet");
        Outcome retry = archiveJob(src1, arc1, "nightly-1", null, -1);
        assertEquals(0, retry.status(), retry.err());
        assertTrue(retry.err().contains("resuming run nightly-1: 3 images already staged, 0 to code"), retry.err());
        assertTrue(retry.err().contains("taking over the lease"), retry.err());
        assertConsistent(arc1, images1);

        // during the commit: killed a random 0-3 s after the MERGE starts, then a new run id
        Path src2 = dir.resolve("src2");
        Path arc2 = dir.resolve("arc2");
        Map<String, RgbImage> images2 = source(src2);
        long delay = random.nextInt(3000);
        notes.add("killed " + delay + " ms into the commit");
        Outcome k2 = archiveJob(src2, arc2, "nightly-1", "committing", delay);
        assertTrue(k2.killed() || k2.status() == 0, k2.err());
        // the lease of the killed run (1 minute) keeps a new run id out until it expires: exit 75
        if (k2.killed()) {
            Outcome busy = archiveJob(src2, arc2, "nightly-2", null, -1);
            assertEquals(Jobs.EXIT_BUSY, busy.status(), busy.err());
            Thread.sleep(61_000);
        }
        Outcome rerun2 = archiveJob(src2, arc2, "nightly-2", null, -1);
        assertEquals(0, rerun2.status(), rerun2.err());
        assertConsistent(arc2, images2);

        // after the commit, before the run record: the next run records the killed one from its commit
        Path src3 = dir.resolve("src3");
        Path arc3 = dir.resolve("arc3");
        Map<String, RgbImage> images3 = source(src3);
        Outcome k3 = archiveJob(src3, arc3, "nightly-1", "committed", -1);
        assertTrue(k3.killed(), k3.err());
        Outcome rerun3 = archiveJob(src3, arc3, "nightly-1", null, -1);
        assertEquals(0, rerun3.status(), rerun3.err());
        assertTrue(rerun3.err().contains("run nightly-1 committed version 1 but was not recorded"), rerun3.err());
        assertConsistent(arc3, images3);
        List<Row> runs = spark().read().format("delta").load(arc3.resolve("runs").toString()).collectAsList();
        assertEquals(1, runs.size(), "recorded once");
        assertEquals(3L, runs.get(0).<Long>getAs("new_images"));
        System.out.println("ArchiveCrashIT: " + notes);
    }
}
