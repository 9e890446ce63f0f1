package io.llic.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The .llic container: a header and length-prefixed, checksummed chunks.
 *
 * <pre>
 * magic       8 bytes  8C 'L' 'L' 'I' 'C' 0D 0A 1A
 * version     u16      {@link #VERSION}
 * headerSize  u16      bytes of the header fields that follow
 * header      fields of {@link LlicHeader#LAYOUT}
 * headerCrc   u32      CRC-32C of version, headerSize and the header fields
 * chunkCount  u16
 * chunk*      u32 length, u32 CRC-32C of the data, data
 * </pre>
 * Integers are big-endian. A reader checks every length against what is left in the file before it
 * allocates, every CRC before it decodes, and that nothing follows the last chunk.
 */
public record LlicFile(LlicHeader header, List<byte[]> chunks) {
    public static final int VERSION = 1;
    static final byte[] MAGIC = {(byte) 0x8C, 'L', 'L', 'I', 'C', 0x0D, 0x0A, 0x1A};
    public static final int MAX_CHUNKS = 4096;
    /** Largest image a header may describe (same guard as the PNG reader). */
    public static final long MAX_PIXELS = 1L << 28;
    /** Widest and tallest image a header may describe. */
    public static final int MAX_SIDE = 1 << 16;

    public byte[] toBytes() {
        int headerSize = 0;
        for (Field f : LlicHeader.LAYOUT) {
            headerSize += f.size(header);
        }
        long total = MAGIC.length + 2 + 2 + headerSize + 4 + 2;
        for (byte[] c : chunks) {
            total += 8 + c.length;
        }
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(total)).order(ByteOrder.BIG_ENDIAN);
        out.put(MAGIC);
        int crcStart = out.position();
        out.putShort((short) VERSION).putShort((short) headerSize);
        for (Field f : LlicHeader.LAYOUT) {
            f.write(header, out);
        }
        out.putInt(crc(out.array(), crcStart, out.position() - crcStart));
        out.putShort((short) chunks.size());
        for (byte[] c : chunks) {
            out.putInt(c.length).putInt(crc(c, 0, c.length)).put(c);
        }
        return out.array();
    }

    /** Reads only as far as the header (and checks it); the chunks are not touched. */
    public static LlicHeader readHeader(byte[] file) throws FormatException {
        return parse(file, false).header;
    }

    public static LlicFile parse(byte[] file) throws FormatException {
        return parse(file, true);
    }

    private static LlicFile parse(byte[] file, boolean withChunks) throws FormatException {
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.BIG_ENDIAN);
        if (file.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(file, MAGIC.length), MAGIC)) {
            throw new FormatException(file.length == 0 ? "empty file" : "not a .llic file (bad magic bytes)");
        }
        in.position(MAGIC.length);
        if (in.remaining() < 4) {
            throw new FormatException("truncated .llic file: ends before the header");
        }
        int crcStart = in.position();
        int version = in.getShort() & 0xFFFF;
        if (version != VERSION) {
            throw new FormatException("unsupported .llic format version " + version + " (this reader knows version "
                    + VERSION + ")");
        }
        int headerSize = in.getShort() & 0xFFFF;
        if (in.remaining() < headerSize + 4) {
            throw new FormatException("truncated .llic file: ends inside the header");
        }
        int expectedCrc = ByteBuffer.wrap(file, crcStart + 4 + headerSize, 4).getInt();
        if (crc(file, crcStart, 4 + headerSize) != expectedCrc) {
            throw new FormatException("corrupt .llic header (checksum mismatch)");
        }
        ByteBuffer fields = ByteBuffer.wrap(file, crcStart + 4, headerSize).slice();
        Object[] values = new Object[LlicHeader.LAYOUT.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = LlicHeader.LAYOUT.get(i).read(fields);
        }
        if (fields.hasRemaining()) {
            throw new FormatException("corrupt .llic header (" + fields.remaining() + " unexpected bytes)");
        }
        LlicHeader header = LlicHeader.fromValues(values);
        validate(header);
        in.position(crcStart + 4 + headerSize + 4);
        if (!withChunks) {
            return new LlicFile(header, List.of());
        }
        if (in.remaining() < 2) {
            throw new FormatException("truncated .llic file: ends before the chunk table");
        }
        int chunkCount = in.getShort() & 0xFFFF;
        if (chunkCount > MAX_CHUNKS) {
            throw new FormatException("corrupt .llic file: " + chunkCount + " chunks");
        }
        List<byte[]> chunks = new ArrayList<>(chunkCount);
        for (int i = 0; i < chunkCount; i++) {
            if (in.remaining() < 8) {
                throw new FormatException("truncated .llic file: chunk " + i + " of " + chunkCount + " is missing");
            }
            long length = in.getInt() & 0xFFFFFFFFL;
            int crc = in.getInt();
            if (length > in.remaining()) {
                throw new FormatException("truncated .llic file: chunk " + i + " claims " + length + " bytes, "
                        + in.remaining() + " left");
            }
            byte[] data = new byte[(int) length];
            in.get(data);
            if (crc(data, 0, data.length) != crc) {
                throw new FormatException("corrupt .llic file: chunk " + i + " checksum mismatch");
            }
            chunks.add(data);
        }
        if (in.hasRemaining()) {
            throw new FormatException("corrupt .llic file: " + in.remaining() + " bytes after the last chunk");
        }
        return new LlicFile(header, chunks);
    }

    private static void validate(LlicHeader h) throws FormatException {
        if (h.width() < 1 || h.height() < 1 || h.width() > MAX_SIDE || h.height() > MAX_SIDE
                || h.pixelCount() > MAX_PIXELS) {
            throw new FormatException("bad image size " + h.width() + "x" + h.height() + " in header");
        }
        if (h.channels() != 3 || h.bitDepth() != 8 || h.colourTransform() != 0) {
            throw new FormatException("unsupported image layout in header: channels=" + h.channels() + " bitDepth="
                    + h.bitDepth() + " colourTransform=" + h.colourTransform());
        }
        if (h.mode() != LlicHeader.Mode.LEARNED && h.mode() != LlicHeader.Mode.STORED_PNG) {
            throw new FormatException("unknown payload mode " + h.mode() + " in header");
        }
        if (h.tileSize() < 0 || (h.tileSize() > 0 && h.mode() != LlicHeader.Mode.LEARNED)) {
            throw new FormatException("bad tile size " + Integer.toUnsignedString(h.tileSize()) + " in header");
        }
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }
}
