package io.llic.entropy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RansTest {

    private static int[] roundTrip(FrequencyTable[] tables, int[] symbols, int precision) throws CorruptStreamException {
        RansEncoder enc = new RansEncoder(precision);
        for (int i = 0; i < symbols.length; i++) {
            FrequencyTable t = tables[i % tables.length];
            enc.put(t.start(symbols[i]), t.freq(symbols[i]));
        }
        byte[] stream = enc.finish();
        RansDecoder dec = new RansDecoder(stream, precision);
        int[] out = new int[symbols.length];
        for (int i = 0; i < symbols.length; i++) {
            FrequencyTable t = tables[i % tables.length];
            int s = t.symbolFor(dec.target());
            out[i] = s;
            dec.advance(t.start(s), t.freq(s));
        }
        dec.checkFinished();
        return out;
    }

    @Test
    void emptyInputGivesJustTheFinalState() throws Exception {
        byte[] stream = new RansEncoder(16).finish();
        assertEquals(8, stream.length);
        new RansDecoder(stream, 16).checkFinished();
    }

    @Test
    void oneSymbol() throws Exception {
        FrequencyTable t = FrequencyTable.fromWeights(new double[] {1, 2, 3}, 16);
        for (int s = 0; s < 3; s++) {
            assertArrayEquals(new int[] {s}, roundTrip(new FrequencyTable[] {t}, new int[] {s}, 16));
        }
    }

    @Test
    void symbolsOfFrequencyOne() throws Exception {
        // 256 symbols, one of which takes almost all the mass: the rest have frequency exactly 1
        double[] w = new double[256];
        w[7] = 1;
        FrequencyTable t = FrequencyTable.fromWeights(w, 16);
        for (int s = 0; s < 256; s++) {
            if (s != 7) {
                assertEquals(1, t.freq(s));
            }
        }
        int[] symbols = new int[5000];
        Random r = new Random(1);
        for (int i = 0; i < symbols.length; i++) {
            symbols[i] = r.nextInt(4) == 0 ? r.nextInt(256) : 7;
        }
        assertArrayEquals(symbols, roundTrip(new FrequencyTable[] {t}, symbols, 16));
    }

    @Test
    void longRandomStreamsMatchTheModelsCodeLength() throws Exception {
        Random r = new Random(42);
        for (int precision : new int[] {12, 16}) {
            FrequencyTable[] tables = new FrequencyTable[17];
            for (int k = 0; k < tables.length; k++) {
                double[] w = new double[1 + r.nextInt(256)];
                for (int s = 0; s < w.length; s++) {
                    w[s] = Math.pow(r.nextDouble(), 4);
                }
                tables[k] = FrequencyTable.fromWeights(w, precision);
            }
            int n = 400_000;
            int[] symbols = new int[n];
            double ideal = 0;
            for (int i = 0; i < n; i++) {
                FrequencyTable t = tables[i % tables.length];
                // draw from the table's own distribution (the reference model)
                int s = t.symbolFor(r.nextInt(1 << precision));
                symbols[i] = s;
                ideal += t.bits(s);
            }
            RansEncoder enc = new RansEncoder(precision);
            for (int i = 0; i < n; i++) {
                FrequencyTable t = tables[i % tables.length];
                enc.put(t.start(symbols[i]), t.freq(symbols[i]));
            }
            byte[] stream = enc.finish();
            double actual = stream.length * 8.0;
            assertTrue(actual >= ideal - 64, "cannot beat the model's code length");
            assertTrue(actual <= ideal * 1.001 + 64, "overhead " + (actual / ideal - 1) + " above 0.1%");
            assertArrayEquals(symbols, roundTrip(tables, symbols, precision));
        }
    }

    @Test
    void truncatedStreamIsReported() {
        FrequencyTable t = FrequencyTable.fromWeights(new double[] {1, 1, 1, 1}, 16);
        RansEncoder enc = new RansEncoder(16);
        for (int i = 0; i < 1000; i++) {
            enc.put(t.start(i % 4), t.freq(i % 4));
        }
        byte[] stream = enc.finish();
        for (int cut : new int[] {0, 4, 8, stream.length - 4}) {
            byte[] shorter = Arrays.copyOf(stream, cut);
            assertThrows(CorruptStreamException.class, () -> {
                RansDecoder dec = new RansDecoder(shorter, 16);
                for (int i = 0; i < 1000; i++) {
                    int s = t.symbolFor(dec.target());
                    dec.advance(t.start(s), t.freq(s));
                }
                dec.checkFinished();
            });
        }
    }

    @Test
    void rejectsBadIntervals() {
        RansEncoder enc = new RansEncoder(16);
        assertThrows(IllegalArgumentException.class, () -> enc.put(0, 0));
        assertThrows(IllegalArgumentException.class, () -> enc.put(65535, 2));
        assertThrows(IllegalArgumentException.class, () -> new RansEncoder(17));
    }
}
