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
        step(params, gradient, t, lr, 0, 0);
    }

    /** {@link #step(double[], double[], long, double, int, long, double)} with the prefix at the run's rate. */
    public void step(double[] params, double[] gradient, long t, double lr, int frozen, long frozenSteps) {
        step(params, gradient, t, lr, frozen, frozenSteps, 1);
    }

    /**
     * Update number {@code t} where the first {@code prefix} parameters are held for the first
     * {@code frozenSteps} updates (their gradient ignored, their moments left at 0) and then start
     * their own Adam at {@code prefixLrScale} times the rate: their bias correction counts from their
     * first update, so that they do not take steps of several times the learning rate while their
     * second moment is still near 0 (as they would under the run's count).
     */
    public void step(double[] params, double[] gradient, long t, double lr, int prefix, long frozenSteps,
                     double prefixLrScale) {
        int from = 0;
        if (prefix > 0) {
            if (t > frozenSteps) {
                update(params, gradient, t - frozenSteps, lr * prefixLrScale, 0, prefix);
            }
            from = prefix;
        }
        update(params, gradient, t, lr, from, params.length);
    }

    private void update(double[] params, double[] gradient, long t, double lr, int from, int to) {
        double c1 = 1 - StrictMath.pow(BETA1, t);
        double c2 = 1 - StrictMath.pow(BETA2, t);
        for (int i = from; i < to; i++) {
            double g = gradient[i];
            m[i] = BETA1 * m[i] + (1 - BETA1) * g;
            v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
            double mh = m[i] / c1;
            double vh = v[i] / c2;
            params[i] -= lr * mh / (StrictMath.sqrt(vh) + EPSILON);
        }
    }
}
