package io.llic.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.llic.model.ModelException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The whole state of a run after {@code step} steps: config, parameters, Adam moments, the loss
 * history, the training time spent so far and the commands that ran it (first the one that started it), and
 * the exponential moving average of the parameters when the run keeps one. Serialised as {@code LLICCKP1}, a
 * JSON header, three float64 arrays (a fourth, the average, when kept) and a CRC-32C of everything before it.
 */
public record Checkpoint(TrainConfig config, long step, double[] params, double[] m, double[] v, long trainMillis,
                         List<HistoryRow> history, List<String> commands, double[] ema) {

    public Checkpoint(TrainConfig config, long step, double[] params, double[] m, double[] v, long trainMillis,
                      List<HistoryRow> history, List<String> commands) {
        this(config, step, params, m, v, trainMillis, history, commands, null);
    }

    /**
     * The moving average when the run keeps one, else the parameters: the natural candidate for export
     * (train-job validates it against the plain parameters and exports whichever codes better).
     */
    public double[] exportParams() {
        return ema != null ? ema : params;
    }
    static final byte[] MAGIC = "LLICCKP1".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One progress record: step, training loss (mean since the previous record), validation loss or
     * NaN, crops/s, and the share of the steps' wall time that was not the shards' own work (Spark
     * scheduling, shipping parameters, aggregation, waiting for the slower shard).
     */
    public record HistoryRow(long step, double trainBits, double validationBits, double learningRate, double cropsPerSecond,
                             long trainMillis, double syncOverhead) {}

    /** The same state with one more command recorded. */
    public Checkpoint withCommand(String command) {
        List<String> all = new ArrayList<>(commands);
        all.add(command);
        return new Checkpoint(config, step, params, m, v, trainMillis, history, all, ema);
    }

    /** The same state under a re-planned config (an extended run, or one whose cool-down starts now). */
    public Checkpoint withConfig(TrainConfig newConfig) {
        return new Checkpoint(newConfig, step, params, m, v, trainMillis, history, commands, ema);
    }

    /** File name of the checkpoint of a step: sorts by step. */
    public static String fileName(long step) {
        return String.format("step-%09d.ckpt", step);
    }

    public byte[] toBytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(MAGIC);
            byte[] header = JSON.writeValueAsBytes(Map.of("config", config, "step", step, "trainMillis", trainMillis,
                    "history", history, "commands", commands));
            out.writeInt(header.length);
            out.write(header);
            for (double[] a : ema == null ? List.of(params, m, v) : List.of(params, m, v, ema)) {
                out.writeInt(a.length);
                for (double d : a) {
                    out.writeDouble(d);
                }
            }
            out.flush();
            CRC32C crc = new CRC32C();
            crc.update(bytes.toByteArray());
            out.writeInt((int) crc.getValue());
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Checkpoint fromBytes(byte[] data, String where) throws ModelException {
        if (data.length < MAGIC.length + 8 || !Arrays.equals(Arrays.copyOf(data, MAGIC.length), MAGIC)) {
            throw new ModelException(where + ": not an llic training checkpoint");
        }
        CRC32C crc = new CRC32C();
        crc.update(data, 0, data.length - 4);
        int stored = ((data[data.length - 4] & 0xFF) << 24) | ((data[data.length - 3] & 0xFF) << 16)
                | ((data[data.length - 2] & 0xFF) << 8) | (data[data.length - 1] & 0xFF);
        if ((int) crc.getValue() != stored) {
            throw new ModelException(where + ": checkpoint is damaged (CRC-32C mismatch)");
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data, MAGIC.length, data.length - MAGIC.length - 4));
            byte[] header = new byte[in.readInt()];
            in.readFully(header);
            var node = JSON.readTree(header);
            TrainConfig config = JSON.treeToValue(node.get("config"), TrainConfig.class);
            List<HistoryRow> history = new ArrayList<>();
            for (var h : node.get("history")) {
                history.add(JSON.treeToValue(h, HistoryRow.class));
            }
            double[][] arrays = new double[4][];
            for (int k = 0; k < 4 && (k < 3 || in.available() > 0); k++) {
                arrays[k] = new double[in.readInt()];
                for (int i = 0; i < arrays[k].length; i++) {
                    arrays[k][i] = in.readDouble();
                }
            }
            List<String> commands = new ArrayList<>();
            for (var c : node.path("commands")) {
                commands.add(c.asText());
            }
            return new Checkpoint(config, node.get("step").asLong(), arrays[0], arrays[1], arrays[2],
                    node.get("trainMillis").asLong(), history, commands, arrays[3]);
        } catch (IOException | RuntimeException e) {
            throw new ModelException(where + ": unreadable checkpoint: " + e.getMessage(), e);
        }
    }
}
