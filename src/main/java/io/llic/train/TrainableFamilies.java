package io.llic.train;

import io.llic.train.interp.InterpTraining;
import java.util.List;

/** The families train-job can train, by manifest name. */
public final class TrainableFamilies {
    /** The family a run trains when none is named. */
    public static final String DEFAULT = "causal";
    private static final List<TrainableFamily> ALL = List.of(new CausalTraining(), new InterpTraining(),
            new io.llic.train.l3c.L3CTraining());

    private TrainableFamilies() {}

    public static List<String> names() {
        return ALL.stream().map(TrainableFamily::name).toList();
    }

    /** The family called {@code name}; IllegalArgumentException naming the known ones otherwise. */
    public static TrainableFamily byName(String name) {
        for (TrainableFamily f : ALL) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("--family " + name + " is not supported (known: " + String.join(", ", names()) + ")");
    }
}
