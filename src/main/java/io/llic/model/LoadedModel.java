package io.llic.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model directory read from disk: its manifest, its fixed-point network and the SHA-256 of the
 * weights file. {@link #write} creates such a directory.
 */
public record LoadedModel(Path directory, ModelManifest manifest, FixedPointNet net, Adaptation adaptation, byte[] sha256) {
    public static final String MANIFEST = "manifest.json";
    public static final String WEIGHTS = "weights.bin";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public String id() {
        return manifest.id();
    }

    /** The model every command uses when none is named: {@code $LLIC_HOME/models/default}. */
    public static Path defaultDirectory() {
        String home = System.getProperty("llic.home", System.getenv().getOrDefault("LLIC_HOME", "."));
        return Path.of(home, "models", "default");
    }

    public String sha256Hex() {
        return HexFormat.of().formatHex(sha256);
    }

    /** Loads and checks a model directory: manifest, family, weights hash, exactness bounds. */
    public static LoadedModel load(Path dir) throws ModelException {
        Path manifestPath = dir.resolve(MANIFEST);
        byte[] manifestBytes;
        try {
            manifestBytes = Files.readAllBytes(manifestPath);
        } catch (NoSuchFileException e) {
            throw new ModelException(dir + " is not a model directory (no " + MANIFEST + ")");
        } catch (IOException e) {
            throw new ModelException(manifestPath + ": unreadable manifest: " + e.getMessage(), e);
        }
        ModelManifest manifest = parseManifest(manifestBytes, manifestPath.toString());
        Path weightsPath = dir.resolve(manifest.weightsFile());
        byte[] weights;
        try {
            weights = Files.readAllBytes(weightsPath);
        } catch (IOException e) {
            throw new ModelException(weightsPath + ": cannot read model weights: " + e.getMessage(), e);
        }
        return build(dir, manifest, weights);
    }

    /** The two files of a model directory, as bytes: what a Spark job broadcasts to its executors. */
    public record ModelBytes(String sha256, byte[] manifest, byte[] weights) implements java.io.Serializable {}

    /** Rebuilds a model from its manifest and weights bytes (checked exactly as {@link #load} does). */
    public static LoadedModel fromBytes(Path dir, byte[] manifestBytes, byte[] weights) throws ModelException {
        return build(dir, parseManifest(manifestBytes, dir.resolve(MANIFEST).toString()), weights);
    }

    /** Checks the weights against a parsed manifest (hash, format, family shape) and builds the model. */
    private static LoadedModel build(Path dir, ModelManifest manifest, byte[] weights) throws ModelException {
        Path weightsPath = dir.resolve(manifest.weightsFile());
        byte[] sha = sha256(weights);
        String hex = HexFormat.of().formatHex(sha);
        if (manifest.weightsSha256() != null && !manifest.weightsSha256().equalsIgnoreCase(hex)) {
            throw new ModelException(weightsPath + ": SHA-256 " + hex + " differs from the manifest's "
                    + manifest.weightsSha256() + " (weights changed or damaged)");
        }
        FixedPointNet net;
        Adaptation adaptation;
        String what = weightsPath.toString();
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(weights))) {
            net = FixedPointNet.read(in, what);
            adaptation = Adaptation.read(in, what);
            if (adaptation != null && in.read() != -1) {
                throw new ModelException(what + ": unexpected bytes after the adaptation settings");
            }
        } catch (java.io.EOFException e) {
            throw new ModelException(what + " is truncated");
        } catch (IOException e) {
            throw new ModelException(what + ": " + e.getMessage(), e);
        }
        if (net.inputs() != CausalModel.INPUTS || net.outputs() != CausalModel.OUTPUTS) {
            throw new ModelException(weightsPath + ": network maps " + net.inputs() + " inputs to " + net.outputs()
                    + " outputs; the causal family needs " + CausalModel.INPUTS + " -> " + CausalModel.OUTPUTS);
        }
        return new LoadedModel(dir, manifest, net, adaptation, sha);
    }

    /** The manifest and weights as bytes, to rebuild this model elsewhere with {@link #fromBytes}. */
    public ModelBytes toFiles() {
        try {
            return new ModelBytes(sha256Hex(), JSON.writeValueAsBytes(manifest), weightsBytes(net, adaptation));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ModelManifest parseManifest(byte[] bytes, String where) throws ModelException {
        ModelManifest manifest;
        try {
            manifest = JSON.readValue(bytes, ModelManifest.class);
        } catch (IOException e) {
            throw new ModelException(where + ": unreadable manifest: " + e.getMessage(), e);
        }
        if (manifest.id() == null || manifest.weightsFile() == null || manifest.family() == null) {
            throw new ModelException(where + ": manifest lacks id, family or weightsFile");
        }
        if (!CausalModel.FAMILY.equals(manifest.family())) {
            throw new ModelException(where + ": model family '" + manifest.family() + "' is not supported (known: "
                    + CausalModel.FAMILY + ")");
        }
        if (manifest.formatVersion() != ModelManifest.FORMAT_VERSION) {
            throw new ModelException(where + ": weights format version " + manifest.formatVersion()
                    + " is not supported (this build reads " + ModelManifest.FORMAT_VERSION + ")");
        }
        return manifest;
    }

    /** Writes a model directory (manifest with hash and layer description, weights). */
    public static LoadedModel write(Path dir, String id, FixedPointNet net, Map<String, Object> provenance)
            throws IOException {
        return write(dir, id, net, null, provenance);
    }

    /** Writes a model directory with an adaptation stage (null: none). */
    public static LoadedModel write(Path dir, String id, FixedPointNet net, Adaptation adaptation,
                                    Map<String, Object> provenance) throws IOException {
        LoadedModel model = of(dir, id, net, adaptation, provenance);
        ModelBytes files = model.toFiles();
        Files.createDirectories(dir);
        Files.write(dir.resolve(WEIGHTS), files.weights());
        Files.write(dir.resolve(MANIFEST), files.manifest());
        return model;
    }

    /**
     * The model a directory written by {@link #write} would hold, built in memory ({@link #toFiles}
     * gives its two files as bytes): for writing elsewhere than the local disk, or not at all.
     */
    public static LoadedModel of(Path dir, String id, FixedPointNet net, Map<String, Object> provenance) {
        return of(dir, id, net, null, provenance);
    }

    /** {@code weights.bin}: the layers, then the adaptation settings if the model has them. */
    static byte[] weightsBytes(FixedPointNet net, Adaptation adaptation) {
        byte[] layers = net.toBytes();
        if (adaptation == null) {
            return layers;
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            out.write(layers);
            adaptation.write(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** The same network with other adaptation settings (null: none): a different model, with its own hash. */
    public LoadedModel withAdaptation(Adaptation other, String newId) {
        return of(directory, newId, net, other, manifest.provenance());
    }

    /** The model with adaptation (null: none), as {@link #write} would write it, built in memory. */
    public static LoadedModel of(Path dir, String id, FixedPointNet net, Adaptation adaptation, Map<String, Object> provenance) {
        byte[] weights = weightsBytes(net, adaptation);
        byte[] sha = sha256(weights);
        Map<String, Object> fixedPoint = new LinkedHashMap<>();
        fixedPoint.put("inputs", "pixel values 0..255 (1/255 folded into layer 0)");
        fixedPoint.put("outputs", "integers in units of 2^-24");
        fixedPoint.put("leakySlope", FixedPointLayer.LEAKY_SLOPE + " / 2^" + FixedPointLayer.SLOPE_BITS);
        List<Map<String, Object>> layers = new ArrayList<>();
        for (FixedPointLayer l : net.layers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("in", l.in());
            m.put("out", l.out());
            m.put("shift", l.shift());
            m.put("activation", l.leaky() ? "leaky_relu" : "none");
            m.put("clip", l.clip());
            layers.add(m);
        }
        fixedPoint.put("layers", layers);
        if (adaptation != null) {
            fixedPoint.put("adaptation", adaptation.describe());
        }
        ModelManifest manifest = new ModelManifest(id, CausalModel.FAMILY, ModelManifest.FORMAT_VERSION, WEIGHTS,
                HexFormat.of().formatHex(sha), net.parameterCount(), fixedPoint, provenance);
        return new LoadedModel(dir, manifest, net, adaptation, sha);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
