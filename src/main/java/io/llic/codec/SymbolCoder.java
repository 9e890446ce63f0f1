package io.llic.codec;

import io.llic.entropy.CorruptStreamException;
import io.llic.prob.MixtureCdf;

/** What the step loop does with one symbol: the encoder writes the known value, the decoder reads one. */
interface SymbolCoder {
    /**
     * @param cdf   the distribution of this symbol
     * @param known the true value (encoder) or whatever the image holds so far (decoder, ignored)
     * @return the symbol's value
     */
    int code(MixtureCdf cdf, int known) throws CorruptStreamException;
}
