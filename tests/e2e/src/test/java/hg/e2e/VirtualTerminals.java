package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

/** The nest's virtual terminals as a user at its screen meets them: ALT+F3, then what tty3 shows. */
final class VirtualTerminals {
    private static final Duration COMMAND = Duration.ofSeconds(30);

    private VirtualTerminals() {}

    /**
     * Presses ALT+F3 on the rig's keyboard (QEMU's monitor), checks that tty3 became the active terminal
     * and waits until its screen memory ({@code /dev/vcs3}, read through the debug shell) shows the
     * hyper-gen prompt; returns that screen.
     */
    static String altF3ShowsTheShell(NestedRig rig, ConsoleStream debugShell, Duration timeout) {
        assertEquals("tty1", active(debugShell), "the active virtual terminal before ALT+F3");
        rig.monitor("sendkey alt-f3");
        String active = "";
        for (int i = 0; i < 50 && !active.equals("tty3"); i++) {
            active = active(debugShell);
        }
        assertEquals("tty3", active, "the active virtual terminal after ALT+F3");
        String expected = "hyper-gen:#";
        long deadline = System.nanoTime() + timeout.toNanos();
        String screen = "";
        while (!screen.contains(expected) && System.nanoTime() < deadline) {
            screen = debugShell.run("cat /dev/vcs3; echo", COMMAND).output();
            if (!screen.contains(expected)) {
                debugShell.run("sleep 2", COMMAND);
            }
        }
        assertTrue(screen.contains(expected), "tty3 does not show '" + expected + "'; its screen:\n" + screen);
        System.out.printf("e2e: tty3 showed '%s' at %.2f s wall%n", expected, rig.elapsedSeconds());
        return screen;
    }

    private static String active(ConsoleStream debugShell) {
        return debugShell.run("cat /sys/class/tty/tty0/active", COMMAND).output().strip();
    }
}
