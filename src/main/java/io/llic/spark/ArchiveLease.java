package io.llic.spark;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The archive's writer lease: the object {@code <archive>/_llic_lease} names the run that may write
 * the archive until its expiry, which a heartbeat pushes forward while the run is alive. A run that
 * finds another run's unexpired lease stops with {@link Held} (archive-job exits 75); a lease left
 * by a killed run expires after {@code lease} and is then taken over, or at once by a retry of the
 * same run id.
 *
 * <p>Creation is atomic on local disk ({@code O_EXCL}) and HDFS ({@code create} without overwrite);
 * S3 has no such primitive in Hadoop 3.4's S3A, so there the lease is written, read back after a
 * pause, and the run goes on only if it still names this run: a race of two drivers within that
 * pause is not excluded, which is why the commit is also checked afterwards (ArchiveJob).
 */
final class ArchiveLease implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ArchiveLease.class);
    static final String NAME = "_llic_lease";
    /** How long a writer waits before reading its lease back on stores without atomic create. */
    private static final long SETTLE_MILLIS = 1500;

    /** Another run holds the lease. */
    static final class Held extends IOException {
        final String holder;

        Held(Path lease, String holder, long expiresMillis) {
            super("another archive-job run (" + holder + ") holds " + lease + " until " + Instant.ofEpochMilli(expiresMillis)
                    + "; this run did nothing (try again later; a lease of a killed run expires by itself)");
            this.holder = holder;
        }
    }

    private final FileSystem fs;
    private final Path path;
    private final String runId;
    private final long leaseMillis;
    private final Thread heartbeat;
    private volatile boolean closed;
    private volatile IOException lost;

    private ArchiveLease(FileSystem fs, Path path, String runId, long leaseMillis) {
        this.fs = fs;
        this.path = path;
        this.runId = runId;
        this.leaseMillis = leaseMillis;
        this.heartbeat = new Thread(this::beat, "llic-archive-lease");
        this.heartbeat.setDaemon(true);
    }

    /** Takes the lease of {@code archive} for {@code runId}, or throws {@link Held}. */
    static ArchiveLease acquire(Configuration conf, Path archive, String runId, long leaseMillis) throws IOException {
        FileSystem fs = archive.getFileSystem(conf);
        fs.mkdirs(archive);
        Path path = new Path(archive, NAME);
        ArchiveLease lease = new ArchiveLease(fs, path, runId, leaseMillis);
        if (!lease.createExclusive()) {
            Map.Entry<String, Long> holder = lease.read();
            boolean expired = holder == null || holder.getValue() < System.currentTimeMillis();
            if (!expired && !holder.getKey().equals(runId)) {
                throw new Held(path, holder.getKey(), holder.getValue());
            }
            LOG.warn("archive-job: taking over the lease {} ({})", path,
                    holder == null ? "unreadable" : holder.getKey().equals(runId) ? "left by an earlier attempt of this run"
                            : "expired, left by run " + holder.getKey());
            lease.write();
        }
        if (!atomicCreate(fs)) {
            pause(SETTLE_MILLIS);
        }
        Map.Entry<String, Long> now = lease.read();
        if (now == null || !now.getKey().equals(runId)) {
            throw new Held(path, now == null ? "unknown" : now.getKey(), now == null ? 0 : now.getValue());
        }
        lease.heartbeat.start();
        return lease;
    }

    /** Throws if the lease was lost (expired and taken, or unreadable): before the commit. */
    void check() throws IOException {
        if (lost != null) {
            throw lost;
        }
        Map.Entry<String, Long> now = read();
        if (now == null || !now.getKey().equals(runId)) {
            throw new IOException("the archive lease " + path + " is no longer this run's (now: "
                    + (now == null ? "missing" : now.getKey()) + "); nothing was committed");
        }
    }

    private static boolean atomicCreate(FileSystem fs) {
        String scheme = fs.getScheme();
        return "file".equals(scheme) || "hdfs".equals(scheme);
    }

    private boolean createExclusive() throws IOException {
        byte[] body = body();
        if ("file".equals(fs.getScheme())) {
            java.nio.file.Path local = localPath();
            try {
                Files.write(local, body, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            }
        }
        try (OutputStream out = fs.create(path, false)) {
            out.write(body);
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        }
    }

    private void write() throws IOException {
        if ("file".equals(fs.getScheme())) {
            // one rename of a complete file: a reader never sees half a lease
            java.nio.file.Path local = localPath();
            java.nio.file.Path tmp = local.resolveSibling("." + NAME + "." + runId.hashCode() + ".tmp");
            Files.write(tmp, body());
            Files.move(tmp, local, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        try (OutputStream out = fs.create(path, true)) {
            out.write(body());
        }
    }

    /** The lease as a local file (written with java.nio, so no Hadoop checksum file goes with it). */
    private java.nio.file.Path localPath() {
        return java.nio.file.Path.of(fs.makeQualified(path).toUri());
    }

    private byte[] body() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("runId", runId);
        m.put("host", host());
        m.put("renewedAt", Instant.now().toString());
        m.put("expiresMillis", System.currentTimeMillis() + leaseMillis);
        return Jobs.JSON.writeValueAsString(m).getBytes(StandardCharsets.UTF_8);
    }

    /** (run id, expiry) of the lease as stored, or null if it is missing or unreadable. */
    private Map.Entry<String, Long> read() throws IOException {
        try (InputStream in = fs.open(path)) {
            JsonNode n = Jobs.JSON.readTree(in.readAllBytes());
            if (n == null || !n.hasNonNull("runId") || !n.hasNonNull("expiresMillis")) {
                return null;
            }
            return Map.entry(n.get("runId").asText(), n.get("expiresMillis").asLong());
        } catch (java.io.FileNotFoundException | NoSuchFileException e) {
            return null;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        }
    }

    private void beat() {
        long every = Math.max(1000, leaseMillis / 4);
        while (!closed) {
            pause(every);
            if (closed) {
                return;
            }
            try {
                Map.Entry<String, Long> now = read();
                if (now == null || !now.getKey().equals(runId)) {
                    lost = new IOException("the archive lease " + path + " was taken by "
                            + (now == null ? "nobody (it is gone)" : "run " + now.getKey()) + " while this run was working");
                    LOG.error("archive-job: {}", lost.getMessage());
                    return;
                }
                write();
            } catch (IOException e) {
                LOG.warn("archive-job: cannot renew the lease {}: {}", path, e.getMessage());
            }
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Ends the heartbeat and removes the lease if it is still this run's. */
    @Override
    public void close() {
        closed = true;
        heartbeat.interrupt();
        try {
            Map.Entry<String, Long> now = read();
            if (now != null && now.getKey().equals(runId)) {
                fs.delete(path, false);
            }
        } catch (IOException e) {
            LOG.warn("archive-job: cannot remove the lease {} (it expires by itself): {}", path, e.getMessage());
        }
    }
}
