package io.llic.schedule;

import java.util.List;

/** The schedules by name. */
public final class Schedules {
    public static final String DEFAULT = WavefrontSchedule.NAME;
    private static final List<Schedule> ALL = List.of(new SequentialSchedule(), new WavefrontSchedule(),
            new DiagonalSchedule());

    private Schedules() {}

    public static List<String> names() {
        return ALL.stream().map(Schedule::name).toList();
    }

    /** The schedule called {@code name}; IllegalArgumentException naming the known ones otherwise. */
    public static Schedule byName(String name) {
        for (Schedule s : ALL) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown schedule '" + name + "' (known: " + String.join(", ", names()) + ")");
    }
}
