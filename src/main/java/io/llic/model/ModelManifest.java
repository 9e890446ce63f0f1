package io.llic.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * {@code manifest.json} of a model directory (ARCHITECTURE.md "Model directories").
 *
 * @param id             short name written into bitstreams
 * @param family         model family ({@code causal})
 * @param formatVersion  version of the fixed-point weights format
 * @param weightsFile    file name of the fixed-point weights, relative to the directory
 * @param weightsSha256  SHA-256 of that file: the model's identity in bitstreams
 * @param parameters     number of stored integers (weights and biases)
 * @param fixedPoint     human-readable description of the fixed-point format and layer shapes
 * @param provenance     where the model came from: data, steps, wall time, command
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelManifest(String id, String family, int formatVersion, String weightsFile, String weightsSha256,
                            long parameters, Map<String, Object> fixedPoint, Map<String, Object> provenance) {
    public static final int FORMAT_VERSION = 1;
}
