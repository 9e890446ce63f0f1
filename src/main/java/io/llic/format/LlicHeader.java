package io.llic.format;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a .llic file. {@link #LAYOUT} declares the fields once, in file order.
 *
 * @param width          image width in pixels
 * @param height         image height in pixels
 * @param channels       colour channels (3)
 * @param bitDepth       bits per sample (8)
 * @param colourTransform 0 = none (RGB as stored)
 * @param mode           how the payload codes the pixels, see {@link Mode}
 * @param modelId        id of the model directory that coded the image
 * @param modelSha256    SHA-256 of that model's fixed-point weights
 * @param schedule       decoding schedule name (sequential, wavefront, diagonal, ...)
 * @param tileSize       0 = one tile covering the image
 * @param pixelSha256    SHA-256 of the raw decoded samples (row-major, interleaved)
 */
public record LlicHeader(int width, int height, int channels, int bitDepth, int colourTransform, int mode,
                         String modelId, byte[] modelSha256, String schedule, int tileSize, byte[] pixelSha256) {

    /** Payload modes. */
    public static final class Mode {
        /** One rANS stream coded with the model and schedule named in the header. */
        public static final int LEARNED = 0;
        /** A PNG file stored as it is: used when the model would make the image bigger. */
        public static final int STORED_PNG = 1;

        private Mode() {}

        public static String name(int mode) {
            return switch (mode) {
                case LEARNED -> "learned";
                case STORED_PNG -> "stored-png";
                default -> "unknown(" + mode + ")";
            };
        }
    }

    public static final List<Field> LAYOUT = List.of(
            new Field("width", Field.Kind.U32, LlicHeader::width),
            new Field("height", Field.Kind.U32, LlicHeader::height),
            new Field("channels", Field.Kind.U8, LlicHeader::channels),
            new Field("bitDepth", Field.Kind.U8, LlicHeader::bitDepth),
            new Field("colourTransform", Field.Kind.U8, LlicHeader::colourTransform),
            new Field("mode", Field.Kind.U8, LlicHeader::mode),
            new Field("modelId", Field.Kind.NAME, LlicHeader::modelId),
            new Field("modelSha256", Field.Kind.SHA256, LlicHeader::modelSha256),
            new Field("schedule", Field.Kind.NAME, LlicHeader::schedule),
            new Field("tileSize", Field.Kind.U32, LlicHeader::tileSize),
            new Field("pixelSha256", Field.Kind.SHA256, LlicHeader::pixelSha256));

    static LlicHeader fromValues(Object[] v) {
        return new LlicHeader((Integer) v[0], (Integer) v[1], (Integer) v[2], (Integer) v[3], (Integer) v[4],
                (Integer) v[5], (String) v[6], (byte[]) v[7], (String) v[8], (Integer) v[9], (byte[]) v[10]);
    }

    public long pixelCount() {
        return (long) width * height;
    }

    /** Field name to JSON-friendly value, in file order. */
    public Map<String, Object> describe() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Field f : LAYOUT) {
            out.put(f.name(), f.jsonValue(this));
        }
        out.put("modeName", Mode.name(mode));
        return out;
    }
}
