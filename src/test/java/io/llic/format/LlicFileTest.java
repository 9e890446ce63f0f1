package io.llic.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LlicFileTest {
    static LlicHeader header(int w, int h) {
        byte[] a = new byte[32];
        byte[] b = new byte[32];
        Arrays.fill(a, (byte) 7);
        Arrays.fill(b, (byte) 9);
        return new LlicHeader(w, h, 3, 8, 0, LlicHeader.Mode.LEARNED, "model-1", a, "wavefront", 0, b);
    }

    @Test
    void roundTrip() throws Exception {
        byte[] payload = new byte[1000];
        new Random(1).nextBytes(payload);
        LlicFile f = new LlicFile(header(768, 512), List.of(payload));
        LlicFile back = LlicFile.parse(f.toBytes());
        assertEquals(768, back.header().width());
        assertEquals("wavefront", back.header().schedule());
        assertArrayEquals(f.header().modelSha256(), back.header().modelSha256());
        assertArrayEquals(payload, back.chunks().get(0));
        assertEquals("learned", back.header().describe().get("modeName"));
        assertEquals(768, LlicFile.readHeader(f.toBytes()).width());
    }

    @Test
    void everyTruncationIsRejected() {
        byte[] file = new LlicFile(header(8, 8), List.of(new byte[40])).toBytes();
        for (int n = 0; n < file.length; n++) {
            byte[] cut = Arrays.copyOf(file, n);
            assertThrows(FormatException.class, () -> LlicFile.parse(cut), "truncated to " + n);
        }
    }

    @Test
    void everySingleBitFlipIsRejected() {
        byte[] file = new LlicFile(header(8, 8), List.of(new byte[40])).toBytes();
        for (int bit = 0; bit < file.length * 8; bit++) {
            byte[] bad = file.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThrows(FormatException.class, () -> LlicFile.parse(bad), "bit " + bit);
        }
    }

    @Test
    void unknownVersionIsNamed() {
        byte[] file = new LlicFile(header(8, 8), List.of(new byte[4])).toBytes();
        file[LlicFile.MAGIC.length + 1] = 9;
        FormatException e = assertThrows(FormatException.class, () -> LlicFile.parse(file));
        assertTrue(e.getMessage().contains("version 9"), e.getMessage());
    }

    @Test
    void absurdSizesAreRejectedBeforeAllocation() {
        byte[] file = new LlicFile(header(1 << 17, 4), List.of(new byte[4])).toBytes();
        FormatException e = assertThrows(FormatException.class, () -> LlicFile.parse(file));
        assertTrue(e.getMessage().contains("size"), e.getMessage());
        byte[] notLlic = "hello, this is text".getBytes();
        assertThrows(FormatException.class, () -> LlicFile.parse(notLlic));
        assertThrows(FormatException.class, () -> LlicFile.parse(new byte[0]));
    }
}
