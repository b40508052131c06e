package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hg.host.Machines;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class BatchConsoleTest {
    @Test
    void theReplayIsFilteredLikeTheInteractiveConsole() throws Exception {
        FakeMachines machines = new FakeMachines();
        machines.create(new Machines.Spec(Path.of("/k/vmlinux"), Path.of("/i/root.ext4"), 1 << 29, 1, "", false));
        machines.consoleHistory = "boot\u001b]2;owned\u001b\\\u001b[>c\u001b[32m ok\u001b[0m\n";
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        StringWriter text = new StringWriter();
        new BatchConsole(raw).run(1, machines, new PrintWriter(text, true));
        assertEquals("boot\u001b[32m ok\u001b[0m\n", raw.toString(StandardCharsets.UTF_8));
        assertEquals("[vm 1 console, recent output; batch mode passes no keystrokes]\n[vm 1 detached]\n",
                text.toString().replace(System.lineSeparator(), "\n"));
    }
}
