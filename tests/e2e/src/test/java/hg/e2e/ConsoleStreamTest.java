package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A command typed into a console: its end marker, or the abort pattern when that shows first. */
class ConsoleStreamTest {
    private static final Pattern STOPPED = Pattern.compile("\\[vm \\d+ stopped: [^\\]\n]*\\]");
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private ConsoleStream console(String printed) {
        return new ConsoleStream("test", new ByteArrayInputStream(printed.getBytes(StandardCharsets.ISO_8859_1)),
                new ByteArrayOutputStream(), tmp.resolve("console.log"));
    }

    @Test
    void aCommandEndsAtItsMarkerWithItsOutputAndStatus() {
        try (ConsoleStream c = console("__B1__\r\nhello\r\n__E1__3\r\n[vm 1 stopped: later]\n")) {
            ConsoleStream.ShellResult r = c.run("true", WAIT, STOPPED);
            assertEquals("hello\n", r.output());
            assertEquals(3, r.status());
        }
    }

    @Test
    void aStopInTheMiddleOfACommandGivesUpAtOnce() {
        try (ConsoleStream c = console("__B1__\nuploading\n[vm 3 stopped: the guest shut down]\nhyper-gen:# ")) {
            ConsoleStream.Aborted e = assertThrows(ConsoleStream.Aborted.class, () -> c.run("nc", WAIT, STOPPED));
            assertEquals("[vm 3 stopped: the guest shut down]", e.seen);
        }
    }

    @Test
    void aStopBeforeTheCommandStartedGivesUpToo() {
        try (ConsoleStream c = console("[vm 2 stopped: reset]\nhyper-gen:# ")) {
            ConsoleStream.Aborted e = assertThrows(ConsoleStream.Aborted.class, () -> c.run("ls", WAIT, STOPPED));
            assertEquals("[vm 2 stopped: reset]", e.seen);
        }
    }
}
