package io.llic.model.causal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llic.model.FixedPointExport;
import io.llic.model.FixedPointLayer;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.schedule.CausalTaps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Imports the published weights of the 59K pixel model ({@code ../shared/reference/gumus2023-59k}:
 * a manifest and float32 {@code .npy} files) into an llic model directory, in fixed point.
 */
public final class ReferenceImporter {
    public static final String DEFAULT_ID = "gumus2023-59k";
    private static final int KERNEL = 5;

    private ReferenceImporter() {}

    public static LoadedModel importReference(Path source, Path dest, String id) throws IOException {
        Path manifestPath = source.resolve("manifest.json");
        if (!Files.isRegularFile(manifestPath)) {
            throw new ModelException(source + " has no manifest.json: not a reference weights directory");
        }
        JsonNode manifest = new ObjectMapper().readTree(manifestPath.toFile());
        JsonNode layers = manifest.path("layers");
        if (!layers.isArray() || layers.size() != 5) {
            throw new ModelException(manifestPath + ": expected 5 layers of the causal 59K model");
        }
        List<double[]> weights = new ArrayList<>();
        List<double[]> biases = new ArrayList<>();
        int[] ins = new int[layers.size()];
        for (int l = 0; l < layers.size(); l++) {
            JsonNode layer = layers.get(l);
            NpyReader.Array w = NpyReader.read(source.resolve(layer.path("weight").asText()));
            NpyReader.Array b = NpyReader.read(source.resolve(layer.path("bias").asText()));
            int outs = w.shape()[0];
            if (b.size() != outs) {
                throw new ModelException(source + ": layer " + l + " has " + outs + " outputs but " + b.size() + " biases");
            }
            if (l == 0) {
                weights.add(firstLayer(w, source));
                ins[l] = CausalModel.INPUTS;
            } else {
                if (w.shape().length != 4 || w.shape()[2] != 1 || w.shape()[3] != 1) {
                    throw new ModelException(source + ": layer " + l + " is not a 1x1 convolution");
                }
                weights.add(w.values());
                ins[l] = w.shape()[1];
            }
            biases.add(b.values());
        }
        FixedPointNet net = FixedPointExport.export(weights, biases, ins);
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("source", "published weights of Gumus & Kamisli, arXiv 2212.01185 (reference, not ours)");
        provenance.put("importedFrom", source.toAbsolutePath().normalize().toString());
        provenance.put("command", "jobs/llic import-reference " + source + " " + dest);
        return LoadedModel.write(dest, id, net, provenance);
    }

    /** Layer 0 (128, 3, 5, 5) type-A masked conv -> row-major 128 x 36 in tap order. */
    private static double[] firstLayer(NpyReader.Array w, Path source) throws ModelException {
        int[] s = w.shape();
        if (s.length != 4 || s[1] != 3 || s[2] != KERNEL || s[3] != KERNEL) {
            throw new ModelException(source + ": layer 0 must be a 3-channel 5x5 convolution");
        }
        int outs = s[0];
        double[] out = new double[outs * CausalModel.INPUTS];
        double masked = 0;
        for (int o = 0; o < outs; o++) {
            for (int c = 0; c < 3; c++) {
                for (int kr = 0; kr < KERNEL; kr++) {
                    for (int kc = 0; kc < KERNEL; kc++) {
                        double v = w.values()[((o * 3 + c) * KERNEL + kr) * KERNEL + kc];
                        int tap = CausalTaps.indexOf(kr - 2, kc - 2);
                        if (tap < 0) {
                            masked += Math.abs(v);
                        } else {
                            out[o * CausalModel.INPUTS + tap * 3 + c] = v;
                        }
                    }
                }
            }
        }
        if (masked != 0) {
            throw new ModelException(source + ": layer 0 has non-zero weights outside the type-A mask");
        }
        return out;
    }
}
