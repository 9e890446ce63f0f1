package io.llic;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server (S3Proxy, copied to {@code target/it-tools} by Maven) on 127.0.0.1, in
 * its own JVM, storing objects under a local folder (a bucket is a folder there), with AWS
 * signature authentication: every request must be signed with {@link #ACCESS_KEY} / {@link #SECRET_KEY}.
 */
public final class S3Server implements AutoCloseable {
    public static final String ACCESS_KEY = "llic-test";
    public static final String SECRET_KEY = "llic-test-secret";
    private final Process process;
    private final Path root;
    private final int port;

    private S3Server(Process process, Path root, int port) {
        this.process = process;
        this.root = root;
        this.port = port;
    }

    /** Starts a server storing under {@code root}, with the given buckets (empty), and waits until it accepts connections. */
    public static S3Server start(Path root, String... buckets) throws IOException, InterruptedException {
        String jar = System.getProperty("llic.s3proxy.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("S3Proxy jar not found (" + jar + "): run the integration tests with mvn verify");
        }
        Files.createDirectories(root.resolve("data"));
        for (String b : buckets) {
            Files.createDirectories(root.resolve("data").resolve(b));
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path conf = root.resolve("s3proxy.conf");
        Files.writeString(conf, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + root.resolve("data").toAbsolutePath(), ""));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", jar, "--properties", conf.toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("s3proxy.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("S3Proxy exited at start: see " + root.resolve("s3proxy.log"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return new S3Server(p, root, port);
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("S3Proxy did not listen on 127.0.0.1:" + port + " within 60 s");
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** Where the server keeps the objects of {@code bucket} (to look at what a job left, from outside S3). */
    public Path bucketFolder(String bucket) {
        return root.resolve("data").resolve(bucket);
    }

    /** Stops the server at once, as a crash would. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        kill();
    }
}
