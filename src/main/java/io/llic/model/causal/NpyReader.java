package io.llic.model.causal;

import io.llic.model.ModelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads NumPy {@code .npy} files of little-endian float32 or float64 in C order. */
public final class NpyReader {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** An array: its shape and its values as doubles, in C order. */
    public record Array(int[] shape, double[] values) {
        public int size() {
            return values.length;
        }
    }

    private NpyReader() {}

    public static Array read(Path file) throws ModelException {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (data.length < 10 || !Arrays.equals(Arrays.copyOf(data, 6), MAGIC)) {
            throw new ModelException(file + " is not a .npy file");
        }
        int major = data[6];
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xFFFF;
            headerStart = 10;
        } else {
            headerLen = b.getInt(8);
            headerStart = 12;
        }
        if (headerLen < 0 || headerStart + headerLen > data.length) {
            throw new ModelException(file + ": truncated .npy header");
        }
        String header = new String(data, headerStart, headerLen, StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, file);
        if ("True".equals(group(FORTRAN, header, file))) {
            throw new ModelException(file + ": Fortran-order arrays are not supported");
        }
        String shapeText = group(SHAPE, header, file).trim();
        int[] shape = shapeText.isEmpty() ? new int[0]
                : Arrays.stream(shapeText.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                        .mapToInt(Integer::parseInt).toArray();
        long count = 1;
        for (int d : shape) {
            count *= d;
        }
        int itemSize = switch (descr) {
            case "<f4" -> 4;
            case "<f8" -> 8;
            default -> throw new ModelException(file + ": dtype " + descr + " is not supported (need <f4 or <f8)");
        };
        int dataStart = headerStart + headerLen;
        if (dataStart + count * itemSize != data.length) {
            throw new ModelException(file + ": expected " + count + " values of " + itemSize + " bytes after the header");
        }
        double[] values = new double[(int) count];
        for (int i = 0; i < count; i++) {
            values[i] = itemSize == 4 ? b.getFloat(dataStart + 4 * i) : b.getDouble(dataStart + 8 * i);
        }
        return new Array(shape, values);
    }

    private static String group(Pattern p, String header, Path file) throws ModelException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new ModelException(file + ": .npy header lacks " + p.pattern());
        }
        return m.group(1);
    }
}
