package io.llic.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The released models of an installation ({@code $LLIC_HOME/models/*}), looked up by the weights
 * hash a bitstream names: so that a decoder given the wrong model can say which one the file needs.
 * Only manifests are read.
 */
public final class ModelCatalog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelCatalog() {}

    /** The folder of released models beside the default one. */
    public static Path root() {
        return LoadedModel.defaultDirectory().getParent();
    }

    /** The model directory under {@code root} whose weights have this SHA-256, if any (links such as default skipped). */
    public static Optional<Path> find(Path root, byte[] sha256) {
        String hex = HexFormat.of().formatHex(sha256);
        if (root == null || !Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> !Files.isSymbolicLink(d) && Files.isRegularFile(d.resolve(LoadedModel.MANIFEST)))
                    .sorted()
                    .filter(d -> hex.equalsIgnoreCase(weightsSha(d)))
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String weightsSha(Path dir) {
        try {
            JsonNode n = JSON.readTree(dir.resolve(LoadedModel.MANIFEST).toFile());
            return n.path("weightsSha256").asText("");
        } catch (IOException e) {
            return "";
        }
    }

    /** One sentence for an error message: where the needed model is, or that this installation lacks it. */
    public static String hint(String modelId, byte[] sha256) {
        Path root = root();
        return find(root, sha256).map(d -> "it is in " + d + ": pass --model " + d)
                .orElse("no model in " + root + " has that hash: get model '" + modelId + "' (weights sha256 "
                        + HexFormat.of().formatHex(sha256) + ") and pass --model DIR");
    }
}
