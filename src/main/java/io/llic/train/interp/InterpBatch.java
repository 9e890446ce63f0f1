package io.llic.train.interp;

/**
 * Training examples of the interp family, per band: the window inputs as the network sees them
 * ((Y - 127)/255, Co/255, Cg/255; {@code inputs[b][n * InterpModel.inputs(b) + k]}) and the true
 * Y, Co, Cg of each predicted sample ({@code targets[b][n * 3 + c]}).
 */
public record InterpBatch(int[] count, float[][] inputs, int[][] targets) implements io.llic.train.TrainBatch {
    /** Sub-pixels predicted (3 per sample of every band). */
    @Override
    public long subpixels() {
        return 3L * (count[0] + count[1] + count[2]);
    }
}
