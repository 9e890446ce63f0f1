package io.llic.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llic.TestData;
import io.llic.codec.Encoder;
import io.llic.image.PngIo;
import io.llic.image.RgbImage;
import io.llic.model.LoadedModel;
import io.llic.runtime.Evaluators;
import io.llic.runtime.NetworkEvaluator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A task given two cores ({@code spark.task.cpus=2}) codes two tiles of an image at once: the tiles'
 * network times, summed, exceed the image's wall time (impossible one tile after another), and the
 * bitstream is byte for byte the one-thread encoder's.
 */
class ParallelTilesIT {
    @TempDir
    static Path dir;

    @Test
    void aTaskWithTwoCoresCodesTwoTilesAtOnceAndTheBytesDoNotChange() throws Exception {
        Path model = dir.resolve("model");
        LoadedModel loaded = TestData.referenceModel(model);
        Path input = dir.resolve("in");
        Files.createDirectories(input);
        RgbImage image = PngIo.read(Files.readAllBytes(TestData.kodak().resolve("kodim21.png"))).crop(100, 150, 320, 192);
        byte[] png = PngIo.write(image);
        Files.write(input.resolve("tiled.png"), png);
        int tile = 64; // 5 x 3 tiles
        SparkSession spark = LocalSpark.builder("llic-parallel-tiles").config("spark.task.cpus", "2").getOrCreate();
        try {
            Path out = dir.resolve("out");
            CompressJob.Result r = CompressJob.run(spark, new CompressJob.Config(input.toString(), out.toString(), model,
                    "wavefront", "tiles", true, 0, InputListing.DEFAULT_GLOB, 1, tile));
            assertEquals(1, r.coded());
            List<Row> rows = spark.read().parquet(out.resolve("tiles/bitstreams").toString()).collectAsList();
            assertEquals(1, rows.size());
            Row row = rows.get(0);
            double wall = row.<Double>getAs("encode_millis");
            double network = row.<Double>getAs("network_millis");
            assertTrue(network > 1.2 * wall, "two tile threads overlap: network " + network + " ms summed over tiles, wall "
                    + wall + " ms");
            double verifyWall = row.<Double>getAs("verify_millis");
            double verifyNetwork = row.<Double>getAs("verify_network_millis");
            assertTrue(verifyNetwork > 1.2 * verifyWall, "verification decodes two tiles at once too: network "
                    + verifyNetwork + " ms, wall " + verifyWall + " ms");
            List<NetworkEvaluator> ev = Evaluators.forModel(Evaluators.JAVA, loaded, "cpu", 1);
            byte[] alone = new Encoder(loaded, ev, true).tiled(tile).encode(image, "wavefront", png).file();
            assertArrayEquals(alone, (byte[]) row.getAs("bitstream"), "the same bytes as one thread's encoder");
            assertTrue(row.<Long>getAs("bits") < 8L * png.length, "coded, not stored");
        } finally {
            spark.stop();
        }
    }
}
