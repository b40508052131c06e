package hg.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real launcher on a tmux terminal making real VMs on /dev/kvm: vm_create, vm_list, vm_console with
 * keystrokes to the guest and back, CTRL+d, the guest stopping, vm_destroy, the image lock released.
 * The guest is a tiny echo program (Linux guests do not boot on every host's KVM; the boot image tests do that).
 */
class VmEndToEndTest {
    static final String PROMPT = "hyper-gen:# ";

    @TempDir
    Path tmp;
    Path kernels;
    Path images;

    @BeforeEach
    void guest() throws Exception {
        EchoGuest.assumeKvm();
        kernels = Files.createDirectories(tmp.resolve("kernels"));
        images = Files.createDirectories(tmp.resolve("images"));
        Files.move(EchoGuest.build(tmp), kernels.resolve("echo.elf"));
        hg.host.testkit.Mke2fs.make(images.resolve("root.ext4"), "ext4", "ROOT", "8M");
    }

    /** Types a command line and waits for the next prompt after its output. */
    private static String command(Tmux t, String line) throws Exception {
        int before = count(t.screen(), PROMPT + line + "\n");
        t.text(line);
        t.keys("Enter");
        return t.await("'" + line + "' done", s -> {
            int at = echoAt(s, line);
            return count(s, PROMPT + line + "\n") > before
                    && s.indexOf(PROMPT, at + PROMPT.length() + line.length()) >= 0;
        });
    }

    private static int count(String screen, String text) {
        int n = 0;
        for (int at = screen.indexOf(text); at >= 0; at = screen.indexOf(text, at + 1)) {
            n++;
        }
        return n;
    }

    /** Where the last prompt line that is exactly {@code line} starts, or -1. */
    private static int echoAt(String screen, String line) {
        String echo = PROMPT + line + "\n";
        return screen.lastIndexOf(echo);
    }

    /** The text after the last echo of {@code line}. */
    private static String after(String screen, String line) {
        int at = echoAt(screen, line);
        return at < 0 ? "" : screen.substring(at + PROMPT.length() + line.length());
    }

    @Test
    void createConsoleDetachDestroy() throws Exception {
        try (Tmux t = Tmux.start(160, 50, Launch.command("--guest-kernel", kernels.toString(), "--guest-image",
                images.toString()))) {
            t.awaitText(PROMPT);
            assertTrue(after(command(t, "kernel_list"), "kernel_list").matches("(?s).*0\\s+echo.elf\\s+[0-9.]+ KiB\\s+vmlinux.*"));

            String created = after(command(t, "vm_create 0 0 --mem 64M"), "vm_create 0 0 --mem 64M");
            assertTrue(created.startsWith("\n1\n"), created);
            String list = after(command(t, "vm_list"), "vm_list");
            assertTrue(list.matches("(?s).*1\\s+echo.elf\\s+root.ext4\\s+1\\s+64 MiB\\s+running\\s+0:00:\\d\\d.*"), list);

            // The image is held read-write: a second writer is refused with one line, and nothing is left over.
            String busy = after(command(t, "vm_create 0 0"), "vm_create 0 0");
            assertTrue(busy.contains("error: image 0 (root.ext4) is in use read-write by vm 1"), busy);
            assertEquals(1, after(command(t, "vm_list"), "vm_list").lines().filter(l -> l.contains("echo.elf")).count());

            // The console: the replay, then keystrokes to the guest and its answer, then CTRL+d.
            t.text("vm_console 1");
            t.keys("Enter");
            t.awaitText("echo guest ready");
            t.text("hello");
            t.awaitText("HELLO");
            t.keys("C-d");
            t.awaitText("[detached from vm 1; it keeps running]");
            t.await("the prompt back", s -> s.stripTrailing().endsWith(PROMPT.strip()));
            assertTrue(after(command(t, "vm_list"), "vm_list").contains("running"));

            // Attaching again replays what the guest wrote; 'q' makes the guest exit, which ends the console.
            t.text("vm_console 1");
            t.keys("Enter");
            t.await("the replay", s -> after(s, "vm_console 1").contains("HELLO"));
            t.text("q");
            t.awaitText("[vm 1 stopped: the guest exited with code 7]");
            t.await("the prompt back", s -> s.stripTrailing().endsWith(PROMPT.strip()));
            String stopped = after(command(t, "vm_list"), "vm_list");
            assertTrue(stopped.contains("stopped: the guest exited with code 7"), stopped);

            assertTrue(after(command(t, "vm_destroy 1"), "vm_destroy 1").contains("vm 1 destroyed"));
            assertTrue(after(command(t, "vm_list"), "vm_list").contains("no VMs"));
            // Destroy released the image: it can be used read-write again.
            String again = after(command(t, "vm_create 0 0 --mem 64M --cpus 2"), "vm_create 0 0 --mem 64M --cpus 2");
            assertTrue(again.startsWith("\n2\n"), again);
            String two = after(command(t, "vm_list"), "vm_list");
            assertTrue(two.matches("(?s).*2\\s+echo.elf\\s+root.ext4\\s+2\\s+64 MiB\\s+running.*"), two);
            String wrong = after(command(t, "vm_console 9"), "vm_console 9");
            assertTrue(wrong.contains("error: no vm with id 9 (vm_list shows id 2)"), wrong);
            assertFalse(t.screen().contains("Exception"), t.screen());

            // exit destroys the VMs that are left and ends the process cleanly.
            t.text("exit");
            t.keys("Enter");
            assertEquals(0, t.awaitExit());
        }
    }

    @Test
    void batchModeRefusalsLeaveNothingBehind() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        String script = String.join("\n", "vm_create 0 0 --mem 100000G", "vm_create 0 0 --mem 64M",
                "vm_create 0 0 --mem 64M", "vm_create 0 0 --mem 64M --ro", "vm_list", "vm_console 1", "vm_destroy 1",
                "vm_create 0 0 --mem 64M", "vm_destroy 2", "vm_create 0 0 --mem 64M", "vm_list", "");
        int code = Main.run(new String[] {"--guest-kernel", kernels.toString(), "--guest-image", images.toString()},
                java.util.Map.of(), new java.io.ByteArrayInputStream(script.getBytes()),
                new java.io.PrintStream(bytes, true), false, tmp.resolve("no-cmdline"), Main::kvmLines);
        String out = bytes.toString();
        assertEquals(1, code, out);
        java.util.List<String> l = out.lines().filter(x -> !x.startsWith("kvm:")).toList();
        assertEquals("hyper-gen:# vm_create 0 0 --mem 100000G", l.get(0));
        assertTrue(l.get(1).startsWith("error: out of memory: 97.7 TiB asked, "), l.get(1));
        // The refused create gave its id back.
        assertEquals(List.of("hyper-gen:# vm_create 0 0 --mem 64M", "1"), l.subList(2, 4), out);
        assertEquals("hyper-gen:# vm_create 0 0 --mem 64M", l.get(4));
        assertEquals("error: image 0 (root.ext4) is in use read-write by vm 1: vm_destroy 1 first, "
                + "or add --ro to attach it read-only", l.get(5));
        // A reader may join the writer.
        assertEquals(List.of("hyper-gen:# vm_create 0 0 --mem 64M --ro", "2", "hyper-gen:# vm_list"), l.subList(6, 9), out);
        assertTrue(l.get(10).matches("1\\s+echo.elf\\s+root.ext4\\s+1\\s+64 MiB\\s+running.*"), out);
        assertTrue(l.get(11).matches("2\\s+echo.elf\\s+root.ext4 \\(ro\\)\\s+1\\s+64 MiB\\s+running.*"), out);
        assertEquals("hyper-gen:# vm_console 1", l.get(12));
        // The guest may still be writing its first line: the replay is whatever it wrote so far.
        int detached = l.indexOf("[vm 1 detached]");
        assertTrue(detached == 14 || detached == 15 && "echo guest ready".startsWith(l.get(14)), out);
        assertEquals(List.of("hyper-gen:# vm_destroy 1", "vm 1 destroyed"), l.subList(detached + 1, detached + 3), out);
        // A writer never joins a reader: the image is still attached to vm 2. Ids are not reused once a VM ran.
        assertEquals("hyper-gen:# vm_create 0 0 --mem 64M", l.get(detached + 3));
        assertEquals("error: image 0 (root.ext4) is in use read-only by vm 2: vm_destroy 2 first", l.get(detached + 4), out);
        assertEquals(List.of("hyper-gen:# vm_destroy 2", "vm 2 destroyed", "hyper-gen:# vm_create 0 0 --mem 64M", "3"),
                l.subList(detached + 5, detached + 9), out);
        assertTrue(l.get(l.size() - 2).matches("3\\s+echo.elf\\s+root.ext4\\s+1\\s+64 MiB\\s+running.*"), out);
        assertEquals("destroying vm 3", l.getLast(), "leaving says which VMs it destroys: " + out);
    }
}
