package io.llic.runtime;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.llic.model.FixedPointLayer;
import io.llic.model.FixedPointNet;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluates a fixed-point network with DJL's PyTorch engine in float64. Inputs, weights and biases
 * are integer-valued and every partial sum is below 2^53 (checked when the net was built), so each
 * matrix product is exact in any summation order; scaling by powers of two and floor are exact too.
 * The integers therefore equal {@link JavaEvaluator}'s on any CPU or GPU, batch size or thread count.
 */
public final class DjlEvaluator implements NetworkEvaluator {
    private final NDManager manager;
    private final List<FixedPointLayer> layers;
    private final List<NDArray> weightsT = new ArrayList<>();
    private final List<NDArray> biases = new ArrayList<>();
    private final int inputs;
    private final int outputs;
    private final String description;

    /**
     * @param device  where to run (CPU, or a GPU picked from the task's resources)
     * @param threads PyTorch intra-op threads; 0 keeps the engine's setting
     */
    public DjlEvaluator(FixedPointNet net, Device device, int threads) {
        this.manager = NDManager.newBaseManager(device, "PyTorch"); // loads the engine first
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        this.layers = net.layers();
        this.inputs = net.inputs();
        this.outputs = net.outputs();
        for (FixedPointLayer l : layers) {
            double[] wt = new double[l.in() * l.out()];
            for (int o = 0; o < l.out(); o++) {
                for (int i = 0; i < l.in(); i++) {
                    wt[i * l.out() + o] = l.weights()[o * l.in() + i];
                }
            }
            weightsT.add(manager.create(wt, new Shape(l.in(), l.out())));
            double[] b = new double[l.out()];
            for (int o = 0; o < l.out(); o++) {
                b[o] = l.bias()[o];
            }
            biases.add(manager.create(b, new Shape(l.out())));
        }
        this.description = "djl-pytorch(" + device + "," + JniUtils.getNumThreads() + " threads)";
    }

    @Override
    public void evaluate(long[] in, int count, long[] out) {
        if (count == 0) {
            return;
        }
        double[] x = new double[count * inputs];
        for (int i = 0; i < x.length; i++) {
            x[i] = in[i];
        }
        try (NDManager batch = manager.newSubManager()) {
            NDArray a = batch.create(x, new Shape(count, inputs));
            for (int l = 0; l < layers.size(); l++) {
                FixedPointLayer layer = layers.get(l);
                a = a.matMul(weightsT.get(l)).addi(biases.get(l)).divi(1L << layer.shift()).floor();
                if (layer.leaky()) {
                    NDArray negative = a.minimum(0).muli(FixedPointLayer.LEAKY_SLOPE)
                            .divi(1L << FixedPointLayer.SLOPE_BITS).floor();
                    a = a.maximum(0).addi(negative);
                }
                a = a.clip(-layer.clip(), layer.clip());
            }
            double[] y = a.toDoubleArray();
            for (int i = 0; i < count * outputs; i++) {
                out[i] = (long) y[i];
            }
        }
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void close() {
        manager.close();
    }
}
