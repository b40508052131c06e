package hg.bench;

import java.nio.file.Path;
import java.util.Set;

/** Command-line options shared by every figure; {@code only} names the figures to measure (empty: all). */
public record Options(Path out, boolean quick, Set<String> only) {
    public Options {
        only = Set.copyOf(only);
    }

    public Options(Path out, boolean quick) {
        this(out, quick, Set.of());
    }

    /** Whether this run measures {@code figure}. */
    public boolean wants(String figure) {
        return only.isEmpty() || only.contains(figure);
    }

    /** Timed runs per side: fewer when quick. */
    public int runs() {
        return quick ? 5 : 9;
    }

    /** Target wall time of one timed run, in seconds. */
    public double secondsPerRun() {
        return quick ? 0.25 : 1.0;
    }
}
