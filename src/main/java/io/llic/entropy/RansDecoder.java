package io.llic.entropy;

/**
 * Decoder for the streams of {@link RansEncoder}. Per symbol: {@link #target()} gives a value in
 * {@code [0, 2^precisionBits)}; the caller finds the symbol whose interval {@code [start, start+freq)}
 * contains it and calls {@link #advance}. Reading past the end of the stream and a final state other
 * than the encoder's initial state are reported as {@link CorruptStreamException}, so a damaged
 * stream can never make the decoder read out of bounds or loop.
 */
public final class RansDecoder {
    private final byte[] data;
    private final int end;
    private final int precisionBits;
    private final int mask;
    private int pos;
    private long x;

    public RansDecoder(byte[] data, int offset, int length, int precisionBits) throws CorruptStreamException {
        if (precisionBits < 1 || precisionBits > RansEncoder.MAX_PRECISION_BITS) {
            throw new IllegalArgumentException("precision must be 1.." + RansEncoder.MAX_PRECISION_BITS);
        }
        if (length < 8 || (length - 8) % 4 != 0) {
            throw new CorruptStreamException("rANS stream of " + length + " bytes is not 8 + 4k bytes long");
        }
        this.data = data;
        this.pos = offset;
        this.end = offset + length;
        this.precisionBits = precisionBits;
        this.mask = (1 << precisionBits) - 1;
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (data[offset + i] & 0xFFL);
        }
        this.x = v;
        this.pos += 8;
        if (Long.compareUnsigned(x, RansEncoder.STATE_LOW) < 0) {
            throw new CorruptStreamException("rANS initial state is below the normalised interval");
        }
    }

    public RansDecoder(byte[] data, int precisionBits) throws CorruptStreamException {
        this(data, 0, data.length, precisionBits);
    }

    /** The value that selects the next symbol, in {@code [0, 2^precisionBits)}. */
    public int target() {
        return (int) (x & mask);
    }

    /** Removes the symbol with interval {@code [start, start + freq)} from the state. */
    public void advance(int start, int freq) throws CorruptStreamException {
        x = freq * (x >>> precisionBits) + (x & mask) - start;
        if (Long.compareUnsigned(x, RansEncoder.STATE_LOW) < 0) {
            if (pos + 4 > end) {
                throw new CorruptStreamException("rANS stream ends early (truncated or corrupt)");
            }
            long w = (data[pos] & 0xFFL) | (data[pos + 1] & 0xFFL) << 8 | (data[pos + 2] & 0xFFL) << 16
                    | (data[pos + 3] & 0xFFL) << 24;
            pos += 4;
            x = (x << 32) | w;
        }
    }

    /** Checks that the stream was consumed exactly and the state returned to the encoder's start. */
    public void checkFinished() throws CorruptStreamException {
        if (pos != end) {
            throw new CorruptStreamException("rANS stream has " + (end - pos) + " unread bytes (corrupt)");
        }
        if (x != RansEncoder.STATE_LOW) {
            throw new CorruptStreamException("rANS final state mismatch (corrupt stream)");
        }
    }
}
