package io.llic.codec;

import io.llic.entropy.CorruptStreamException;
import io.llic.prob.IntCdf;

/** What the step loop does with one symbol: the encoder writes the known value, the decoder reads one. */
interface SymbolCoder {
    /**
     * @param stream the stream the symbol belongs to
     * @param cdf    the distribution of this symbol
     * @param known  the true value (encoder) or whatever the plan holds so far (decoder, ignored)
     * @return the symbol's value
     */
    int code(int stream, IntCdf cdf, int known) throws CorruptStreamException;
}
