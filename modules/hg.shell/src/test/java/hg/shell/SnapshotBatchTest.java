package hg.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * vm_pause, vm_resume, vm_snapshot, vm_restore and vm_clone in batch mode on this machine's /dev/kvm, with a
 * tiny guest that counts while its LAPIC timer ticks (Linux guests do not boot on every host's KVM).
 */
class SnapshotBatchTest {
    @TempDir
    Path tmp;
    Path kernels;
    Path images;
    Path clones;

    @BeforeEach
    void guest() throws Exception {
        EchoGuest.assumeKvm();
        kernels = Files.createDirectories(tmp.resolve("kernels"));
        images = Files.createDirectories(tmp.resolve("images"));
        clones = tmp.resolve("clones");
        Files.move(EchoGuest.build(tmp, "count"), kernels.resolve("count.elf"));
        hg.host.testkit.Mke2fs.make(images.resolve("root.ext4"), "ext4", "ROOT", "8M");
    }

    private List<String> run(String... lines) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--guest-kernel", kernels.toString(), "--guest-image", images.toString(),
                        "--snapshot-dir", clones.toString()}, Map.of(),
                new ByteArrayInputStream((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8)),
                new PrintStream(bytes, true, StandardCharsets.UTF_8), false, tmp.resolve("no-cmdline"), List::of);
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, "the refusals make the exit code 1: " + out);
        assertFalse(out.contains("Exception"), out);
        return out.lines().toList();
    }

    private static List<String> after(List<String> out, String line) {
        return after(out, line, 0);
    }

    /** The output of the {@code n}th (from 0) command echoed as {@code line}, up to the next prompt. */
    private static List<String> after(List<String> out, String line, int n) {
        int at = -1;
        for (int i = 0; i <= n; i++) {
            at = out.subList(at + 1, out.size()).indexOf("hyper-gen:# " + line) + at + 1;
            assertTrue(at >= 0 && out.get(at).equals("hyper-gen:# " + line), "'" + line + "' was not run " + (n + 1)
                    + " times: " + out);
        }
        int end = at + 1;
        while (end < out.size() && !out.get(end).startsWith("hyper-gen:# ")) {
            end++;
        }
        return out.subList(at + 1, end);
    }

    @Test
    void pauseResumeSnapshotRestoreAndClone() throws Exception {
        Path snap = tmp.resolve("snap");
        List<String> out = run("vm_create 0 0 --mem 64M", "vm_pause 1", "vm_list", "vm_pause 1", "vm_resume 1",
                "vm_list", "vm_snapshot 1 " + snap + " --stop", "vm_list", "vm_restore " + snap,
                "vm_restore " + snap, "vm_clone 2 --count 2", "vm_list", "vm_pause 99", "vm_clone 1 --count 0",
                "vm_restore /nonexistent", "vm_destroy 3", "vm_destroy 4");
        assertEquals(List.of("1"), after(out, "vm_create 0 0 --mem 64M"));
        assertEquals(List.of("vm 1 paused"), after(out, "vm_pause 1"));
        List<String> paused = after(out, "vm_list");
        assertTrue(paused.get(1).matches("1\\s+count.elf\\s+root.ext4\\s+1\\s+64 MiB\\s+paused\\s+.*"), out.toString());
        assertEquals(List.of("error: vm 1 is paused already: vm_resume 1 lets it go on"), after(out, "vm_pause 1", 1));
        assertEquals(List.of("vm 1 resumed"), after(out, "vm_resume 1"));
        assertTrue(after(out, "vm_list", 1).get(1).matches("1\\s+count.elf\\s+root.ext4\\s+1\\s+64 MiB\\s+running\\s+.*"),
                out.toString());

        String taken = after(out, "vm_snapshot 1 " + snap + " --stop").getFirst();
        assertTrue(taken.matches("vm 1: snapshot in " + java.util.regex.Pattern.quote(snap.toString())
                + " \\(64 MiB memory, [0-9.]+ [KM]iB written, 8 MiB disks, paused \\d+ ms\\); vm 1 destroyed"), taken);
        for (String f : List.of("state", "memory", "vda.img")) {
            assertTrue(Files.isRegularFile(snap.resolve(f)), "the snapshot holds " + f);
        }
        assertEquals(List.of("no VMs: vm_create <kernel id> <image id> makes one"), after(out, "vm_list", 2),
                "--stop destroyed the VM");

        assertEquals(List.of("2"), after(out, "vm_restore " + snap));
        // The restored VM runs on the snapshot's disk copy: a second restore of it is refused.
        List<String> again = after(out, "vm_restore " + snap, 1);
        assertEquals(1, again.size(), "one line: " + again);
        assertEquals("error: snapshot " + snap + " is in use: vm 2 runs on its disk copy vda.img; vm_destroy 2 first, or "
                + "vm_clone 2 for more VMs like it", again.getFirst());

        assertEquals(List.of("3 4"), after(out, "vm_clone 2 --count 2"));
        List<String> all = after(out, "vm_list", 3);
        assertEquals(4, all.size(), "a header and vms 2, 3 and 4: " + all);
        for (int i = 1; i < 4; i++) {
            assertTrue(all.get(i).matches((i + 1) + "\\s+count.elf\\s+.*\\s+1\\s+64 MiB\\s+running\\s+.*"), all.get(i));
        }

        assertEquals(List.of("error: no vm with id 99 (vm_list shows ids 2, 3, 4)"), after(out, "vm_pause 99"));
        assertEquals(List.of("error: --count 0 is out of range: vm_clone makes 1 to 64 clones at once, e.g. --count 2"),
                after(out, "vm_clone 1 --count 0"));
        assertEquals(List.of("error: no snapshot in /nonexistent: it does not exist (vm_snapshot <vm id> <dir> writes one)"),
                after(out, "vm_restore /nonexistent"));
        assertEquals(List.of("vm 3 destroyed"), after(out, "vm_destroy 3"));
        assertEquals("destroying vm 2", out.getLast());

        // The clones' frozen image lived in --snapshot-dir and went with the last clone.
        assertTrue(Files.isDirectory(clones), "the clone directory was made");
        try (Stream<Path> left = Files.list(clones)) {
            assertEquals(List.of(), left.toList(), "the frozen image is removed with the last clone");
        }
    }
}
