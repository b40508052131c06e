package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One hyper-gen daemon holds the nest's VMs: a VM made in the serial console's shell is listed and its
 * console replayed by a second shell (started on the nest's root shell, a client of the same daemon),
 * seen and destroyed through the API socket; the daemon killed with SIGKILL comes back, and the shell
 * says the VMs it held were lost.
 */
class DaemonTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final String SOCKET = "/run/hyper-gen/api.sock";
    /** A second shell, in batch mode: a client of the daemon like the one on the console. */
    private static final String SECOND_SHELL = "hyper-gen --api-sock " + SOCKET;

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("daemon", Duration.ofMinutes(12), (image, o) -> o.withDebugShell());

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aVmMadeOnOneShellIsEveryShellsAndTheApisAndGoesWithTheDaemon() {
        HgShell shell = NEST.shell();
        ConsoleStream host = NEST.host();
        String socket = host.run("ls -l " + SOCKET, COMMAND).output();
        assertTrue(socket.matches("(?s).*srw-------\\s.*"), "the API socket is not a 0600 socket:\n" + socket);

        int vm = GuestBoot.create(shell, "0 0 --no-net --mem 128M", GUEST_BOOT);
        shell.guest("echo hg-e2e-daemon-$((6 * 7))", COMMAND);
        shell.detach(vm, COMMAND);

        String listed = host.run("printf 'vm_list\\nvm_console " + vm + "\\n' | " + SECOND_SHELL, COMMAND).output();
        assertTrue(Pattern.compile("(?m)^\\s*" + vm + "\\s.*running").matcher(listed).find(),
                "the second shell does not list vm " + vm + " as running:\n" + listed);
        assertTrue(listed.contains("hg-e2e-daemon-42"), "the second shell's vm_console did not replay the guest's output:\n"
                + listed);

        String api = host.run("hyper-gen remote --api-sock " + SOCKET + " GET /vms/" + vm, COMMAND).output();
        assertTrue(api.contains("\"id\":" + vm) || api.contains("\"id\": " + vm), "GET /vms/" + vm + ":\n" + api);
        String deleted = host.run("hyper-gen remote --api-sock " + SOCKET + " DELETE /vms/" + vm + "; echo rc=$?",
                COMMAND).output();
        assertTrue(deleted.contains("204") && deleted.contains("rc=0"), "DELETE /vms/" + vm + ":\n" + deleted);
        String after = shell.ok("vm_list", COMMAND);
        assertTrue(!Pattern.compile("(?m)^\\s*" + vm + "\\s").matcher(after).find(),
                "the console's shell still lists vm " + vm + " after the API destroyed it:\n" + after);
        String gone = host.run("hyper-gen remote --api-sock " + SOCKET + " GET /vms/" + vm + "; echo rc=$?", COMMAND)
                .output();
        assertTrue(gone.contains("404") && gone.contains("\"error\"") && gone.contains("rc=1"),
                "a VM that is gone:\n" + gone);

        // The daemon dies with a VM in it: init starts a new one, and the shell says what was lost.
        int lost = shell.vmCreate("0 0 --no-net --mem 64M", COMMAND);
        // The JVM itself, not the launcher script that started it (which is no exec).
        String pid = host.run("for p in /proc/[0-9]*; do { tr '\\0' ' ' < $p/cmdline; } 2>/dev/null | grep -q "
                + "'hg.shell.Main --daemon' && echo ${p#/proc/}; done | head -1", COMMAND).output().strip();
        assertTrue(pid.matches("\\d+"), "no daemon process found: '" + pid + "'");
        assertEquals(0, host.run("kill -9 " + pid, COMMAND).status(), "kill -9 the daemon");
        shell.console().waitFor("the daemon exited \\(rc 137\\)", COMMAND);
        shell.console().waitFor("hyper-gen daemon: the API is served at " + SOCKET, ShellNest.BOOT);
        String told = shell.command("vm_list", COMMAND);
        assertTrue(told.contains("the hyper-gen daemon started again: vm " + lost + " was lost"),
                "the shell did not say vm " + lost + " was lost:\n" + told);
        int again = shell.vmCreate("0 0 --no-net --mem 64M", COMMAND);
        assertTrue(shell.ok("vm_list", COMMAND).contains("running"), "a VM made on the new daemon runs");
        shell.ok("vm_destroy " + again, COMMAND);
    }
}
