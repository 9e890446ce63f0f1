package io.llic.model.interp;

import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.CodingPlan;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.ModelFamily;
import java.util.List;

/** Family {@code interp}: three band networks coded along {@code interp} or {@code checkerboard} ({@link InterpPlan}). */
public final class InterpFamily implements ModelFamily {
    @Override
    public String name() {
        return InterpModel.FAMILY;
    }

    @Override
    public int networks() {
        return 3;
    }

    @Override
    public void check(List<FixedPointNet> nets, Adaptation adaptation, String where) throws ModelException {
        for (int band = 0; band < 3; band++) {
            ModelFamily.checkMixtureNetwork(nets.get(band), InterpModel.inputs(band), InterpModel.OUTPUTS, name(),
                    "band " + band + " network", where);
        }
    }

    @Override
    public List<String> schedules() {
        return List.of(InterpPlan.INTERP, InterpPlan.CHECKERBOARD);
    }

    @Override
    public int streams(String schedule) {
        return InterpModel.LEVELS;
    }

    @Override
    public long leastPayloadBitsQ16(int width, int height) {
        // Y has 256 values, Co and Cg at least 2 each
        return (long) width * height * (255 + 1 + 1);
    }

    @Override
    public CodingPlan encodingPlan(LoadedModel model, String schedule, RgbImage image, boolean measureUnadapted) {
        return InterpPlan.encoding(checkSchedule(schedule), image, model.adaptation(), measureUnadapted);
    }

    @Override
    public CodingPlan decodingPlan(LoadedModel model, String schedule, int width, int height) {
        return InterpPlan.decoding(checkSchedule(schedule), width, height, model.adaptation());
    }
}
