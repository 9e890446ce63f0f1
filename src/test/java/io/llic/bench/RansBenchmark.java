package io.llic.bench;

import io.llic.entropy.CorruptStreamException;
import io.llic.entropy.FrequencyTable;
import io.llic.entropy.RansDecoder;
import io.llic.entropy.RansEncoder;
import io.llic.prob.MixtureCdf;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Symbols per second of the rANS coder with a static 256-symbol table (the coder alone), and of
 * the full per-symbol path the codec takes (integer mixture CDF + coder). Run:
 * {@code java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) org.openjdk.jmh.Main RansBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RansBenchmark {
    static final int N = 1 << 20;
    FrequencyTable table;
    int[] symbols;
    byte[] stream;
    long[] params;

    @Setup
    public void setUp() {
        Random r = new Random(1);
        double[] w = new double[256];
        for (int s = 0; s < 256; s++) {
            w[s] = Math.exp(-Math.abs(s - 128) / 12.0); // a Laplacian, typical of pixel residuals
        }
        table = FrequencyTable.fromWeights(w, 16);
        symbols = new int[N];
        for (int i = 0; i < N; i++) {
            symbols[i] = table.symbolFor(r.nextInt(1 << 16));
        }
        stream = encodeStatic();
        long one = 1L << 24;
        params = new long[] {one / 2, one / 3, one / 2 + one / 50, one / 60, one / 30, one / 10, 0, one, -one};
    }

    byte[] encodeStatic() {
        RansEncoder enc = new RansEncoder(16);
        for (int s : symbols) {
            enc.put(table.start(s), table.freq(s));
        }
        return enc.finish();
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public byte[] encode() {
        return encodeStatic();
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public long decode() throws CorruptStreamException {
        RansDecoder dec = new RansDecoder(stream, 16);
        long sum = 0;
        for (int i = 0; i < N; i++) {
            int s = table.symbolFor(dec.target());
            dec.advance(table.start(s), table.freq(s));
            sum += s;
        }
        return sum;
    }

    /** What the decoder does per sub-pixel: load a 3-component mixture, search the CDF, advance. */
    @Benchmark
    @OperationsPerInvocation(N / 16)
    public long mixtureDecodePath() throws CorruptStreamException {
        MixtureCdf cdf = new MixtureCdf(3);
        RansEncoder enc = new RansEncoder(16);
        int n = N / 16;
        cdf.set(params, 0, params, 3, params, 6, null);
        for (int i = 0; i < n; i++) {
            int v = 100 + (symbols[i] & 31);
            enc.put(cdf.start(v), cdf.freq(v));
        }
        RansDecoder dec = new RansDecoder(enc.finish(), 16);
        long sum = 0;
        for (int i = 0; i < n; i++) {
            cdf.set(params, 0, params, 3, params, 6, null);
            int s = cdf.symbolFor(dec.target());
            dec.advance(cdf.foundStart(), cdf.foundFreq());
            sum += s;
        }
        return sum;
    }
}
