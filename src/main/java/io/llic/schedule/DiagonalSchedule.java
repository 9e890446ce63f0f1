package io.llic.schedule;

/**
 * Diagonal schedule of Gumus and Kamisli (arXiv 2212.01185, decoder method 2): pixel (i, j) is
 * decoded at step {@code t = i + j} (anti-diagonals), H + W - 1 steps. Three context pixels are not
 * decoded yet: (i-1, j+1) and (i-2, j+2) (same step) and (i-1, j+2) (next step); all three are
 * replaced by (i-2, j+1), decoded at step t-1 (ALGORITHMS.md A.6). The encoder makes the same
 * substitution, so this is an approximation that costs rate, never correctness. Within a step, rows
 * increase.
 *
 * <pre>
 *   0 1 2 3        context of o at step t:   a b c s s     s = read from c = (i-2, j+1)
 *   1 2 3 4                                  d e s s .
 *   2 3 4 5                                  f g o
 * </pre>
 */
public final class DiagonalSchedule implements Schedule {
    public static final String NAME = "diagonal";
    private static final int[] READ_ROW = CausalTaps.DR.clone();
    private static final int[] READ_COL = CausalTaps.DC.clone();

    static {
        int[][] replaced = {{-1, 1}, {-2, 2}, {-1, 2}};
        for (int[] r : replaced) {
            int tap = CausalTaps.indexOf(r[0], r[1]);
            READ_ROW[tap] = -2;
            READ_COL[tap] = 1;
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int stepCount(int height, int width) {
        return height + width - 1;
    }

    @Override
    public int maxPixelsPerStep(int height, int width) {
        return Math.min(height, width);
    }

    @Override
    public int pixelsOfStep(int height, int width, int step, int[] out) {
        int firstRow = Math.max(0, step - width + 1);
        int lastRow = Math.min(height - 1, step);
        int n = 0;
        for (int i = firstRow; i <= lastRow; i++) {
            out[n++] = i * width + (step - i);
        }
        return n;
    }

    @Override
    public int readRow(int tap) {
        return READ_ROW[tap];
    }

    @Override
    public int readCol(int tap) {
        return READ_COL[tap];
    }

    @Override
    public boolean exact() {
        return false;
    }
}
