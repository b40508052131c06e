package hg.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The guest agent of the default image, reached over the VM's vsock from the nest's shell: vm_exec
 * prints a command's output and its exit status (0, 1, 127), vm_cp moves 64 MiB each way intact, 50
 * host programs exec at once, a guest program reaches a host listener at the socket's path with its
 * port, and a guest whose agent is gone is told in one line.
 */
class GuestAgentTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final Duration COPY = Duration.ofMinutes(3);
    private static final Pattern SHA256 = Pattern.compile("\\b([0-9a-f]{64})\\b");

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("guest-agent", Duration.ofMinutes(12),
            (image, o) -> o.withInitrd(VsockPeerInitrd.write(image, tempFile())).withDebugShell());

    private static Path tempFile() {
        try {
            Path p = Files.createTempFile("hg-e2e-initramfs-vsock-peer-", ".img");
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

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
        String made = NEST.host().run("head -c 67108864 /dev/urandom > /tmp/e2e-in.bin; sha256sum /tmp/e2e-in.bin",
                COPY).output();
        String hostIn = sha(made, "the nest's file");
        t0 = System.nanoTime();
        String in = shell.ok("vm_cp /tmp/e2e-in.bin " + vm + ":/tmp/e2e-in.bin", COPY);
        double inSeconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(in.contains("copied 67108864 bytes"), in);
        assertEquals(hostIn, sha(shell.ok("vm_exec " + vm + " -- sha256sum /tmp/e2e-in.bin", COPY), "the guest's copy"));

        // The guest's /tmp is a tmpfs of half its memory: room for one 64 MiB file at a time.
        String made2 = shell.ok("vm_exec " + vm + " -- sh -c 'rm /tmp/e2e-in.bin && head -c 67108864 /dev/urandom > /tmp/e2e-out.bin'",
                COPY);
        assertFalse(made2.contains("exit status"), made2);
        String guestOut = sha(shell.ok("vm_exec " + vm + " -- sha256sum /tmp/e2e-out.bin", COPY), "the guest's file");
        t0 = System.nanoTime();
        String out = shell.ok("vm_cp " + vm + ":/tmp/e2e-out.bin /tmp/e2e-out.bin", COPY);
        double outSeconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(out.contains("copied 67108864 bytes"), out);
        assertEquals(guestOut, sha(NEST.host().run("sha256sum /tmp/e2e-out.bin", COPY).output(), "the nest's copy"));
        System.out.printf("e2e: vm_cp 64 MiB in %.1f s (%.1f MB/s), out %.1f s (%.1f MB/s), wall in the nest%n",
                inSeconds, 64 / inSeconds * 1.048576, outSeconds, 64 / outSeconds * 1.048576);
        NEST.host().run("rm -f /tmp/e2e-in.bin /tmp/e2e-out.bin", COMMAND);

        // 50 host programs at once, each with a command of its own.
        String socket = "/run/hyper-gen/vm" + vm + ".vsock";
        t0 = System.nanoTime();
        String many = NEST.host().run(VsockPeerInitrd.PEER + " exec " + socket + " 50", COPY).output();
        System.out.printf("e2e: 50 execs at once answered in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(many.contains("answered 50 of 50"), many);

        // A guest program reaches a host program listening at <socket>_<port>.
        NEST.host().run("rm -f /tmp/e2e-peer.out; (" + VsockPeerInitrd.PEER + " listen " + socket + "_5000 >/tmp/e2e-peer.out 2>&1 &)",
                COMMAND);
        NEST.host().run("for i in $(seq 50); do grep -q listening /tmp/e2e-peer.out && break; sleep 0.2; done", COMMAND);
        String reply = shell.ok("vm_exec " + vm + " -- sh -c 'echo hello-from-the-guest | hg-agent connect 5000'", COMMAND);
        assertTrue(reply.contains("pong"), "the host program's answer in the guest:\n" + reply);
        String heard = NEST.host().run("cat /tmp/e2e-peer.out", COMMAND).output();
        assertTrue(heard.contains("hello-from-the-guest") && heard.contains("the guest closed"), heard);

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
