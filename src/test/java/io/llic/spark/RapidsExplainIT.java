package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gpu profile's Spark SQL side on a machine without a GPU: the RAPIDS Accelerator
 * (com.nvidia:rapids-4-spark_2.13, passed with --jars as a user does) loaded in its explain-only mode
 * reports, for every plan the jobs run, which operators would run on the GPU. Parquet writes and scans
 * and the decode job's count would; the codec's own work (RDDs of rows from mapPartitions) stays where
 * it is. Cost: the plugin jar is about 1 GB (fetched once into the Maven repository and copied to
 * target/it-tools), and each job takes about a minute longer to start with it.
 */
class RapidsExplainIT {
    @TempDir
    static Path dir;

    @Test
    void parquetWorkWouldRunOnTheGpuAndTheCodecStaysOnTheExecutors() throws Exception {
        Path rapids = Path.of(System.getProperty("llic.rapids.jar", "target/it-tools/rapids-4-spark.jar"));
        assertTrue(Files.isRegularFile(rapids), "the RAPIDS jar is fetched by the build: " + rapids);
        Path in = dir.resolve("in");
        Files.createDirectories(in);
        RgbImage crop = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim03.png"))).crop(100, 100, 96, 64);
        Files.write(in.resolve("k.png"), PngIo.write(crop));
        Path out = dir.resolve("out");

        String compress = job("jobs/compress-job", rapids, "--input", in.toString(), "--output", out.toString(),
                "--run-id", "r");
        assertTrue(compress.contains("RAPIDS Accelerator is in explain only mode"), compress);
        assertTrue(compress.contains("*Exec <DataWritingCommandExec> will run on GPU")
                && compress.contains("*Output <InsertIntoHadoopFsRelationCommand> will run on GPU"), compress);
        assertTrue(compress.contains("! <RDDScanExec> cannot run on GPU"), "the codec's rows come from an RDD: " + compress);

        String decode = job("jobs/decode-job", rapids, "--input", out.resolve("r/bitstreams").toString(), "--output",
                dir.resolve("decoded").toString());
        assertTrue(decode.contains("*Exec <FileSourceScanExec> will run on GPU"), decode);
        assertTrue(decode.contains("*Exec <HashAggregateExec> will run on GPU"), decode);
        assertTrue(decode.contains("cannot run on GPU because"), "turning rows into objects for the decoder stays: " + decode);
        assertTrue(PngIo.read(Files.readAllBytes(dir.resolve("decoded/k.png"))).samePixels(crop),
                "explain-only changes nothing: the image decodes");

        String eval = job("jobs/eval-job", rapids, "--input", in.toString(), "--output", dir.resolve("eval").toString(),
                "--baselines", "png");
        assertTrue(eval.contains("*Exec <WriteFilesExec> will run on GPU"), eval);
    }

    private static String job(String script, Path rapids, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(script, "--jars", rapids.toString(),
                "--conf", "spark.plugins=com.nvidia.spark.SQLPlugin", "--conf", "spark.rapids.sql.mode=explainOnly",
                "--conf", "spark.rapids.sql.explain=ALL", "--master", "local[2]", "--model", "models/causal-4"));
        command.addAll(List.of(args));
        Path log = dir.resolve(Path.of(script).getFileName() + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("SPARK_HOME");
        Process p = pb.start();
        if (!p.waitFor(15, java.util.concurrent.TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(script + " timed out");
        }
        String output = Files.readString(log);
        assertEquals(0, p.exitValue(), script + " failed:\n" + output);
        return output;
    }
}
