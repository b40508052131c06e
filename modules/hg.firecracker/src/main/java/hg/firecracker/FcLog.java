package hg.firecracker;

import java.io.PrintStream;
import java.time.Instant;

/**
 * The process's log in Firecracker's shape ({@code <time> [<id>:<thread>:<LEVEL>] message}): to stderr until
 * PUT /logger (or the config file's logger) names a file or pipe, then there.
 */
final class FcLog {
    private final String instanceId;
    private final PrintStream fallback;
    private volatile LineSink sink;
    private volatile LogLevel level = LogLevel.INFO;
    private volatile boolean showLevel = true;
    private volatile boolean showOrigin;

    FcLog(String instanceId, PrintStream fallback) {
        this.instanceId = instanceId;
        this.fallback = fallback;
    }

    /** From now on to {@code to} (or stderr when null), at {@code level}. */
    void configure(LineSink to, LogLevel newLevel, boolean withLevel, boolean withOrigin) {
        LineSink old = sink;
        sink = to;
        level = newLevel;
        showLevel = withLevel;
        showOrigin = withOrigin;
        if (old != null && old != to) {
            old.close();
        }
    }

    void error(String message) {
        log(LogLevel.ERROR, message);
    }

    void warn(String message) {
        log(LogLevel.WARNING, message);
    }

    void info(String message) {
        log(LogLevel.INFO, message);
    }

    void log(LogLevel at, String message) {
        if (!level.includes(at)) {
            return;
        }
        StringBuilder b = new StringBuilder(Instant.now().toString()).append(" [").append(instanceId).append(':')
                .append(Thread.currentThread().getName());
        if (showLevel) {
            b.append(':').append(at == LogLevel.WARNING ? "WARN" : at.name());
        }
        if (showOrigin) {
            b.append(":hg.firecracker");
        }
        b.append("] ").append(message.replace('\n', ' '));
        LineSink s = sink;
        if (s == null) {
            fallback.println(b);
        } else {
            s.write(b.toString());
        }
    }

    void close() {
        LineSink s = sink;
        if (s != null) {
            s.close();
        }
    }
}
