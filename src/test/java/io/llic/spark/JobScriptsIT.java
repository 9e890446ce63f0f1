package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jobs/ scripts as users run them: SparkSubmit on local[*], options passed through to Spark. */
class JobScriptsIT {
    @TempDir
    static Path dir;
    static Path model;

    record Run(int status, String out, String err) {}

    static Run run(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("SPARK_HOME");
        pb.environment().putAll(env);
        File out = dir.resolve("stdout-" + System.nanoTime()).toFile();
        File err = dir.resolve("stderr-" + System.nanoTime()).toFile();
        Process p = pb.redirectOutput(out).redirectError(err).start();
        if (!p.waitFor(20, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        return new Run(p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
    }

    static Run run(String... command) throws Exception {
        return run(Map.of(), command);
    }

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("model");
        TestData.referenceModel(model);
    }

    /**
     * Training across sessions: a wsd run that ends stable, is extended by a second process and cooled
     * down by a third, ends with the same weights as one process running the same schedule.
     */
    @Test
    void aRunContinuedAcrossProcessesEqualsTheUninterruptedRun() throws Exception {
        Path in = dir.resolve("train-in");
        Files.createDirectories(in);
        Path bsd = TestData.shared().resolve("datasets/train/bsd200");
        for (String name : new String[] {"100075.png", "100080.png", "100098.png", "103041.png"}) {
            Files.write(in.resolve(name), io.llic.image.PngIo.write(
                    io.llic.image.PngIo.read(Files.readAllBytes(bsd.resolve(name))).crop(80, 80, 64, 48)));
        }
        String[] common = {"--input", in.toString(), "--crop", "8", "--batch", "8", "--hidden", "16", "--layers", "2",
            "--lr", "3e-3", "--warmup", "2", "--lr-schedule", "wsd", "--ema", "0.9", "--validation", "0",
            "--checkpoint-every", "3", "--measure-pixels", "5000", "--log-seconds", "1"};
        Path straight = dir.resolve("straight");
        Run one = run(concat(new String[] {"jobs/train-job", "--master", "local[2]", "--output", straight.toString(),
            "--steps", "12", "--cooldown", "4"}, common));
        assertEquals(0, one.status(), one.err());
        Path pieces = dir.resolve("pieces");
        Run first = run(concat(new String[] {"jobs/train-job", "--master", "local[2]", "--output", pieces.toString(),
            "--steps", "5"}, common));
        assertEquals(0, first.status(), first.err());
        Run extend = run("jobs/train-job", "--master", "local[2]", "--output", pieces.toString(), "--resume", "--steps", "8");
        assertEquals(0, extend.status(), extend.err());
        Run cool = run("jobs/train-job", "--master", "local[2]", "--output", pieces.toString(), "--resume", "--cooldown", "4");
        assertEquals(0, cool.status(), cool.err());
        io.llic.model.LoadedModel a = io.llic.model.LoadedModel.load(straight);
        io.llic.model.LoadedModel b = io.llic.model.LoadedModel.load(pieces);
        assertEquals(a.sha256Hex(), b.sha256Hex());
        io.llic.train.Checkpoint ca = io.llic.train.Checkpoint.fromBytes(Files.readAllBytes(straight.resolve("training/final.ckpt")), "a");
        io.llic.train.Checkpoint cb = io.llic.train.Checkpoint.fromBytes(Files.readAllBytes(pieces.resolve("training/final.ckpt")), "b");
        assertEquals(12, cb.step());
        org.junit.jupiter.api.Assertions.assertArrayEquals(ca.params(), cb.params());
        org.junit.jupiter.api.Assertions.assertArrayEquals(ca.ema(), cb.ema());
        assertEquals(3, cb.commands().size(), cb.commands().toString());
    }

    /**
     * With SPARK_HOME the scripts hand over to spark-submit (here a stand-in that prints what it was
     * given): the user's --jars are merged with the script's, the S3 connector (hadoop-aws,
     * spark-hadoop-cloud, the AWS SDK bundle) is shipped only for a run that names s3a://, and a gpu
     * run ships no CPU libtorch and the GPU discovery script.
     */
    @Test
    void sparkSubmitGetsTheUsersJarsMergedAndTheS3JarsOnlyForS3Runs() throws Exception {
        Path home = dir.resolve("fake-spark");
        Files.createDirectories(home.resolve("bin"));
        Path submit = home.resolve("bin/spark-submit");
        Files.writeString(submit, "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\"\n");
        submit.toFile().setExecutable(true);
        Map<String, String> env = Map.of("SPARK_HOME", home.toString());
        Run s3 = run(env, "jobs/compress-job", "--jars", "/opt/rapids-4-spark_2.13-26.08.1.jar", "--input", "s3a://b/in",
                "--output", "s3a://b/out");
        assertEquals(0, s3.status(), s3.err());
        List<String> args = List.of(s3.out().split("\n"));
        String jars = args.get(args.indexOf("--jars") + 1);
        assertEquals(1, args.stream().filter("--jars"::equals).count(), "one --jars: " + args);
        assertTrue(jars.contains("/opt/rapids-4-spark_2.13-26.08.1.jar") && jars.contains("pytorch-engine")
                && jars.contains("hadoop-aws") && jars.contains("awssdk/bundle"), jars);
        Run local = run(env, "jobs/compress-job", "--input", "/data/in", "--output", "/data/out");
        assertEquals(0, local.status(), local.err());
        List<String> localArgs = List.of(local.out().split("\n"));
        String localJars = localArgs.get(localArgs.indexOf("--jars") + 1);
        assertTrue(localJars.contains("pytorch-engine") && !localJars.contains("awssdk") && !localJars.contains("hadoop-aws"),
                localJars);
        assertTrue(localJars.contains("pytorch-native-cpu") && localArgs.contains("spark.executor.extraJavaOptions=-Dai.djl.offline=true"),
                "CPU executors get the CPU natives and never download: " + localArgs);
        // a gpu run: CUDA libtorch from the profile, so no CPU native jar and no forced offline flag; the
        // discovery script shipped with the user's own files; the user's RAPIDS jar merged
        Run gpu = run(env, "jobs/compress-job", "--profile", "gpu", "--jars", "/opt/rapids-4-spark_2.13-26.08.1.jar",
                "--files", "/etc/llic/extra.conf", "--input", "/data/in", "--output", "/data/out");
        assertEquals(0, gpu.status(), gpu.err());
        List<String> gpuArgs = List.of(gpu.out().split("\n"));
        String gpuJars = gpuArgs.get(gpuArgs.indexOf("--jars") + 1);
        assertTrue(gpuJars.contains("pytorch-engine") && gpuJars.contains("pytorch-jni") && !gpuJars.contains("pytorch-native-cpu")
                && gpuJars.contains("/opt/rapids-4-spark_2.13-26.08.1.jar"), gpuJars);
        assertTrue(gpuArgs.stream().noneMatch(a -> a.startsWith("spark.executor.extraJavaOptions")), gpuArgs.toString());
        assertEquals(1, gpuArgs.stream().filter("--files"::equals).count(), gpuArgs.toString());
        String files = gpuArgs.get(gpuArgs.indexOf("--files") + 1);
        assertTrue(files.endsWith("conf/gpu/getGpusResources.sh,/etc/llic/extra.conf"), files);
        assertTrue(gpuArgs.contains("spark.task.resource.gpu.amount=0.25")
                && gpuArgs.contains("spark.executorEnv.PYTORCH_LIBRARY_PATH=/opt/libtorch/lib")
                && gpuArgs.contains("spark.executor.memoryOverhead=4g"), gpuArgs.toString());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void helpAndUsageErrors() throws Exception {
        for (String job : new String[] {"compress-job", "decode-job", "eval-job", "train-job"}) {
            Run help = run("jobs/" + job, "--help");
            assertEquals(0, help.status(), help.err());
            assertTrue(help.out().contains("usage: " + job), help.out());
            Run bad = run("jobs/" + job, "--input", "x", "--bogus", "1");
            assertEquals(2, bad.status(), bad.err());
            assertTrue(bad.err().contains("unknown option --bogus"), bad.err());
        }
        Run profile = run("jobs/compress-job", "--profile", "local,nosuch", "--input", "x", "--output", "y");
        assertEquals(2, profile.status(), profile.err());
        assertTrue(profile.err().contains("unknown profile 'nosuch'") && profile.err().contains("s3a"), profile.err());
        Run noLength = run("jobs/train-job", "--input", "x", "--output", "y");
        assertEquals(2, noLength.status(), noLength.err());
        assertTrue(noLength.err().contains("--steps N or --minutes M"), noLength.err());
        Run missing = run("jobs/train-job", "--input", "/nonexistent/images", "--output", dir.resolve("t").toString(),
                "--steps", "5");
        assertEquals(1, missing.status(), missing.err());
        assertTrue(missing.err().contains("/nonexistent/images"), missing.err());
    }

    @Test
    void compressAndDecodeThroughSparkSubmitWithConfPassedThrough() throws Exception {
        Path in = dir.resolve("images");
        Files.createDirectories(in);
        Map<String, RgbImage> images = new HashMap<>();
        for (String name : new String[] {"kodim01.png", "kodim12.png"}) {
            RgbImage crop = PngIo.read(Files.readAllBytes(TestData.kodak().resolve(name))).crop(64, 64, 80, 56);
            Files.write(in.resolve(name), PngIo.write(crop));
            images.put(name, crop);
        }
        Path props = dir.resolve("extra.properties");
        Files.writeString(props, "spark.ui.enabled=false\nspark.driver.host=127.0.0.1\nspark.llic.marker=from-properties\n");
        Path out = dir.resolve("out");
        Run c = run("jobs/compress-job", "--properties-file", props.toString(), "--conf", "spark.sql.shuffle.partitions=3",
                "--master", "local[2]", "--input", in.toString(), "--output", out.toString(), "--model", model.toString(),
                "--run-id", "script");
        assertEquals(0, c.status(), c.err());
        assertTrue(c.out().contains("2 coded, 0 failed"), c.out());
        JsonNode manifest = new ObjectMapper().readTree(out.resolve("script/manifest.json").toFile());
        assertEquals("local[2]", manifest.get("master").asText());
        assertEquals(2, manifest.get("counts").get("coded").asInt());
        Path decoded = dir.resolve("decoded");
        // a profile merges into the local one (here the S3 profile: its committer binding must not break local paths)
        Run d = run("jobs/decode-job", "--profile", "s3a", "--input", out.resolve("script/bitstreams").toString(), "--output",
                decoded.toString(), "--model", model.toString());
        assertEquals(0, d.status(), d.err());
        for (Map.Entry<String, RgbImage> e : images.entrySet()) {
            assertTrue(PngIo.read(Files.readAllBytes(decoded.resolve(e.getKey()))).samePixels(e.getValue()), e.getKey());
        }
    }

    /** eval-job on Kodak: the report exists and the PNG and WebP figures match ../shared/baselines within 1%. */
    @Test
    void evalJobOnKodakAgreesWithTheBaselines() throws Exception {
        Path out = dir.resolve("eval");
        List<String> baselines = new ArrayList<>(List.of("png"));
        if (io.llic.spark.Baselines.unavailable("webp") == null) {
            baselines.add("webp");
        }
        Run r = run("jobs/eval-job", "--input", TestData.kodak().toString(), "--output", out.toString(), "--model",
                model.toString(), "--baselines", String.join(",", baselines));
        assertEquals(0, r.status(), r.err());
        Map<String, Double> expected = new HashMap<>();
        for (String line : Files.readAllLines(TestData.shared().resolve("baselines/kodak.tsv"))) {
            String[] f = line.split("\t");
            if (f.length >= 2 && !f[0].equals("codec")) {
                expected.put(f[0], Double.parseDouble(f[1]));
            }
        }
        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        Map<String, Double> measured = new HashMap<>();
        for (JsonNode c : summary.get("codecs")) {
            measured.put(c.get("codec").asText(), c.get("bitsPerPixel").asDouble());
            assertTrue(c.get("lossless").asBoolean(), c.toString());
            assertEquals(24, c.get("images").asInt());
        }
        for (String b : baselines) {
            assertEquals(expected.get(b), measured.get(b), expected.get(b) * 0.01, b);
        }
        assertTrue("webp".equals(baselines.get(baselines.size() - 1)), "cwebp must be installed (.ci/run installs it)");
        double llic = measured.get("llic:gumus2023-59k:wavefront");
        assertEquals(8.6277, llic, 8.6277 * 0.005);
        String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("<svg") && html.contains("kodim24.png") && html.contains("webp"));
        assertTrue(Files.isDirectory(out.resolve("per_image")));

        // the notebook loads this output and checks it (Debian's Jupyter, installed by .ci/run)
        Path executed = dir.resolve("eval_report.html");
        Run nb = run(Map.of("LLIC_EVAL_DIR", out.toString()), "/usr/bin/python3", "-m", "jupyter", "nbconvert", "--to",
                "html", "--execute", "notebooks/eval_report.ipynb", "--output", executed.toString());
        assertEquals(0, nb.status(), "notebook failed (needs jupyter-nbconvert python3-ipykernel python3-pandas "
                + "python3-matplotlib): " + nb.err());
        String report = Files.readString(executed);
        assertTrue(report.contains("bpp per image and codec") && report.contains("image/png"), "charts rendered");
    }
}
