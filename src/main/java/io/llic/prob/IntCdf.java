package io.llic.prob;

/**
 * An integer cumulative distribution over an alphabet of {@link #symbols()} symbols: the only thing
 * the entropy coder sees of a model (ARCHITECTURE.md, "Model families"). Whatever the family, the
 * distribution is 16-bit: {@code start(0) = 0}, {@code start(symbols()) = 2^16}, and every symbol has
 * a frequency {@code start(s + 1) - start(s)} of at least 1. Implementations compute it in integers
 * only (the determinism contract), so encoder and decoder build the same table.
 */
public interface IntCdf {
    int PRECISION_BITS = 16;
    int TOTAL = 1 << PRECISION_BITS;

    /** Size of the alphabet: symbols are 0 .. symbols() - 1. */
    int symbols();

    /** Start of the interval of {@code symbol}; {@code start(symbols())} is {@link #TOTAL}. */
    int start(int symbol);

    /** Frequency of {@code symbol}, at least 1. */
    default int freq(int symbol) {
        return start(symbol + 1) - start(symbol);
    }

    /**
     * The symbol whose interval contains {@code target} in [0, 2^16). Its interval is then available
     * from {@link #foundStart()} and {@link #foundFreq()} without evaluating the CDF again.
     */
    int symbolFor(int target);

    /** Start of the interval of the symbol last returned by {@link #symbolFor}. */
    int foundStart();

    /** Frequency of the symbol last returned by {@link #symbolFor}. */
    int foundFreq();

    /** Code length of {@code symbol} in bits. */
    default double bits(int symbol) {
        return bitsOfFrequency(freq(symbol));
    }

    /** Code length in bits of a symbol of frequency {@code freq} (of 2^16). */
    static double bitsOfFrequency(int freq) {
        return PRECISION_BITS - StrictMath.log(freq) / LN2.VALUE;
    }

    /** Holder of ln 2 (interfaces cannot have private constants). */
    final class LN2 {
        static final double VALUE = StrictMath.log(2);

        private LN2() {}
    }
}
