package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.host.HostException;
import hg.host.Machines;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jline.terminal.Attributes;
import org.jline.terminal.impl.LineDisciplineTerminal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * vm_console's terminal side on a JLine line-discipline terminal (cooked, with signals, like a fresh tty):
 * keystrokes must reach the VM one by one, CTRL+c included, and CTRL+d must detach.
 */
class TerminalConsoleTest {
    private final ByteArrayOutputStream screen = new ByteArrayOutputStream();
    private final FakeMachines machines = new FakeMachines();
    private LineDisciplineTerminal terminal;
    private final StringWriter text = new StringWriter();

    @BeforeEach
    void setUp() throws Exception {
        terminal = new LineDisciplineTerminal("test", "xterm", screen, StandardCharsets.UTF_8);
        machines.create(new Machines.Spec(Path.of("/k/vmlinux"), Path.of("/i/root.ext4"), 1 << 29, 1, "", false));
    }

    @AfterEach
    void tearDown() throws Exception {
        terminal.close();
    }

    private CompletableFuture<Void> attach() {
        return CompletableFuture.runAsync(() -> {
            try {
                new TerminalConsole(terminal).run(1, machines, new PrintWriter(text, true));
            } catch (HostException e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("never happened: " + what);
            }
            Thread.sleep(10);
        }
    }

    private String screenText() {
        synchronized (screen) {
            return screen.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void keystrokesPassRawAndCtrlDDetaches() throws Exception {
        Attributes before = new Attributes(terminal.getAttributes());
        CompletableFuture<Void> session = attach();
        await("the replay", () -> screenText().contains("login: "));
        terminal.processInputBytes("ls".getBytes(StandardCharsets.UTF_8));
        await("keystrokes without a newline (no line editing)", () -> String.join("", machines.inputs).equals("ls"));
        terminal.processInputBytes("\u0003é\r".getBytes(StandardCharsets.UTF_8));
        await("five keystrokes", () -> String.join("", machines.inputs).equals("ls\u0003é\r"));
        assertEquals(5, machines.inputs.size(), "each keystroke is sent as it is typed: " + machines.inputs);
        terminal.processInputBytes(new byte[] {0x04});
        session.get(10, TimeUnit.SECONDS);
        assertTrue(text.toString().startsWith("[vm 1 console; CTRL+d detaches, the VM keeps running]"), text.toString());
        assertTrue(text.toString().endsWith("[detached from vm 1; it keeps running]\n"), text.toString());
        assertEquals("ls\u0003é\r", String.join("", machines.inputs), "CTRL+d itself is not sent");
        assertEquals(before.getLocalFlags(), terminal.getAttributes().getLocalFlags(), "the terminal is restored");
        assertEquals(before.getInputFlags(), terminal.getAttributes().getInputFlags());
        assertTrue(machines.list().getFirst().state() instanceof Machines.State.Running, "the VM keeps running");
    }

    @Test
    void theVmStoppingEndsTheSession() throws Exception {
        CompletableFuture<Void> session = attach();
        await("the replay", () -> screenText().contains("login: "));
        machines.stop(1, "guest reset");
        session.get(10, TimeUnit.SECONDS);
        assertTrue(text.toString().endsWith("[vm 1 stopped: guest reset]\n"), text.toString());
    }

    @Test
    void theGuestCannotRetitleQueryOrWriteTheClipboardOfTheOperatorsTerminal() throws Exception {
        machines.consoleHistory = "login: \u001b]0;owned\u0007\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[6n\u001bP$qm\u001b\\"
                + "\u001b[1mbold\u001b[0m$ ";
        CompletableFuture<Void> session = attach();
        await("the replay", () -> screenText().contains("$ "));
        terminal.processInputBytes(new byte[] {0x04});
        session.get(10, TimeUnit.SECONDS);
        String screen = screenText();
        assertTrue(screen.contains("login: \u001b[1mbold\u001b[0m$ "), screen);
        assertTrue(!screen.contains("\u001b]") && !screen.contains("\u001bP") && !screen.contains("[6n"), screen);
    }
}
