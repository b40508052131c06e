package hg.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batch mode: Main run in-process over a script, and once as a real subprocess with a pipe as stdin. */
class MainBatchTest {
    @TempDir
    Path tmp;
    Path kernels;
    Path images;

    @BeforeEach
    void dirs() throws Exception {
        kernels = Files.createDirectories(tmp.resolve("kernels"));
        images = Files.createDirectories(tmp.resolve("images"));
        byte[] elf = hg.host.testkit.KernelFixtures.vmlinux();
        Files.write(kernels.resolve("vmlinux"), elf);
        Files.writeString(kernels.resolve("README"), "guest kernels go here\n".repeat(40));
        hg.host.testkit.Mke2fs.make(images.resolve("root.ext4"), "ext4", "ROOT", "8M");
    }

    List<String> kvmLines = List.of();

    record Run(int code, List<String> lines) {}

    private Run run(String script, Map<String, String> env, Path cmdline, String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int code = Main.run(args, env, new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)), out, false,
                cmdline, () -> kvmLines);
        return new Run(code, bytes.toString(StandardCharsets.UTF_8).lines().toList());
    }

    private Run run(String script, String... args) {
        return run(script, Map.of(), tmp.resolve("no-cmdline"), args);
    }

    @Test
    void eachCommandIsEchoedWithItsResultAndAllGoodExitsZero() {
        Run r = run("kernel_list\nimage_list\n\nhelp vm_list\n", "--guest-kernel", kernels.toString(),
                "--guest-image", images.toString());
        assertEquals(0, r.code(), r.lines().toString());
        List<String> l = r.lines();
        assertEquals("hyper-gen:# kernel_list", l.get(0));
        assertTrue(l.get(1).startsWith("id"), l.toString());
        assertTrue(l.get(2).matches("-\\s+README\\s+.*not a kernel.*"), l.get(2));
        assertTrue(l.get(3).matches("0\\s+vmlinux\\s+4.0 KiB\\s+vmlinux"), l.get(3));
        assertEquals("hyper-gen:# image_list", l.get(4));
        assertTrue(l.get(6).matches("0\\s+root.ext4\\s+8 MiB\\s+ext4 label ROOT"), l.get(6));
        assertEquals("hyper-gen:# ", l.get(7));
        assertEquals("hyper-gen:# help vm_list", l.get(8));
        assertEquals("usage: vm_list", l.get(9));
    }

    @Test
    void anyFailureMakesTheExitCodeNonZeroAndTheRestStillRuns() {
        Run r = run("vm_create 0\nkernel_list\n", "--guest-kernel", kernels.toString(), "--guest-image", images.toString());
        assertEquals(1, r.code());
        assertEquals("hyper-gen:# vm_create 0", r.lines().get(0));
        assertEquals("error: vm_create needs an image id after the kernel id: vm_create 0 <image id> "
                + "(image_list shows the ids)", r.lines().get(1));
        assertEquals("hyper-gen:# kernel_list", r.lines().get(2));
    }

    @Test
    void exitStopsReadingUnlessOnTheConsole() {
        Run r = run("exit\nkernel_list\n", "--guest-kernel", kernels.toString(), "--guest-image", images.toString());
        assertEquals(0, r.code());
        assertEquals(List.of("hyper-gen:# exit"), r.lines());
        Run console = run("exit\nquit\nkernel_list\n", "--guest-kernel", kernels.toString(), "--guest-image",
                images.toString(), "--console");
        assertEquals(1, console.code());
        assertEquals("error: " + Main.EXIT_REFUSAL, console.lines().get(1));
        assertEquals("error: " + Main.EXIT_REFUSAL, console.lines().get(3));
        assertEquals("hyper-gen:# kernel_list", console.lines().get(4));
        Run env = run("exit\n", Map.of(Main.CONSOLE_ENV, "1"), tmp.resolve("no-cmdline"), "--guest-kernel",
                kernels.toString(), "--guest-image", images.toString());
        assertEquals("error: " + Main.EXIT_REFUSAL, env.lines().get(1));
    }

    @Test
    void theShortFlagNamesWorkToo() {
        Run r = run("image_list\n", "--kernels", kernels.toString(), "--images", images.toString());
        assertEquals(0, r.code(), r.lines().toString());
        assertTrue(r.lines().get(2).contains("ext4 label ROOT"), r.lines().toString());
    }

    @Test
    void theDirectoriesComeFromTheKernelCommandLine() throws Exception {
        Path cmdline = Files.writeString(tmp.resolve("cmdline"),
                "console=ttyS0 guest_kernel=" + kernels + " guest_image=" + images + "\n");
        Run r = run("image_list\n", Map.of(), cmdline);
        assertEquals(0, r.code());
        assertTrue(r.lines().get(2).contains("ext4 label ROOT"), r.lines().toString());
    }

    @Test
    void aMissingDirectoryIsReportedOnceAndTheShellStillRuns() {
        Run r = run("kernel_list\nimage_list\n", "--guest-kernel", tmp.resolve("gone").toString());
        assertEquals(0, r.code(), r.lines().toString());
        List<String> l = r.lines();
        assertEquals("warning: the guest kernel directory " + tmp.resolve("gone") + " does not exist", l.get(0));
        assertTrue(l.get(1).startsWith("warning: no guest image directory: start with --guest-image DIR or boot with "
                + "guest_image=DIR"), l.get(1));
        assertEquals("hyper-gen:# kernel_list", l.get(2));
        assertEquals("no kernels: the guest kernel directory " + tmp.resolve("gone") + " does not exist", l.get(3));
        assertEquals(1, l.stream().filter(s -> s.startsWith("warning")).filter(s -> s.contains("guest kernel directory")).count());
    }

    @Test
    void theKvmCheckComesFirst() {
        kvmLines = List.of("kvm: /dev/kvm API version 12, CPU vendor AMD", "kvm: this is a PVM host (kvm_pvm, "
                + "pagetable-based nested KVM): tiny guests run here, but stock Linux guests will not boot on it");
        Run r = run("vm_list\n", "--guest-kernel", kernels.toString(), "--guest-image", images.toString());
        assertEquals(kvmLines, r.lines().subList(0, 2));
        assertEquals("hyper-gen:# vm_list", r.lines().get(2));
    }

    @Test
    void overcommitIsAFlag() {
        assertTrue(Main.parse(new String[] {"--overcommit"}, Map.of()).overcommit());
        assertFalse(Main.parse(new String[] {"--net"}, Map.of()).overcommit());
        assertTrue(Main.parse(new String[] {"--hugepages"}, Map.of()).hugepages());
        assertFalse(Main.parse(new String[] {"--net"}, Map.of()).hugepages());
        assertTrue(Main.USAGE.contains("[--overcommit]"), Main.USAGE);
    }

    @Test
    void anUplinkIsAnInterfaceForGuestsWithCards() {
        assertEquals("eth0", Main.parse(new String[] {"--net", "--uplink", "eth0"}, Map.of()).uplink());
        assertEquals(null, Main.parse(new String[] {"--net"}, Map.of()).uplink());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Main.parse(new String[] {"--uplink", "eth0"}, Map.of()));
        assertEquals("--uplink gives guests' network cards a way out: it needs --net", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--net", "--uplink"}, Map.of()));
        assertEquals("--uplink needs a network interface, e.g. --uplink eth0", e.getMessage());
    }

    @Test
    void theSnapshotDirectoryHoldsClonesUnlessTheyAreGivenTheirOwn() throws Exception {
        Main.Options o = Main.parse(new String[] {"--snapshot-dir", "/srv/snap"}, Map.of());
        hg.shell.internal.GuestDirs dirs = hg.shell.internal.GuestDirs.resolve(null, null, o.snapshotDir(),
                tmp.resolve("no-cmdline"));
        assertEquals(Path.of("/srv/snap"), Main.cloneDir(dirs, o));
        assertEquals(List.of(Path.of("/srv/snap")), Main.snapshotDirs(dirs, o));
        Main.Options both = Main.parse(new String[] {"--snapshot-dir", "/tmp", "--clone-dir", "/run/hyper-gen/clones"},
                Map.of());
        dirs = hg.shell.internal.GuestDirs.resolve(null, null, both.snapshotDir(), tmp.resolve("no-cmdline"));
        assertEquals(Path.of("/run/hyper-gen/clones"), Main.cloneDir(dirs, both));
        assertEquals(List.of(Path.of("/tmp"), Path.of("/run/hyper-gen/clones")), Main.snapshotDirs(dirs, both));
        Path cmdline = Files.writeString(tmp.resolve("cmdline"), "guest_snapshot=/srv/from-cmdline\n");
        Main.Options none = Main.parse(new String[0], Map.of());
        dirs = hg.shell.internal.GuestDirs.resolve(null, null, null, cmdline);
        assertEquals(Path.of("/srv/from-cmdline"), Main.cloneDir(dirs, none));
        assertEquals(null, Main.cloneDir(hg.shell.internal.GuestDirs.resolve(null, null, null, tmp.resolve("no-cmdline")),
                none), "hg.vmm's default");
        assertTrue(Main.USAGE.contains("[--snapshot-dir DIR] [--clone-dir DIR]"), Main.USAGE);
        assertEquals(List.of("error: --snapshot-dir needs a directory, e.g. --snapshot-dir /srv/snapshots", Main.USAGE),
                run("", "--snapshot-dir").lines());
    }

    @Test
    void wrongArgumentsAreOneLinePlusUsage() {
        Run r = run("", "--guest-kernel");
        assertEquals(2, r.code());
        assertEquals(List.of("error: --guest-kernel needs a directory, e.g. --guest-kernel /srv/guests", Main.USAGE), r.lines());
        Run u = run("", "--bogus");
        assertEquals(2, u.code());
        assertEquals("error: unknown argument '--bogus'", u.lines().getFirst());
        assertEquals(List.of(Main.USAGE), run("", "--help").lines());
    }

    @Test
    void asASubprocessWithAPipeAsStdin() throws Exception {
        List<String> cmd = new ArrayList<>(Launch.command("--guest-kernel", kernels.toString(), "--guest-image",
                images.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        p.getOutputStream().write("kernel_list\nvm_list\nvm_destroy 4\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.startsWith("kvm: "), "the real KVM check is printed first: " + out);
        if (Files.isDirectory(Path.of("/sys/module/kvm_pvm"))) {
            assertTrue(out.contains("stock Linux guests will not boot on it"), out);
        }
        List<String> l = out.lines().filter(s -> !s.startsWith("kvm:")).toList();
        assertEquals("hyper-gen:# kernel_list", l.get(0));
        assertTrue(l.contains("hyper-gen:# vm_list"), out);
        assertTrue(l.contains("error: no vm with id 4 (there are no VMs; vm_create makes one)"), out);
    }
}
