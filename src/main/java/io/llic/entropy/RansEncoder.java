package io.llic.entropy;

import java.util.Arrays;

/**
 * rANS encoder with a 64-bit state and 32-bit renormalisation (after Fabian Giesen's rans64).
 *
 * <p>Read me first:
 * <ul>
 *   <li>rANS is last-in first-out. {@link #put} only records the symbols; {@link #finish} codes them in
 *       reverse order so that the decoder reads them in the order they were put.</li>
 *   <li>Frequencies are integers with a total of exactly {@code 2^precisionBits}
 *       ({@code 1 <= precisionBits <= 16}); a symbol is given by its cumulative start and its
 *       frequency, and every frequency must be at least 1.</li>
 *   <li>The state x stays in {@code [L, 2^64)} with {@code L = 2^31}; the encoder starts at L and the
 *       decoder must end at L after the last symbol, which is checked.</li>
 *   <li>Output: the final state as 8 little-endian bytes, then 32-bit little-endian words in the
 *       order the decoder reads them.</li>
 * </ul>
 */
public final class RansEncoder {
    /** Lower bound of the normalised state interval. */
    static final long STATE_LOW = 1L << 31;
    public static final int MAX_PRECISION_BITS = 16;

    private final int precisionBits;
    private int[] starts = new int[1024];
    private int[] freqs = new int[1024];
    private int count;

    public RansEncoder(int precisionBits) {
        if (precisionBits < 1 || precisionBits > MAX_PRECISION_BITS) {
            throw new IllegalArgumentException("precision must be 1.." + MAX_PRECISION_BITS + " bits, got " + precisionBits);
        }
        this.precisionBits = precisionBits;
    }

    /** Records one symbol with cumulative frequency {@code start} and frequency {@code freq}. */
    public void put(int start, int freq) {
        if (freq < 1 || start < 0 || start + freq > (1 << precisionBits)) {
            throw new IllegalArgumentException("bad symbol interval start=" + start + " freq=" + freq
                    + " for total " + (1 << precisionBits));
        }
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, count * 2);
            freqs = Arrays.copyOf(freqs, count * 2);
        }
        starts[count] = start;
        freqs[count] = freq;
        count++;
    }

    public int symbolCount() {
        return count;
    }

    /** Codes every recorded symbol and returns the stream. */
    public byte[] finish() {
        int[] words = new int[Math.max(16, count / 8)];
        int wordCount = 0;
        long x = STATE_LOW;
        int shiftToMax = 31 - precisionBits + 32; // x_max = ((L >> precision) << 32) * freq
        for (int i = count - 1; i >= 0; i--) {
            int freq = freqs[i];
            long xMax = ((long) freq) << shiftToMax;
            if (Long.compareUnsigned(x, xMax) >= 0) {
                if (wordCount == words.length) {
                    words = Arrays.copyOf(words, wordCount * 2);
                }
                words[wordCount++] = (int) x;
                x >>>= 32;
            }
            long q = Long.divideUnsigned(x, freq);
            long r = x - q * freq;
            x = (q << precisionBits) + r + starts[i];
        }
        byte[] out = new byte[8 + 4 * wordCount];
        putLong(out, 0, x);
        // the decoder reads the words in the reverse order of their emission
        for (int w = 0; w < wordCount; w++) {
            putInt(out, 8 + 4 * w, words[wordCount - 1 - w]);
        }
        return out;
    }

    private static void putLong(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static void putInt(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }
}
