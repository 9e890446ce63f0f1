package io.llic.codec;

import io.llic.model.CodingPlan;
import io.llic.model.FixedPointLayer;
import io.llic.model.LoadedModel;

/**
 * What coding one image costs in network work along a schedule, counted from the plan: the number of
 * network passes (sequential batched calls a decoder must make) and the multiply-accumulates.
 */
public record PlanCost(int passes, long multiplyAccumulates, long pixels) {
    public double multiplyAccumulatesPerPixel() {
        return (double) multiplyAccumulates / pixels;
    }

    /** The cost of an image coded in tiles of side {@code tile} (0: untiled), tile after tile. */
    public static PlanCost of(LoadedModel model, String schedule, int width, int height, int tile) {
        int passes = 0;
        long macs = 0;
        for (Tiles.Piece t : new Tiles(width, height, tile).pieces()) {
            PlanCost piece = of(model, schedule, t.width(), t.height());
            passes += piece.passes();
            macs += piece.multiplyAccumulates();
        }
        return new PlanCost(passes, macs, (long) width * height);
    }

    public static PlanCost of(LoadedModel model, String schedule, int width, int height) {
        CodingPlan plan = model.family().decodingPlan(model, schedule, width, height);
        long[] perPosition = new long[model.networkCount()];
        for (int n = 0; n < perPosition.length; n++) {
            if (n < model.nets().size()) {
                for (FixedPointLayer l : model.nets().get(n).layers()) {
                    perPosition[n] += l.multiplyAccumulates();
                }
            }
        }
        int[] positions = new int[plan.maxPositions()];
        int passes = 0;
        long macs = 0;
        for (int s = 0; s < plan.steps(); s++) {
            int net = plan.network(s);
            int count = plan.positions(s, positions);
            if (net >= 0 && plan.planeStep(s)) {
                int[] size = plan.planeSize(s);
                passes++;
                macs += model.convNets().get(net - model.nets().size()).multiplyAccumulates(size[0], size[1]);
            } else if (net >= 0 && count > 0) {
                passes++;
                macs += count * perPosition[net];
            }
        }
        return new PlanCost(passes, macs, (long) width * height);
    }
}
