package io.llic.codec;

/**
 * Measurements of one encode or decode.
 *
 * @param predictedBits the model's code length: sum of -log2(freq / 2^16) over all symbols
 * @param payloadBits   bits of the entropy-coded payload actually written
 * @param fileBits      bits of the whole .llic file
 * @param networkNanos  time spent evaluating the network
 * @param totalNanos    wall time of the whole operation
 * @param unadaptedBits the code length the network alone would have given (without the model's adaptation
 *                      stage), when the encoder was asked to measure it; NaN otherwise
 */
public record CodecStats(double predictedBits, long payloadBits, long fileBits, long networkNanos, long totalNanos,
                         double unadaptedBits) {
    public CodecStats(double predictedBits, long payloadBits, long fileBits, long networkNanos, long totalNanos) {
        this(predictedBits, payloadBits, fileBits, networkNanos, totalNanos, Double.NaN);
    }

    public long codingNanos() {
        return Math.max(0, totalNanos - networkNanos);
    }
}
