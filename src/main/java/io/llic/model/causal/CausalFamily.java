package io.llic.model.causal;

import io.llic.image.RgbImage;
import io.llic.model.Adaptation;
import io.llic.model.CodingPlan;
import io.llic.model.FixedPointNet;
import io.llic.model.LoadedModel;
import io.llic.model.ModelException;
import io.llic.model.ModelFamily;
import io.llic.prob.MixtureCdf;
import io.llic.schedule.Schedule;
import io.llic.schedule.Schedules;
import java.util.ArrayList;
import java.util.List;

/**
 * Family {@code causal}: one network over the 12 causal taps (ALGORITHMS.md A), coded along a pixel
 * schedule (wavefront, diagonal, sequential) into one stream, with an optional adaptation stage.
 */
public final class CausalFamily implements ModelFamily {
    public static final String NAME = CausalModel.FAMILY;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int networks() {
        return 1;
    }

    @Override
    public void check(List<FixedPointNet> nets, Adaptation adaptation, String where) throws ModelException {
        ModelFamily.checkMixtureNetwork(nets.get(0), CausalModel.INPUTS, CausalModel.OUTPUTS, NAME, "network", where);
    }

    @Override
    public List<String> schedules() {
        List<String> names = new ArrayList<>();
        names.add(Schedules.DEFAULT);
        for (String n : Schedules.names()) {
            if (!n.equals(Schedules.DEFAULT)) {
                names.add(n);
            }
        }
        return names;
    }

    @Override
    public int streams(String schedule) {
        return 1;
    }

    @Override
    public long leastPayloadBitsQ16(int width, int height) {
        return 3L * width * height * (MixtureCdf.SYMBOLS - 1);
    }

    @Override
    public CodingPlan encodingPlan(LoadedModel model, String schedule, RgbImage image, boolean measureUnadapted) {
        RgbImage work = new RgbImage(image.width(), image.height(), image.samples().clone());
        return new CausalPlan(schedule(schedule), work, model.adaptation(), measureUnadapted);
    }

    @Override
    public CodingPlan decodingPlan(LoadedModel model, String schedule, int width, int height) {
        return new CausalPlan(schedule(schedule), new RgbImage(width, height), model.adaptation(), false);
    }

    private Schedule schedule(String name) {
        return Schedules.byName(checkSchedule(name));
    }
}
