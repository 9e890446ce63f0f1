package io.llic.train;

/**
 * Adam (Kingma & Ba) on the driver in double precision, so that an update depends only on the
 * gradient, the step and the state: a checkpoint of (parameters, m, v, step) resumes exactly.
 */
public final class Adam {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPSILON = 1e-8;
    private final double[] m;
    private final double[] v;

    public Adam(int size) {
        this(new double[size], new double[size]);
    }

    public Adam(double[] m, double[] v) {
        this.m = m;
        this.v = v;
    }

    public double[] firstMoment() {
        return m;
    }

    public double[] secondMoment() {
        return v;
    }

    /** Applies update number {@code t} (1-based) with learning rate {@code lr} to {@code params}. */
    public void step(double[] params, double[] gradient, long t, double lr) {
        double c1 = 1 - StrictMath.pow(BETA1, t);
        double c2 = 1 - StrictMath.pow(BETA2, t);
        for (int i = 0; i < params.length; i++) {
            double g = gradient[i];
            m[i] = BETA1 * m[i] + (1 - BETA1) * g;
            v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
            double mh = m[i] / c1;
            double vh = v[i] / c2;
            params[i] -= lr * mh / (StrictMath.sqrt(vh) + EPSILON);
        }
    }
}
