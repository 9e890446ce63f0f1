package io.llic.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.llic.model.causal.CausalModel;
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
 * A model directory read from disk: its manifest, its family, its fixed-point networks (stored one
 * after another in the weights file: the per-position networks, then the convolutional ones, then the
 * optional adaptation block) and the SHA-256 of the weights file. {@link #write} creates such a
 * directory. Plans number the networks in that order: {@code nets} first, then {@code convNets}.
 */
public record LoadedModel(Path directory, ModelManifest manifest, List<FixedPointNet> nets,
                          List<FixedPointConvNet> convNets, Adaptation adaptation, byte[] sha256) {
    public LoadedModel {
        nets = List.copyOf(nets);
        convNets = List.copyOf(convNets);
    }

    /** Networks of both kinds: what a list of evaluators for this model holds, in plan numbering. */
    public int networkCount() {
        return nets.size() + convNets.size();
    }

    public static final String MANIFEST = "manifest.json";
    public static final String WEIGHTS = "weights.bin";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public String id() {
        return manifest.id();
    }

    /** The family named by the manifest (checked when the model was built). */
    public ModelFamily family() {
        return Families.find(manifest.family());
    }

    /** The network of a single-network family (the causal model's); families with several use {@link #nets()}. */
    public FixedPointNet net() {
        if (nets.size() != 1) {
            throw new IllegalStateException("model " + id() + " has " + nets.size() + " networks");
        }
        return nets.get(0);
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
        ModelFamily family = Families.find(manifest.family());
        List<FixedPointNet> nets = new ArrayList<>();
        List<FixedPointConvNet> convNets = new ArrayList<>();
        Adaptation adaptation;
        String what = weightsPath.toString();
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(weights))) {
            for (int i = 0; i < family.networks(); i++) {
                if (in.available() == 0) {
                    throw new ModelException(what + ": the " + family.name() + " family has " + family.networks()
                            + " networks, the weights file holds " + i);
                }
                nets.add(FixedPointNet.read(in, what));
            }
            int convCount = family.convNetworks(manifest);
            for (int i = 0; i < convCount; i++) {
                if (in.available() == 0) {
                    throw new ModelException(what + ": the " + family.name() + " model has " + convCount
                            + " convolutional networks, the weights file holds " + i);
                }
                convNets.add(FixedPointConvNet.read(in, what));
            }
            adaptation = Adaptation.read(in, what);
            if (adaptation != null && in.read() != -1) {
                throw new ModelException(what + ": unexpected bytes after the adaptation settings");
            }
        } catch (java.io.EOFException e) {
            throw new ModelException(what + " is truncated");
        } catch (IOException e) {
            throw new ModelException(what + ": " + e.getMessage(), e);
        }
        family.check(nets, adaptation, weightsPath.toString());
        family.checkConv(convNets, weightsPath.toString());
        return new LoadedModel(dir, manifest, nets, convNets, adaptation, sha);
    }

    /** The manifest and weights as bytes, to rebuild this model elsewhere with {@link #fromBytes}. */
    public ModelBytes toFiles() {
        try {
            return new ModelBytes(sha256Hex(), JSON.writeValueAsBytes(manifest), weightsBytes(nets, convNets, adaptation));
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
        if (Families.find(manifest.family()) == null) {
            throw new ModelException(where + ": model family '" + manifest.family() + "' is not supported (known: "
                    + String.join(", ", Families.names()) + ")");
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

    /** {@code weights.bin}: the networks one after another, then the adaptation settings if the model has them. */
    static byte[] weightsBytes(List<FixedPointNet> nets, List<FixedPointConvNet> convNets, Adaptation adaptation) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            for (FixedPointNet net : nets) {
                out.write(net.toBytes());
            }
            for (FixedPointConvNet net : convNets) {
                net.write(out);
            }
            if (adaptation != null) {
                adaptation.write(out);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** The same networks with other adaptation settings (null: none): a different model, with its own hash. */
    public LoadedModel withAdaptation(Adaptation other, String newId) {
        return of(directory, newId, manifest.family(), nets, convNets, other, manifest.provenance());
    }

    /** A causal model with adaptation (null: none), as {@link #write} would write it, built in memory. */
    public static LoadedModel of(Path dir, String id, FixedPointNet net, Adaptation adaptation, Map<String, Object> provenance) {
        return of(dir, id, CausalModel.FAMILY, List.of(net), adaptation, provenance);
    }

    /** A model of {@code family} with its networks and adaptation stage (null: none), built in memory. */
    public static LoadedModel of(Path dir, String id, String family, List<FixedPointNet> nets, Adaptation adaptation,
                                 Map<String, Object> provenance) {
        return of(dir, id, family, nets, List.of(), adaptation, provenance);
    }

    /** A model of {@code family} with per-position and convolutional networks, built in memory. */
    public static LoadedModel of(Path dir, String id, String family, List<FixedPointNet> nets,
                                 List<FixedPointConvNet> convNets, Adaptation adaptation, Map<String, Object> provenance) {
        byte[] weights = weightsBytes(nets, convNets, adaptation);
        byte[] sha = sha256(weights);
        Map<String, Object> fixedPoint = new LinkedHashMap<>();
        fixedPoint.put("inputs", "integers (pixel values; scaling folded into layer 0)");
        fixedPoint.put("outputs", "integers in units of 2^-24");
        fixedPoint.put("leakySlope", FixedPointLayer.LEAKY_SLOPE + " / 2^" + FixedPointLayer.SLOPE_BITS);
        long parameters = 0;
        List<List<Map<String, Object>>> networks = new ArrayList<>();
        for (FixedPointNet net : nets) {
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
            networks.add(layers);
            parameters += net.parameterCount();
        }
        if (networks.size() == 1) {
            fixedPoint.put("layers", networks.get(0));
        } else if (!networks.isEmpty()) {
            fixedPoint.put("networks", networks);
        }
        if (!convNets.isEmpty()) {
            List<Map<String, Object>> conv = new ArrayList<>();
            for (FixedPointConvNet net : convNets) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("inputChannels", net.inputChannels());
                m.put("outputChannels", net.outputChannels());
                m.put("operations", net.ops().size());
                m.put("convolutions", net.ops().stream().filter(o -> o instanceof FixedPointConvNet.Conv).count());
                m.put("parameters", net.parameterCount());
                conv.add(m);
                parameters += net.parameterCount();
            }
            fixedPoint.put("convolutionalNetworks", conv);
        }
        if (adaptation != null) {
            fixedPoint.put("adaptation", adaptation.describe());
        }
        ModelManifest manifest = new ModelManifest(id, family, ModelManifest.FORMAT_VERSION, WEIGHTS,
                HexFormat.of().formatHex(sha), parameters, fixedPoint, provenance);
        return new LoadedModel(dir, manifest, nets, convNets, adaptation, sha);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
