package io.llic.train;

/**
 * Training examples: for each pixel its 36 causal inputs scaled to [0,1] ({@code inputs[p * 36 +
 * tap * 3 + colour]}) and its true R, G, B values 0..255 ({@code targets[p * 3 + colour]}).
 */
public record Batch(int pixels, float[] inputs, int[] targets) implements TrainBatch {
    @Override
    public long subpixels() {
        return 3L * pixels;
    }

    public static Batch concat(Batch a, Batch b) {
        float[] in = new float[a.inputs.length + b.inputs.length];
        System.arraycopy(a.inputs, 0, in, 0, a.inputs.length);
        System.arraycopy(b.inputs, 0, in, a.inputs.length, b.inputs.length);
        int[] t = new int[a.targets.length + b.targets.length];
        System.arraycopy(a.targets, 0, t, 0, a.targets.length);
        System.arraycopy(b.targets, 0, t, a.targets.length, b.targets.length);
        return new Batch(a.pixels + b.pixels, in, t);
    }
}
