package hg.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the default image's guests get from their VMM besides disks and network, in one nest. The guest agent,
 * reached over the VM's vsock from the nest's shell: vm_exec prints a command's output and its exit status (0, 1,
 * 127), vm_cp moves 64 MiB each way intact, 50 host programs exec at once, a guest program reaches a host listener
 * at the socket's path with its port, and a guest whose agent is gone is told in one line. Shared folders over
 * virtio-9p: only subdirectories of guest_share= may be shared; a guest mounts its shares at /mnt/TAG by itself
 * and runs a POSIX workload on one; a second guest sees what the first wrote; a read-only share refuses writes;
 * the nest's directory holds exactly what the guests wrote.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestServicesTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final Duration COPY = Duration.ofMinutes(3);
    private static final Pattern SHA256 = Pattern.compile("\\b([0-9a-f]{64})\\b");
    /** guest_share= of the nest: its subdirectories may be shared. */
    private static final String SHARES = "/tmp/shares";

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("guest-services", Duration.ofMinutes(20),
            (image, o) -> o.withInitrd(VsockPeerInitrd.write(image, tempFile())).withAppend("guest_share=" + SHARES)
                    .withDebugShell());

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
    @Order(2)   // last: it takes the agent out of the image's guests
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

    private static final Duration WORKLOAD = Duration.ofMinutes(4);
    
    /** Run in the guest on the share; set -x names the step that failed. Only ASCII, no single quotes. */
    private static final List<String> WORKLOAD_SCRIPT = List.of(
            "set -ex",
            // each traced step says the guest's uptime when it began, so a slow one names itself
            "PS4=\"+ \\$(cut -d. -f1 /proc/uptime)s \"",
            "cd \"$1\"",
            "echo one > f; echo two >> f; test \"$(cat f)\" = \"$(printf \"one\\ntwo\")\"",
            "echo 12345 > t; dd if=/dev/null of=t bs=1 seek=3 2>/dev/null; test \"$(stat -c %s t)\" = 3",
            "dd if=/dev/zero of=sparse bs=1 count=1 seek=1048576 2>/dev/null; test \"$(stat -c %s sparse)\" = 1048577",
            "echo a > r1; echo b > r2; mv r1 r2; test \"$(cat r2)\" = a; test ! -e r1",
            "ln f hl; test \"$(stat -c %h f)\" = 2",
            "ln -s f sl; test \"$(readlink sl)\" = f; test \"$(cat sl)\" = \"$(cat f)\"",
            "chmod 640 f; test \"$(stat -c %a f)\" = 640",
            "chmod 4755 t; test \"$(stat -c %a t)\" = 755",
            "echo held > u; exec 3<u; rm u; test ! -e u; test \"$(cat <&3)\" = held; exec 3<&-",
            "mkdir -p d/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20",
            "test -d d/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20",
            // a glob reads the directory and nothing else; ls would stat each entry, 15,000 round trips that take
            // minutes through the nest's emulated exits
            "set -- many/*; test $# = 5000",
            "u8=$(printf \"\\303\\274n\\303\\257c\\303\\270d\\303\\251\"); touch \"a b\" \"$u8\"; test -e \"a b\"; test -e \"$u8\"",
            // 1 MiB writes, as programs that move data write (head writes 4 KiB at a time, a synchronous round trip each)
            "dd if=/dev/urandom of=big bs=1M count=32 2>/dev/null; test \"$(stat -c %s big)\" = 33554432; sha256sum big",
            "echo workload-ok");

    /** Whatever a failed test left running is destroyed, so the next one starts from no VMs (an error line is fine). */
    @AfterEach
    void destroyWhatIsLeft() {
        for (int id : NEST.shell().made()) {
            NEST.shell().command("vm_destroy " + id, COMMAND);
        }
    }

    @Test
    @Order(1)
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void guestsShareAFolderAndNothingElse() {
        HgShell shell = NEST.shell();
        host("mkdir -p " + SHARES + "/rw/many " + SHARES + "/ro /tmp/outside && echo hello > " + SHARES + "/ro/readme");
        // 5,000 entries for the guest to read the directory of (made here: 5,000 creates through 9p under TCG
        // take minutes, and creating is tested on its own).
        host("cd " + SHARES + "/rw/many && seq 1 5000 | xargs touch");
        // A line at a time: the nest's serial line drops input past a few hundred bytes in one go.
        host(": > " + SHARES + "/ro/workload.sh");
        for (String line : WORKLOAD_SCRIPT) {
            host("printf '%s\\n' '" + line + "' >> " + SHARES + "/ro/workload.sh");
        }

        String refused = shell.refused("vm_create 0 0 --no-net --share /tmp/outside", COMMAND);
        assertEquals("error: --share /tmp/outside: only directories under " + SHARES + " may be shared here (guest_share= on"
                + " the kernel command line names it)", refused);

        RigRetry.once(shell, "a guest with two shares", () -> {
            int vm = GuestBoot.create(shell, "0 0 --no-net --mem 256M --share " + SHARES + "/rw --share " + SHARES
                    + "/ro,tag=docs,ro", GUEST_BOOT);
            shell.detach(vm, COMMAND);
        });
        int a = shell.made().getLast();
        String list = shell.ok("vm_list", COMMAND);
        assertTrue(list.contains("9p rw=" + SHARES + "/rw") && list.contains("9p docs=" + SHARES + "/ro (ro)"), list);
        String mounts = exec(a, "grep 9p /proc/mounts");
        assertTrue(mounts.contains("rw /mnt/rw 9p") && mounts.contains("docs /mnt/docs 9p"), mounts);

        long t0 = System.nanoTime();
        String work = shell.ok("vm_exec " + a + " -- sh /mnt/docs/workload.sh /mnt/rw", WORKLOAD);
        System.out.printf("e2e: 9p POSIX workload (a readdir of 5,000, 32 MiB written) in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(work.contains("workload-ok") && !work.contains("exit status"), work);
        String guestSum = sha(work, "the guest's 32 MiB file");

        String ro = shell.command("vm_exec " + a + " -- sh -c 'echo x > /mnt/docs/new'", COMMAND);
        assertTrue(ro.contains("Read-only file system") && ro.contains("exit status"), "a read-only share:\n" + ro);

        // A second guest sees what the first wrote.
        RigRetry.once(shell, "a second guest on the same share", () -> {
            int vm = GuestBoot.create(shell, "0 0 --no-net --ro --mem 128M --share " + SHARES + "/rw", GUEST_BOOT);
            shell.detach(vm, COMMAND);
        });
        int b = shell.made().getLast();
        assertEquals(guestSum, sha(exec(b, "sha256sum /mnt/rw/big"), "the second guest's view"));
        assertEquals("a", exec(b, "cat /mnt/rw/r2"));
        assertEquals("5000", exec(b, "set -- /mnt/rw/many/*; echo $#"));

        // The host side holds exactly what the guests wrote, and nothing set-uid.
        assertEquals(guestSum, sha(host("sha256sum " + SHARES + "/rw/big"), "the nest's copy"));
        assertEquals("one\ntwo", host("cat " + SHARES + "/rw/f").strip());
        assertEquals("755 3", host("stat -c '%a %s' " + SHARES + "/rw/t").strip());
        assertEquals("1048577", host("stat -c %s " + SHARES + "/rw/sparse").strip());
        assertEquals("5000", host("ls " + SHARES + "/rw/many | wc -l").strip());
        assertEquals("readme\nworkload.sh", host("ls -1 " + SHARES + "/ro").strip());
        assertEquals("", host("ls -1 /tmp/outside").strip());
        assertEquals("", host("find " + SHARES + " -perm -4000 -o -perm -2000").strip(), "no set-uid or set-gid file");
        shell.ok("vm_destroy " + b, COMMAND);
        shell.ok("vm_destroy " + a, COMMAND);
    }

    private static String host(String command) {
        ConsoleStream.ShellResult r = NEST.host().run(command, COMMAND);
        assertEquals(0, r.status(), command + ":\n" + r.output());
        return r.output();
    }

    /** What {@code command} printed in VM {@code vm} through its agent; it must exit with 0. */
    private static String exec(int vm, String command) {
        String out = NEST.shell().ok("vm_exec " + vm + " -- sh -c '" + command + "'", COMMAND);
        assertFalse(out.contains("exit status"), "vm " + vm + ": " + command + ":\n" + out);
        return out.strip();
    }

    private static String sha(String output, String what) {
        Matcher m = SHA256.matcher(output);
        assertTrue(m.find(), "a sha256 of " + what + " in:\n" + output);
        return m.group(1);
    }
}
