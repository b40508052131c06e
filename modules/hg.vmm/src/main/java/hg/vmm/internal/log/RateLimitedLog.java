package hg.vmm.internal.log;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Warnings a guest can cause, a few lines per kind and time window: a driver in a reset loop
 * must not flood the operator's console, nor hide the first lines that say what went wrong.
 * Lines over the budget are counted; the first line of that kind in a later window is preceded
 * by one saying how many were suppressed. One per VM, so one guest cannot use up another's
 * budget. Kinds come from the VMM's code (a device's name), never from the guest, so their
 * number stays small.
 */
public final class RateLimitedLog {
    public static final int LINES_PER_WINDOW = 5;
    public static final Duration WINDOW = Duration.ofMinutes(1);

    /** Where the lines that pass go. */
    @FunctionalInterface
    public interface Sink {
        void line(System.Logger.Level level, String text);
    }

    /** One kind's current window. */
    private static final class Window {
        long start;
        int lines;
        long suppressed;
        System.Logger.Level level;

        Window(long start) {
            this.start = start;
        }
    }

    private final Sink sink;
    private final int linesPerWindow;
    private final long windowNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Window> windows = new HashMap<>();
    private long suppressed;

    /** @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime}; tests pass their own) */
    public RateLimitedLog(Sink sink, int linesPerWindow, Duration window, LongSupplier nanoClock) {
        if (linesPerWindow < 1 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("a window of " + window + " for " + linesPerWindow + " lines");
        }
        this.sink = sink;
        this.linesPerWindow = linesPerWindow;
        this.windowNanos = window.toNanos();
        this.nanoClock = nanoClock;
    }

    /** {@link #LINES_PER_WINDOW} lines per kind and {@link #WINDOW} to {@code logger}. */
    public static RateLimitedLog to(System.Logger logger) {
        return new RateLimitedLog(logger::log, LINES_PER_WINDOW, WINDOW, System::nanoTime);
    }

    public synchronized void log(String kind, System.Logger.Level level, String text) {
        long now = nanoClock.getAsLong();
        Window w = windows.computeIfAbsent(kind, k -> new Window(now));
        if (now - w.start >= windowNanos) {
            if (w.suppressed > 0) {
                sink.line(level, kind + ": " + w.suppressed + " more suppressed");
            }
            w.start = now;
            w.lines = 0;
            w.suppressed = 0;
        }
        if (w.lines < linesPerWindow) {
            w.lines++;
            sink.line(level, text);
        } else {
            w.suppressed++;
            w.level = level;
            suppressed++;
        }
    }

    /** Says what each kind still has suppressed, e.g. when the VM ends: no later line of that kind will. */
    public synchronized void flush() {
        windows.forEach((kind, w) -> {
            if (w.suppressed > 0) {
                sink.line(w.level, kind + ": " + w.suppressed + " more suppressed");
                w.suppressed = 0;
            }
        });
    }

    /** Lines suppressed so far, of every kind. */
    public synchronized long suppressed() {
        return suppressed;
    }
}
