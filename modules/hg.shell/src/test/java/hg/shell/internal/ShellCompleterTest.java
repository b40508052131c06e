package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hg.host.HostException;
import hg.host.Machines;
import java.util.ArrayList;
import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.impl.DefaultParser;
import org.junit.jupiter.api.Test;

class ShellCompleterTest {
    private final FakeMachines machines = new FakeMachines();
    private final Commands commands = new Commands(FakeCatalog.standard(), machines, null);

    private List<String> complete(String line) {
        List<Candidate> candidates = new ArrayList<>();
        new ShellCompleter(commands).complete(null, new DefaultParser().parse(line, line.length(), org.jline.reader.Parser.ParseContext.COMPLETE), candidates);
        return candidates.stream().map(Candidate::value).toList();
    }

    @Test
    void commandNamesFirst() {
        assertEquals(List.of("kernel_list", "image_list", "vm_create", "vm_list", "vm_console", "vm_destroy", "vm_pause",
                "vm_resume", "vm_snapshot", "vm_restore", "vm_clone", "vm_exec", "vm_cp", "help", "exit", "quit"), complete(""));
        assertEquals(complete(""), complete("vm_"), "JLine filters by the typed prefix itself");
    }

    @Test
    void idsOfKernelsImagesAndVms() {
        // File names: they read better than ids and complete from a prefix; the description shows the id.
        assertEquals(List.of("bzImage-6.1", "vmlinux-6.1"), complete("vm_create "));
        assertEquals(List.of("alpine.ext4", "root.ext4"), complete("vm_create 1 "));
        assertEquals(List.of("alpine.ext4", "root.ext4"), complete("vm_create 1 0 --disk "), "--disk takes an image");
        assertEquals(List.of("--mem", "--cpus", "--cmdline", "--ro", "--disk", "--net", "--no-net", "--no-vhost", "--vsock", "--share", "--hugepages"), complete("vm_create 1 0 "));
        assertEquals(List.of(), complete("vm_create 1 0 --mem "));
        assertEquals(List.of("--mem", "--cpus", "--cmdline", "--ro", "--disk", "--net", "--no-net", "--no-vhost", "--vsock", "--share", "--hugepages"), complete("vm_create 1 0 --mem 1G "));
        assertEquals(List.of("bzImage-6.1", "vmlinux-6.1"), complete("vm_create --ro "));
        assertEquals(List.of(), complete("vm_console "));
        machines.nextId = 3;
        try {
            commands.machines().create(new Machines.Spec(java.nio.file.Path.of("/k/v"), java.nio.file.Path.of("/i/r"),
                    1 << 29, 1, "", false));
        } catch (HostException e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of("3"), complete("vm_console "));
        assertEquals(List.of("3"), complete("vm_destroy "));
        assertEquals(List.of(), complete("vm_destroy 3 "));
        assertEquals(List.of(), complete("kernel_list "));
        assertEquals(complete(""), complete("help "));
        assertEquals(List.of(), complete("nosuch "));
    }

    @Test
    void snapshotCommandsCompleteIdsDirectoriesAndTheirOptions(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        machines.create(new Machines.Spec(java.nio.file.Path.of("/k/v"), java.nio.file.Path.of("/i/r"), 1 << 29, 1, "",
                false));
        java.nio.file.Files.createDirectories(tmp.resolve("snap-a"));
        java.nio.file.Files.createDirectories(tmp.resolve("snap-b/inner"));
        java.nio.file.Files.writeString(tmp.resolve("snap-file"), "not a directory");
        for (String c : List.of("vm_pause ", "vm_resume ", "vm_snapshot ", "vm_clone ")) {
            assertEquals(List.of("1"), complete(c), c);
        }
        assertEquals(List.of(), complete("vm_pause 1 "));
        assertEquals(List.of(tmp + "/snap-a/", tmp + "/snap-b/"), complete("vm_snapshot 1 " + tmp + "/snap"),
                "directories only, open so TAB goes on into them");
        assertEquals(List.of(tmp + "/snap-b/inner/"), complete("vm_snapshot 1 " + tmp + "/snap-b/"));
        assertEquals(List.of("--stop"), complete("vm_snapshot 1 " + tmp + "/snap-a "));
        assertEquals(List.of(tmp + "/snap-a/", tmp + "/snap-b/"), complete("vm_restore " + tmp + "/"));
        assertEquals(List.of("--paused"), complete("vm_restore " + tmp + "/snap-a "));
        assertEquals(List.of("--count"), complete("vm_clone 1 "));
        assertEquals(List.of(), complete("vm_clone 1 --count "), "the count is the user's");
        assertEquals(List.of(), complete("vm_restore /nonexistent/"));
    }
}
