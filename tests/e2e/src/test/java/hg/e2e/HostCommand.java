package hg.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A program run on this machine for a test's setup: its output, or a failure naming it. Always bounded. */
final class HostCommand {
    private HostCommand() {}

    static String run(Duration timeout, String... command) {
        return run(timeout, List.of(command));
    }

    static String run(Duration timeout, List<String> command) {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        try {
            // Output is read on its own thread so a program that never ends is still stopped in time.
            var out = new StringBuilder();
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException ignored) {
                    // The process was killed.
                }
            });
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError(command + " did not end in " + timeout);
            }
            reader.join(5_000);
            if (p.exitValue() != 0) {
                throw new AssertionError(command + " failed (rc " + p.exitValue() + "): " + out);
            }
            return out.toString();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }
}
