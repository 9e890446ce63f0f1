package io.llic.train;

import io.llic.model.causal.CausalModel;

/**
 * The least-squares start of a causal network: a linear predictor fitted on training pixels, which
 * the network then carries as its initial prediction (see {@link CausalNet#init(long, Fit)}).
 *
 * <p>Per pixel the vector z = (39 features, 1, R, G, B) with the colours in [0,1]; the moments
 * E[z z^T] over a sample of training crops give three ordinary least-squares fits, in the
 * channel order the codec decodes in:
 * <pre>
 *   R ~ features, 1
 *   G ~ features, 1, R            (the coefficient of R starts the network's alpha)
 *   B ~ features, 1, R, G         (beta and gamma)
 * </pre>
 * and the residual spreads of the three fits start the mixture's standard deviations. This is the
 * classical linear predictor of lossless coding (the 12-tap causal neighbourhood with inter-channel
 * terms), found in one pass instead of a few thousand steps of gradient descent.
 */
public final class LinearStart {
    /** Length of z: the features, the constant, R, G and B. */
    public static final int Z = CausalNet.FEATURES + 4;
    static final int ONE = CausalNet.FEATURES;
    static final int R = ONE + 1;
    /** Ridge added to the diagonal (relative to its mean), so a constant feature cannot make the system singular. */
    static final double RIDGE = 1e-7;

    /**
     * The fit: per channel c the coefficients of the features ({@code features[c]}, 39 values), of the
     * constant ({@code constant[c]}), the coupling coefficients and the residual RMS in [0,1] units.
     */
    public record Fit(double[][] features, double[] constant, double alpha, double beta, double gamma, double[] rms) {}

    private LinearStart() {}

    /** Entries of E[z z^T] stored: the upper triangle with the diagonal, row by row. */
    public static int momentCount() {
        return Z * (Z + 1) / 2;
    }

    /** Sum over the batch's pixels of z z^T (upper triangle), each term times {@code weight}. */
    public static double[] moments(Batch batch, double weight) {
        double[] sums = new double[momentCount()];
        float[] features = new float[batch.pixels() * CausalNet.FEATURES];
        CausalNet.features(batch.inputs(), batch.pixels(), features);
        double[] z = new double[Z];
        for (int p = 0; p < batch.pixels(); p++) {
            for (int i = 0; i < CausalNet.FEATURES; i++) {
                z[i] = features[p * CausalNet.FEATURES + i];
            }
            z[ONE] = 1;
            for (int c = 0; c < 3; c++) {
                z[R + c] = batch.targets()[p * 3 + c] / 255.0;
            }
            int k = 0;
            for (int i = 0; i < Z; i++) {
                double zi = z[i] * weight;
                for (int j = i; j < Z; j++) {
                    sums[k++] += zi * z[j];
                }
            }
        }
        return sums;
    }

    /** Solves the three fits from the (normalised) moments. */
    public static Fit fit(double[] moments) {
        double[][] m = new double[Z][Z];
        int k = 0;
        for (int i = 0; i < Z; i++) {
            for (int j = i; j < Z; j++) {
                m[i][j] = moments[k];
                m[j][i] = moments[k];
                k++;
            }
        }
        if (!(m[ONE][ONE] > 0)) {
            throw new IllegalArgumentException("no pixels to fit a linear start on");
        }
        double[][] features = new double[3][];
        double[] constant = new double[3];
        double[] rms = new double[3];
        double[] coupling = new double[3];
        for (int c = 0; c < 3; c++) {
            // regressors: the first n entries of z (the features, the constant, the colours decoded before c)
            int n = ONE + 1 + c;
            int y = R + c;
            double[][] a = new double[n][n];
            double[] b = new double[n];
            double diag = 0;
            for (int i = 0; i < n; i++) {
                diag += m[i][i];
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    a[i][j] = m[i][j];
                }
                a[i][i] += RIDGE * diag / n;
                b[i] = m[i][y];
            }
            double[] x = solve(a, b);
            double explained = 0;
            for (int i = 0; i < n; i++) {
                explained += x[i] * b[i];
            }
            double ey2 = m[y][y] / m[ONE][ONE];
            rms[c] = Math.sqrt(Math.max(ey2 - explained / m[ONE][ONE], 1e-8));
            features[c] = java.util.Arrays.copyOf(x, CausalNet.FEATURES);
            constant[c] = x[ONE];
            if (c == 1) {
                coupling[0] = x[ONE + 1];
            } else if (c == 2) {
                coupling[1] = x[ONE + 1];
                coupling[2] = x[ONE + 2];
            }
        }
        return new Fit(features, constant, coupling[0], coupling[1], coupling[2], rms);
    }

    /** Solves the symmetric positive definite system {@code a x = b} by Cholesky decomposition. */
    static double[] solve(double[][] a, double[] b) {
        int n = b.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        throw new IllegalArgumentException("least-squares system is not positive definite (pivot " + i + ")");
                    }
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double s = b[i];
            for (int k = 0; k < i; k++) {
                s -= l[i][k] * y[k];
            }
            y[i] = s / l[i][i];
        }
        double[] x = new double[n];
        for (int i = n - 1; i >= 0; i--) {
            double s = y[i];
            for (int k = i + 1; k < n; k++) {
                s -= l[k][i] * x[k];
            }
            x[i] = s / l[i][i];
        }
        return x;
    }

    /** The (left + above) / 2 predictor as a fit: the start used before the least-squares one. */
    public static Fit leftAbove() {
        int left = io.llic.schedule.CausalTaps.indexOf(0, -1);
        int above = io.llic.schedule.CausalTaps.indexOf(-1, 0);
        double[][] f = new double[3][CausalNet.FEATURES];
        for (int c = 0; c < 3; c++) {
            // P = m + (dev_left + dev_above) / (2 S), and the mean feature is m - 0.5
            f[c][CausalModel.INPUTS + c] = 1;
            f[c][left * 3 + c] = 1 / (2.0 * CausalNet.DEVIATION_SCALE);
            f[c][above * 3 + c] = 1 / (2.0 * CausalNet.DEVIATION_SCALE);
        }
        return new Fit(f, new double[] {0.5, 0.5, 0.5}, 0, 0, 0, null);
    }
}
