package hg.bench;

import java.nio.file.Path;

/** Command-line options shared by every figure. */
public record Options(Path out, boolean quick) {
    /** Timed runs per side: fewer when quick. */
    public int runs() {
        return quick ? 5 : 9;
    }

    /** Target wall time of one timed run, in seconds. */
    public double secondsPerRun() {
        return quick ? 0.25 : 1.0;
    }
}
