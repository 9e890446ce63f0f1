package io.llic.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.function.Function;

/**
 * One field of the .llic header: its name, its binary kind and how to read it off a header. The
 * ordered list in {@link LlicHeader#LAYOUT} is the only description of the header; writing,
 * reading, sizing and the {@code info} JSON all walk it.
 */
public record Field(String name, Kind kind, Function<LlicHeader, Object> getter) {

    /** Binary kinds; all integers are big-endian and unsigned. */
    public enum Kind {
        U8, U32,
        /** 1-byte length then that many ASCII bytes [A-Za-z0-9._-], at most 64. */
        NAME,
        /** 32 raw bytes. */
        SHA256
    }

    static final int MAX_NAME = 64;

    int size(LlicHeader header) {
        return switch (kind) {
            case U8 -> 1;
            case U32 -> 4;
            case NAME -> 1 + ((String) getter.apply(header)).length();
            case SHA256 -> 32;
        };
    }

    void write(LlicHeader header, ByteBuffer out) {
        Object v = getter.apply(header);
        switch (kind) {
            case U8 -> out.put((byte) (int) (Integer) v);
            case U32 -> out.putInt((Integer) v);
            case NAME -> {
                byte[] b = ((String) v).getBytes(StandardCharsets.US_ASCII);
                out.put((byte) b.length).put(b);
            }
            case SHA256 -> out.put((byte[]) v);
        }
    }

    Object read(ByteBuffer in) throws FormatException {
        try {
            return switch (kind) {
                case U8 -> in.get() & 0xFF;
                case U32 -> {
                    int v = in.getInt();
                    if (v < 0) {
                        throw new FormatException("header field " + name + " out of range");
                    }
                    yield v;
                }
                case NAME -> {
                    int n = in.get() & 0xFF;
                    byte[] b = new byte[Math.min(n, MAX_NAME + 1)];
                    in.get(b);
                    String s = new String(b, StandardCharsets.US_ASCII);
                    checkName(name, s);
                    yield s;
                }
                case SHA256 -> {
                    byte[] b = new byte[32];
                    in.get(b);
                    yield b;
                }
            };
        } catch (java.nio.BufferUnderflowException e) {
            throw new FormatException("header ends inside field " + name);
        }
    }

    /** A JSON-friendly value: numbers and names as they are, hashes as hex. */
    Object jsonValue(LlicHeader header) {
        Object v = getter.apply(header);
        return kind == Kind.SHA256 ? HexFormat.of().formatHex((byte[]) v) : v;
    }

    static void checkName(String field, String s) throws FormatException {
        if (s.isEmpty() || s.length() > MAX_NAME || !s.matches("[A-Za-z0-9._-]+")) {
            throw new FormatException("header field " + field + " is not a valid name");
        }
    }
}
