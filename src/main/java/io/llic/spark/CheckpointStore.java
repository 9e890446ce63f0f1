package io.llic.spark;

import io.llic.model.ModelException;
import io.llic.train.Checkpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/** Where a training run keeps its checkpoints: rotation, the stable-phase state of a wsd run, reading the newest. */
final class CheckpointStore {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

    private CheckpointStore() {}

    static final String CHECKPOINTS = "checkpoints";

    static final int KEEP_CHECKPOINTS = 3;

    static void writeCheckpoint(FileSystem fs, Path dir, Checkpoint c) {
        try {
            fs.mkdirs(dir);
            byte[] bytes = c.toBytes();
            Jobs.writeBytes(fs, new Path(dir, Checkpoint.fileName(c.step())), bytes);
            if (isStableEnd(c)) {
                writeStable(fs, dir, c.step(), bytes);
            }
            FileStatus[] newest = newestFirst(fs, dir, STEP_PREFIX);
            for (int i = KEEP_CHECKPOINTS; i < newest.length; i++) {
                fs.delete(newest[i].getPath(), false);
            }
            LOG.info("checkpoint {} written", new Path(dir, Checkpoint.fileName(c.step())));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write checkpoint to " + dir + ": " + e.getMessage(), e);
        }
    }

    static final String STABLE_PREFIX = "stable-";

    /** The rotated checkpoints ({@link Checkpoint#fileName}). */
    static final String STEP_PREFIX = "step-";

    /** In a model directory: the run's final state and (wsd with a cool-down) its stable-phase state. */
    public static final String TRAINING_DIR = "training";

    public static final String FINAL_CHECKPOINT = "final.ckpt";

    public static final String STABLE_CHECKPOINT = "stable.ckpt";

    /** Whether {@code c} is the last step of a wsd run's stable phase (its cool-down follows). */
    static boolean isStableEnd(Checkpoint c) {
        return "wsd".equals(c.config().lrSchedule()) && c.config().cooldown() > 0 && c.step() == c.config().stableEnd();
    }

    /** The newest stable-phase checkpoint of a run, or null. */
    static Checkpoint stableCheckpoint(FileSystem fs, Path dir) throws IOException {
        FileStatus[] all = newestFirst(fs, dir, STABLE_PREFIX);
        return all.length == 0 ? null : readCheckpoint(all[0].getPath(), fs.getConf());
    }

    /** Kept beside the rotation: the state at the end of the stable phase, to extend the run from after its cool-down. */
    static void writeStable(FileSystem fs, Path dir, long step, byte[] bytes) throws IOException {
        Jobs.writeBytes(fs, new Path(dir, STABLE_PREFIX + Checkpoint.fileName(step)), bytes);
    }

    /** The checkpoint files of {@code dir} whose names start with {@code prefix}, newest (highest step) first. */
    static FileStatus[] newestFirst(FileSystem fs, Path dir, String prefix) throws IOException {
        if (!fs.exists(dir)) {
            return new FileStatus[0];
        }
        FileStatus[] all = fs.listStatus(dir, p -> p.getName().startsWith(prefix) && p.getName().endsWith(".ckpt"));
        Arrays.sort(all, (a, b) -> b.getPath().getName().compareTo(a.getPath().getName()));
        return all;
    }

    static byte[] readAll(FileSystem fs, Path file) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (InputStream in = fs.open(file)) {
            in.transferTo(buf);
        }
        return buf.toByteArray();
    }

    /** Reads one checkpoint file on any Hadoop file system; a damaged or foreign file is a clear error. */
    static Checkpoint readCheckpoint(Path file, org.apache.hadoop.conf.Configuration conf) throws IOException {
        FileSystem fs = file.getFileSystem(conf);
        if (!fs.exists(file)) {
            throw new IllegalArgumentException("checkpoint " + file + " does not exist");
        }
        try {
            return Checkpoint.fromBytes(readAll(fs, file), file.toString());
        } catch (ModelException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The newest readable checkpoint (a damaged newest one is reported and the one before it used). */
    static Checkpoint latestCheckpoint(FileSystem fs, Path dir) throws IOException {
        for (FileStatus f : newestFirst(fs, dir, STEP_PREFIX)) {
            try {
                return Checkpoint.fromBytes(readAll(fs, f.getPath()), f.getPath().toString());
            } catch (ModelException e) {
                LOG.warn("ignoring {}", e.getMessage());
            }
        }
        return null;
    }
}
