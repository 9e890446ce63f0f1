package io.llic.model;

import io.llic.model.causal.CausalFamily;
import io.llic.model.interp.InterpFamily;
import java.util.List;

/** The model families by manifest name. */
public final class Families {
    private static final List<ModelFamily> ALL = List.of(new CausalFamily(), new InterpFamily(),
            new io.llic.model.l3c.L3CFamily());

    private Families() {}

    public static List<String> names() {
        return ALL.stream().map(ModelFamily::name).toList();
    }

    /** "causal: wavefront, diagonal, sequential; ...": each family's schedules, its default first. */
    public static String describeSchedules() {
        return String.join("; ", ALL.stream().map(f -> f.name() + ": " + String.join(", ", f.schedules())).toList());
    }

    /** The default tile sides for help texts, e.g. "2048, l3c 1024": the common one, then each family's own. */
    public static String describeTiles() {
        StringBuilder s = new StringBuilder(String.valueOf(ModelFamily.DEFAULT_TILE));
        for (ModelFamily f : ALL) {
            if (f.defaultTile() != ModelFamily.DEFAULT_TILE) {
                s.append(", ").append(f.name()).append(' ').append(f.defaultTile());
            }
        }
        return s.toString();
    }

    /**
     * {@code schedule} if some family codes along it (checked again against the model's family once it
     * is loaded); IllegalArgumentException naming every family's schedules otherwise.
     */
    public static String checkKnownSchedule(String schedule) {
        if (schedule != null && ALL.stream().noneMatch(f -> f.schedules().contains(schedule))) {
            throw new IllegalArgumentException("unknown schedule '" + schedule + "' (" + describeSchedules() + ")");
        }
        return schedule;
    }

    /** The family called {@code name}, or null. */
    public static ModelFamily find(String name) {
        for (ModelFamily f : ALL) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        return null;
    }
}
