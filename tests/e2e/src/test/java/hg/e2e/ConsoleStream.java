package hg.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One console of the nest (a serial port), expect-style: everything it prints is kept (and logged to
 * a file), {@link #waitFor} blocks until a pattern shows up after the last match, {@link #send}
 * types a line. Patterns match the text with terminal control sequences removed.
 */
final class ConsoleStream implements AutoCloseable {
    private final String name;
    private final OutputStream in;
    private final Thread reader;
    private final StringBuilder text = new StringBuilder();
    private final OutputStream log;
    private int consumed;
    private boolean ended;
    private final AtomicInteger marks = new AtomicInteger();
    private final AnsiStripper ansi = new AnsiStripper();

    ConsoleStream(String name, InputStream out, OutputStream in, Path logFile) {
        this.name = name;
        this.in = in;
        try {
            Files.createDirectories(logFile.getParent());
            this.log = Files.newOutputStream(logFile, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the console log " + logFile, e);
        }
        this.reader = Thread.ofPlatform().daemon().name("console-" + name).start(() -> pump(out));
    }

    private void pump(InputStream out) {
        byte[] buf = new byte[8192];
        try (out) {
            int n;
            while ((n = out.read(buf)) > 0) {
                log.write(buf, 0, n);
                log.flush();
                // Patterns see the text without terminal control sequences and with LF line ends
                // (serial output carries CR LF); the log file keeps the raw bytes.
                String s = ansi.strip(new String(buf, 0, n, StandardCharsets.ISO_8859_1)).replace("\r", "");
                synchronized (this) {
                    text.append(s);
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // The process ended or the socket closed: same as end of stream.
        } finally {
            synchronized (this) {
                ended = true;
                notifyAll();
            }
        }
    }

    /**
     * Waits until {@code pattern} matches the output printed since the last match and returns that
     * match; fails (with the console's tail) when the time is up or the console ended first.
     */
    synchronized Matcher waitFor(Pattern pattern, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher m = pattern.matcher(text);
            if (m.find(consumed)) {
                consumed = m.end();
                return m;
            }
            long left = deadline - System.nanoTime();
            if (ended || left <= 0) {
                throw new AssertionError((ended ? "console " + name + " ended" : "timed out after " + timeout)
                        + " waiting for /" + pattern + "/ on " + name + "; last output:\n" + tail(2000));
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for /" + pattern + "/ on " + name);
            }
        }
    }

    Matcher waitFor(String regex, Duration timeout) {
        return waitFor(Pattern.compile(regex), timeout);
    }

    /** Types {@code line} and a newline. */
    void send(String line) {
        sendRaw(line + "\n");
    }

    void sendRaw(String chars) {
        try {
            in.write(chars.getBytes(StandardCharsets.ISO_8859_1));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot type on console " + name, e);
        }
    }

    /**
     * For a console with a POSIX shell on it: runs {@code command} and returns what it printed and
     * its exit status.
     */
    ShellResult run(String command, Duration timeout) {
        return run(command, timeout, null);
    }

    /**
     * {@link #run(String, Duration)}, but gives up at once with {@link Aborted} when {@code abort}
     * (if not null) shows up before the command's end marker: the shell it was typed into is gone.
     */
    ShellResult run(String command, Duration timeout, Pattern abort) {
        int n = marks.incrementAndGet();
        String begin = "__B" + n + "__";
        // The markers are printed by echo with the digits split by quotes, so the terminal's echo of
        // the typed line never matches them.
        send("echo " + begin.substring(0, 3) + "''" + begin.substring(3) + "; " + command
                + "; echo __E" + n + "''__$?");
        String or = abort == null ? "" : "|(?<abort>" + abort.pattern() + ")";
        Matcher start = waitFor(Pattern.compile("(?m)(?<begin>^" + Pattern.quote(begin) + "\n)" + or), timeout);
        if (start.group("begin") == null) {
            throw new Aborted(start.group("abort"));
        }
        Matcher end = waitFor(Pattern.compile("(?s)(?<out>.*?)__E" + n + "__(?<rc>\\d+)\n" + or), timeout);
        if (end.group("rc") == null) {
            throw new Aborted(end.group("abort"));
        }
        return new ShellResult(end.group("out"), Integer.parseInt(end.group("rc")));
    }

    /** What {@link #run(String, Duration, Pattern)} throws when its abort pattern showed first. */
    static final class Aborted extends AssertionError {
        private static final long serialVersionUID = 1L;

        final String seen;

        Aborted(String seen) {
            super("gave up: the console showed " + seen);
            this.seen = seen;
        }
    }

    record ShellResult(String output, int status) {}

    synchronized String text() {
        return text.toString();
    }

    synchronized String tail(int chars) {
        return text.substring(Math.max(0, text.length() - chars));
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            // Already gone with the process.
        }
        try {
            reader.join(2000);
            log.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // Nothing more to log.
        }
    }
}
