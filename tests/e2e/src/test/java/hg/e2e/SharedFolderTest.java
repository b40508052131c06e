package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Shared folders over virtio-9p in the nest: the boot image allows subdirectories of guest_share= only; a guest
 * mounts its shares at /mnt/TAG by itself and runs a POSIX workload on one; a second guest sees what the first
 * wrote; a read-only share refuses writes; the nest's directory holds exactly what the guests wrote.
 */
class SharedFolderTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final Duration WORKLOAD = Duration.ofMinutes(4);
    private static final String ROOT = "/tmp/shares";
    private static final Pattern SHA256 = Pattern.compile("\\b([0-9a-f]{64})\\b");

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("shares", Duration.ofMinutes(12),
            (image, o) -> o.withAppend("guest_share=" + ROOT).withDebugShell());

    /** Run in the guest on the share; set -x names the step that failed. Only ASCII, no single quotes. */
    private static final List<String> WORKLOAD_SCRIPT = List.of(
            "set -ex",
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
            "mkdir many; (cd many && seq 1 5000 | xargs touch); test \"$(ls many | wc -l)\" = 5000",
            "u8=$(printf \"\\303\\274n\\303\\257c\\303\\270d\\303\\251\"); touch \"a b\" \"$u8\"; test -e \"a b\"; test -e \"$u8\"",
            "head -c 33554432 /dev/urandom > big; sha256sum big",
            "echo workload-ok");

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void guestsShareAFolderAndNothingElse() {
        HgShell shell = NEST.shell();
        host("mkdir -p " + ROOT + "/rw " + ROOT + "/ro /tmp/outside && echo hello > " + ROOT + "/ro/readme");
        host("printf '%s\\n' " + WORKLOAD_SCRIPT.stream().map(l -> "'" + l + "'").collect(Collectors.joining(" "))
                + " > " + ROOT + "/ro/workload.sh");

        String refused = shell.refused("vm_create 0 0 --no-net --share /tmp/outside", COMMAND);
        assertEquals("error: --share /tmp/outside: only directories under " + ROOT + " may be shared here (guest_share= on"
                + " the kernel command line names it)", refused);

        RigRetry.once(shell, "a guest with two shares", () -> {
            int vm = GuestBoot.create(shell, "0 0 --no-net --mem 256M --share " + ROOT + "/rw --share " + ROOT
                    + "/ro,tag=docs,ro", GUEST_BOOT);
            shell.detach(vm, COMMAND);
        });
        int a = shell.made().getLast();
        String list = shell.ok("vm_list", COMMAND);
        assertTrue(list.contains("9p rw=" + ROOT + "/rw") && list.contains("9p docs=" + ROOT + "/ro (ro)"), list);
        String mounts = exec(a, "grep 9p /proc/mounts");
        assertTrue(mounts.contains("rw /mnt/rw 9p") && mounts.contains("docs /mnt/docs 9p"), mounts);

        long t0 = System.nanoTime();
        String work = shell.ok("vm_exec " + a + " -- sh /mnt/docs/workload.sh /mnt/rw", WORKLOAD);
        System.out.printf("e2e: 9p POSIX workload (5,000 files, 32 MiB) in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(work.contains("workload-ok") && !work.contains("exit status"), work);
        String guestSum = sha(work, "the guest's 32 MiB file");

        String ro = shell.command("vm_exec " + a + " -- sh -c 'echo x > /mnt/docs/new'", COMMAND);
        assertTrue(ro.contains("Read-only file system") && ro.contains("exit status"), "a read-only share:\n" + ro);

        // A second guest sees what the first wrote.
        RigRetry.once(shell, "a second guest on the same share", () -> {
            int vm = GuestBoot.create(shell, "0 0 --no-net --ro --mem 128M --share " + ROOT + "/rw", GUEST_BOOT);
            shell.detach(vm, COMMAND);
        });
        int b = shell.made().getLast();
        assertEquals(guestSum, sha(exec(b, "sha256sum /mnt/rw/big"), "the second guest's view"));
        assertEquals("a", exec(b, "cat /mnt/rw/r2"));
        assertEquals("5000", exec(b, "ls /mnt/rw/many | wc -l"));

        // The host side holds exactly what the guests wrote, and nothing set-uid.
        assertEquals(guestSum, sha(host("sha256sum " + ROOT + "/rw/big"), "the nest's copy"));
        assertEquals("one\ntwo", host("cat " + ROOT + "/rw/f").strip());
        assertEquals("755 3", host("stat -c '%a %s' " + ROOT + "/rw/t").strip());
        assertEquals("1048577", host("stat -c %s " + ROOT + "/rw/sparse").strip());
        assertEquals("5000", host("ls " + ROOT + "/rw/many | wc -l").strip());
        assertEquals("readme\nworkload.sh", host("ls " + ROOT + "/ro").strip());
        assertEquals("", host("ls /tmp/outside").strip());
        assertEquals("", host("find " + ROOT + " -perm -4000 -o -perm -2000").strip(), "no set-uid or set-gid file");
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
