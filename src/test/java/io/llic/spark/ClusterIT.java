package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compress-job and decode-job on a real standalone cluster: a Master and two Workers on 127.0.0.1
 * (2 cores each), started from the jars Maven resolved, each Worker advertising one fake GPU so the
 * tasks see "gpu" resources and must fall back to the CPU. compress-job shares each executor's one
 * GPU between its two task slots ({@code spark.task.resource.gpu.amount=0.5}).
 */
class ClusterIT {
    @TempDir
    static Path dir;
    static final List<Process> daemons = new ArrayList<>();
    static String master;
    static int webPort;
    static Path model;

    /** The module options Spark needs on Java 17 (as in jobs/lib.sh and Spark's JavaModuleOptions). */
    static final List<String> ADD_OPENS = List.of("-XX:+IgnoreUnrecognizedVMOptions",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED", "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED", "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true");

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Process daemon(Map<String, String> env, List<String> props, String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-Xmx512m", "-cp", Files.readString(Path.of("target/runtime-classpath.txt")).strip()));
        cmd.addAll(ADD_OPENS);
        cmd.addAll(props);
        cmd.add(name);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        File log = dir.resolve(name.substring(name.lastIndexOf('.') + 1) + "-" + System.nanoTime() + ".log").toFile();
        Process p = pb.redirectErrorStream(true).redirectOutput(log).start();
        daemons.add(p);
        return p;
    }

    @BeforeAll
    static void startCluster() throws Exception {
        model = dir.resolve("model");
        TestData.referenceModel(model);
        Path sparkHome = dir.resolve("spark-home");
        Files.createDirectories(sparkHome.resolve("jars"));
        for (String jar : Files.readString(Path.of("target/runtime-classpath.txt")).strip().split(File.pathSeparator)) {
            Path j = Path.of(jar);
            Files.createSymbolicLink(sparkHome.resolve("jars").resolve(j.getFileName()), j);
        }
        Path gpuScript = dir.resolve("gpus.sh");
        Files.writeString(gpuScript, "#!/bin/sh\necho '{\"name\":\"gpu\",\"addresses\":[\"0\"]}'\n");
        Files.setPosixFilePermissions(gpuScript, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = new HashMap<>();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        int port = freePort();
        webPort = freePort();
        master = "spark://127.0.0.1:" + port;
        daemon(env, List.of(), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", "" + port,
                "--webui-port", "" + webPort);
        Map<String, String> workerEnv = new HashMap<>(env);
        // a Worker started with plain java reads its settings from system properties (not SPARK_WORKER_OPTS)
        List<String> gpu = List.of("-Dspark.worker.resource.gpu.amount=1",
                "-Dspark.worker.resource.gpu.discoveryScript=" + gpuScript);
        for (int w = 0; w < 2; w++) {
            workerEnv.put("SPARK_WORKER_DIR", dir.resolve("work" + w).toString());
            daemon(workerEnv, gpu, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2", "--memory",
                    "3g", "--webui-port", "" + freePort(), master);
        }
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.currentTimeMillis() + 120_000;
        while (true) {
            try {
                String json = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webPort + "/json/")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                if (json.contains("\"aliveworkers\" : 2") && json.split("\"gpu\" : \\{").length > 2) {
                    break;
                }
            } catch (java.io.IOException e) {
                // not up yet
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("the cluster did not start with 2 workers");
            }
            Thread.sleep(500);
        }
    }

    @AfterAll
    static void stopCluster() {
        for (Process p : daemons) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void compressAndDecodeOnAStandaloneClusterWithGpuFallback() throws Exception {
        Path in = dir.resolve("images");
        Files.createDirectories(in);
        Map<String, RgbImage> images = new HashMap<>();
        String[] names = {"kodim02.png", "kodim08.png", "kodim15.png", "kodim20.png"};
        for (String name : names) {
            RgbImage crop = PngIo.read(Files.readAllBytes(TestData.kodak().resolve(name))).crop(100, 100, 64, 48);
            Files.write(in.resolve(name), PngIo.write(crop));
            images.put(name, crop);
        }
        String[] gpuConf = {"--conf", "spark.executor.resource.gpu.amount=1", "--conf", "spark.task.resource.gpu.amount=1",
            "--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=1500m", "--conf", "spark.ui.enabled=false",
            "--conf", "spark.driver.host=127.0.0.1"};
        // two task slots per executor share its one GPU
        Path events = dir.resolve("events");
        Files.createDirectories(events);
        String[] sharedGpuConf = {"--conf", "spark.executor.resource.gpu.amount=1", "--conf", "spark.task.resource.gpu.amount=0.5",
            "--conf", "spark.executor.cores=2", "--conf", "spark.task.cpus=1", "--conf", "spark.executor.memory=1500m",
            "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.eventLog.enabled=true",
            "--conf", "spark.eventLog.dir=" + events.toUri(), "--conf", "spark.eventLog.compress=false",
            "--conf", "spark.eventLog.rolling.enabled=false"};
        Path out = dir.resolve("out");
        List<String> compress = new ArrayList<>(List.of("jobs/compress-job", "--master", master));
        compress.addAll(List.of(sharedGpuConf));
        compress.addAll(List.of("--input", in.toString(), "--output", out.toString(), "--model", model.toString(),
                "--run-id", "cluster", "--partitions", "4"));
        JobScriptsIT.Run c = runScript(compress);
        assertEquals(0, c.status(), c.err());
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
        try {
            List<Row> rows = spark.read().parquet(out.resolve("cluster/bitstreams").toString()).collectAsList();
            assertEquals(4, rows.size());
            Set<String> executors = rows.stream().map(r -> r.<String>getAs("executor")).collect(Collectors.toSet());
            assertTrue(!executors.contains("driver"), "coded on executors: " + executors);
            for (Row r : rows) {
                assertEquals("cpu-fallback-gpu0", r.<String>getAs("device"), "the fake GPU is given, then refused");
            }
        } finally {
            spark.stop();
        }
        // every task was given GPU 0 of its executor (the device column), and two of them ran at once on one
        // executor, which has one GPU: the GPU was shared
        String overlap = overlappingTasksOnOneExecutor(events);
        assertTrue(overlap != null, "two tasks ran at the same time on one executor");
        System.out.println("ClusterIT: " + overlap);
        List<String> decode = new ArrayList<>(List.of("jobs/decode-job", "--master", master));
        decode.addAll(List.of(gpuConf));
        Path decoded = dir.resolve("decoded");
        decode.addAll(List.of("--input", out.resolve("cluster/bitstreams").toString(), "--output", decoded.toString(),
                "--model", model.toString()));
        JobScriptsIT.Run d = runScript(decode);
        assertEquals(0, d.status(), d.err());
        for (String name : names) {
            assertTrue(PngIo.read(Files.readAllBytes(decoded.resolve(name))).samePixels(images.get(name)), name);
        }
    }

    /**
     * train-job data-parallel over the two Workers gives bit-for-bit the weights of the same run on
     * local[2]: the shards draw their crops from (seed, step, shard) and gradients are summed in
     * fixed point, so neither the executors nor the order of their results matter.
     */
    @Test
    void trainingOnTheClusterEqualsTrainingInLocalMode() throws Exception {
        Path in = dir.resolve("train-images");
        Files.createDirectories(in);
        Path bsd = TestData.shared().resolve("datasets/train/bsd200");
        for (String name : new String[] {"100075.png", "100080.png", "100098.png", "103041.png", "104022.png"}) {
            Files.write(in.resolve(name), PngIo.write(PngIo.read(Files.readAllBytes(bsd.resolve(name))).crop(60, 80, 64, 48)));
        }
        List<String> job = List.of("--input", in.toString(), "--crop", "8", "--batch", "6", "--shards", "2", "--hidden", "16",
                "--layers", "2", "--steps", "10", "--warmup", "2", "--validation", "0.2", "--val-crops", "4",
                "--val-every", "5", "--checkpoint-every", "5");
        List<String> cluster = new ArrayList<>(List.of("jobs/train-job", "--master", master, "--conf", "spark.executor.cores=1",
                "--conf", "spark.cores.max=2",
                "--conf", "spark.executor.memory=1500m", "--conf", "spark.ui.enabled=false", "--conf",
                "spark.driver.host=127.0.0.1", "--output", dir.resolve("trained-cluster").toString()));
        cluster.addAll(job);
        JobScriptsIT.Run c = runScript(cluster);
        assertEquals(0, c.status(), c.err());
        List<String> local = new ArrayList<>(List.of("jobs/train-job", "--master", "local[2]", "--output",
                dir.resolve("trained-local").toString()));
        local.addAll(job);
        JobScriptsIT.Run l = runScript(local);
        assertEquals(0, l.status(), l.err());
        byte[] a = Files.readAllBytes(dir.resolve("trained-cluster/weights.bin"));
        byte[] b = Files.readAllBytes(dir.resolve("trained-local/weights.bin"));
        assertTrue(java.util.Arrays.equals(a, b), "cluster and local[2] training give the same weights");
        String summary = Files.readString(dir.resolve("trained-cluster/train_summary.json"));
        assertTrue(summary.contains("spark://127.0.0.1"), summary);
    }

    /**
     * Two tasks of one stage that ran at the same time (for more than half of the shorter one) on one
     * executor in the event log in {@code events}, or null.
     */
    static String overlappingTasksOnOneExecutor(Path events) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Map<String, List<long[]>> byExecutorAndStage = new HashMap<>();
        try (var logs = Files.walk(events)) {
            for (Path log : logs.filter(Files::isRegularFile).toList()) {
                for (String line : Files.readAllLines(log)) {
                    var e = json.readTree(line);
                    if (!"SparkListenerTaskEnd".equals(e.path("Event").asText())) {
                        continue;
                    }
                    var info = e.path("Task Info");
                    String key = info.path("Executor ID").asText() + "/" + e.path("Stage ID").asText();
                    byExecutorAndStage.computeIfAbsent(key, k -> new ArrayList<>())
                            .add(new long[] {info.path("Launch Time").asLong(), info.path("Finish Time").asLong(),
                                info.path("Task ID").asLong()});
                }
            }
        }
        assertTrue(!byExecutorAndStage.isEmpty(), "the event log has task ends: " + events);
        for (var e : byExecutorAndStage.entrySet()) {
            List<long[]> tasks = e.getValue();
            for (int i = 0; i < tasks.size(); i++) {
                for (int j = i + 1; j < tasks.size(); j++) {
                    long[] a = tasks.get(i);
                    long[] b = tasks.get(j);
                    // more than half of the shorter task (the driver may log a task's launch a millisecond
                    // before the previous one's finish on the same slot)
                    long overlap = Math.min(a[1], b[1]) - Math.max(a[0], b[0]);
                    if (overlap > 0.5 * Math.min(a[1] - a[0], b[1] - b[0])) {
                        return "executor/stage " + e.getKey() + ": task " + a[2] + " " + a[0] + ".." + a[1] + " ms and task "
                                + b[2] + " " + b[0] + ".." + b[1] + " ms";
                    }
                }
            }
        }
        return null;
    }

    private static JobScriptsIT.Run runScript(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("SPARK_HOME");
        File out = dir.resolve("out-" + System.nanoTime()).toFile();
        File err = dir.resolve("err-" + System.nanoTime()).toFile();
        Process p = pb.redirectOutput(out).redirectError(err).start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new JobScriptsIT.Run(p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
    }
}
