package hg.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The guest agent of the default image, reached over the VM's vsock from the nest's shell: vm_exec
 * prints a command's output and its exit status (0, 1, 127), vm_cp moves 64 MiB each way intact, and a
 * guest whose agent is gone is told in one line.
 */
class GuestAgentTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final Duration COPY = Duration.ofMinutes(3);
    private static final Pattern SHA256 = Pattern.compile("\\b([0-9a-f]{64})\\b");

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("guest-agent", Duration.ofMinutes(12), (image, o) -> o.withDebugShell());

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void execAndCopyThroughTheAgentAndOneLineWithoutIt() {
        HgShell shell = NEST.shell();
        RigRetry.once(shell, "a guest with its agent", () -> {
            int vm = GuestBoot.create(shell, "0 0 --no-net --mem 256M", GUEST_BOOT);
            shell.detach(vm, COMMAND);
        });
        int vm = shell.made().getLast();

        long t0 = System.nanoTime();
        String uname = shell.ok("vm_exec " + vm + " -- uname -r", COMMAND);
        System.out.printf("e2e: vm_exec uname -r: %.2f s wall (nest serial)%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(uname.contains("6.1"), "the guest kernel's release:\n" + uname);
        String both = shell.ok("vm_exec " + vm + " -- sh -c 'echo to-out; echo to-err >&2'", COMMAND);
        assertTrue(both.contains("to-out") && both.contains("to-err"), "stdout and stderr:\n" + both);
        assertFalse(both.contains("exit status"), "status 0 says nothing:\n" + both);
        assertTrue(shell.command("vm_exec " + vm + " -- false", COMMAND).contains("exit status 1"));
        String missing = shell.command("vm_exec " + vm + " -- no-such-command", COMMAND);
        assertTrue(missing.contains("exit status 127"), "a missing command:\n" + missing);
        String env = shell.ok("vm_exec " + vm + " -- sh -c 'echo $PATH; pwd'", COMMAND);
        assertTrue(env.contains("/bin") && env.contains("/"), env);

        // 64 MiB in and out, checked with sha256 on both sides.
        String made = NEST.host().run("dd if=/dev/urandom of=/tmp/e2e-in.bin bs=1M count=64 2>/dev/null; sha256sum /tmp/e2e-in.bin",
                COPY).output();
        String hostIn = sha(made, "the nest's file");
        t0 = System.nanoTime();
        String in = shell.ok("vm_cp /tmp/e2e-in.bin " + vm + ":/tmp/e2e-in.bin", COPY);
        double inSeconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(in.contains("copied 67108864 bytes"), in);
        assertEquals(hostIn, sha(shell.ok("vm_exec " + vm + " -- sha256sum /tmp/e2e-in.bin", COPY), "the guest's copy"));

        shell.ok("vm_exec " + vm + " -- dd if=/dev/urandom of=/tmp/e2e-out.bin bs=1M count=64", COPY);
        String guestOut = sha(shell.ok("vm_exec " + vm + " -- sha256sum /tmp/e2e-out.bin", COPY), "the guest's file");
        t0 = System.nanoTime();
        String out = shell.ok("vm_cp " + vm + ":/tmp/e2e-out.bin /tmp/e2e-out.bin", COPY);
        double outSeconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(out.contains("copied 67108864 bytes"), out);
        assertEquals(guestOut, sha(NEST.host().run("sha256sum /tmp/e2e-out.bin", COPY).output(), "the nest's copy"));
        System.out.printf("e2e: vm_cp 64 MiB in %.1f s (%.1f MB/s), out %.1f s (%.1f MB/s), wall in the nest%n",
                inSeconds, 64 / inSeconds * 1.048576, outSeconds, 64 / outSeconds * 1.048576);
        NEST.host().run("rm -f /tmp/e2e-in.bin /tmp/e2e-out.bin", COMMAND);

        // The agent goes (moved away, so init cannot start it again): one line, not a hang.
        shell.ok("vm_exec " + vm + " -- sh -c '(sleep 1; mv /sbin/hg-agent /sbin/hg-agent.off; killall hg-agent)"
                + " </dev/null >/dev/null 2>&1 &'", COMMAND);
        NEST.host().run("sleep 4", COMMAND);
        t0 = System.nanoTime();
        String refused = shell.refused("vm_exec " + vm + " -- true", COMMAND);
        System.out.printf("e2e: vm_exec without an agent answered in %.2f s%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(refused.contains("no agent") && refused.contains("vsock port 1024"), refused);
        shell.ok("vm_destroy " + vm, COMMAND);
    }

    private static String sha(String output, String what) {
        Matcher m = SHA256.matcher(output);
        assertTrue(m.find(), "a sha256 of " + what + " in:\n" + output);
        return m.group(1);
    }
}
