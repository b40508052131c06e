package hg.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import hg.kvm.sys.Confinement;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --confine} for real: a shell in a child JVM restricts itself, execs again, installs its seccomp
 * filter once the VMM is made, and then (the test hook) finds exec, /etc/shadow and a file outside its roots
 * refused, while a tiny VM still runs on /dev/kvm and a kernel linked from outside the roots is refused in one line.
 */
class ConfinementEndToEndTest {
    @TempDir
    Path tmp;

    @Test
    void aConfinedShellRefusesExecShadowAndFilesOutsideItsRootsWhileVmsRun() throws Exception {
        EchoGuest.assumeKvm();
        Confinement.Support support = Confinement.support();
        assumeTrue(support.landlockAbi() > 0 && support.seccomp(), "this kernel lacks Landlock or seccomp: "
                + support.lines());
        assumeTrue(Files.exists(Path.of("/etc/shadow")), "no /etc/shadow here");
        Path kernels = Files.createDirectories(tmp.resolve("kernels"));
        Path images = Files.createDirectories(tmp.resolve("images"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path guest = EchoGuest.build(tmp);
        Files.copy(guest, kernels.resolve("echo.elf"));
        Files.move(guest, outside.resolve("far.elf"));
        hg.host.testkit.Mke2fs.make(images.resolve("root.ext4"), "ext4", "ROOT", "8M");
        Path secret = Files.writeString(outside.resolve("secret.txt"), "not for the VMM\n");

        Path snapshots = tmp.resolve("snapshots");
        ProcessBuilder pb = new ProcessBuilder(Launch.command("--confine", "--guest-kernel", kernels.toString(),
                "--guest-image", images.toString(), "--snapshot-dir", snapshots.toString())).redirectErrorStream(true);
        pb.environment().put("HG_CONFINEMENT_PROBE", secret.toString());
        pb.environment().remove("HG_CONFINED");
        Process p = pb.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return "reading failed: " + e;
            }
        });
        String out;
        try (OutputStream in = p.getOutputStream()) {
            in.write("vm_create 0 0 --mem 64M\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            Thread.sleep(2000); // the guest writes its first line
            // A kernel the catalog's directory links to from outside the roots: opening it is refused.
            Files.createSymbolicLink(kernels.resolve("far.elf"), outside.resolve("far.elf"));
            in.write(String.join("\n", "vm_list", "vm_console 1", "vm_snapshot 1 " + outside.resolve("snap"),
                    "vm_snapshot 1 " + snapshots.resolve("s1"), "vm_clone 1", "vm_destroy 2", "vm_destroy 1",
                    "kernel_list", "vm_create 1 0 --mem 64M", "").getBytes(StandardCharsets.UTF_8));
        } finally {
            boolean done = p.waitFor(120, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            out = output.get(10, TimeUnit.SECONDS);
            assertTrue(done, "the shell did not end: " + out);
        }
        List<String> l = out.lines().toList();
        assertTrue(l.stream().anyMatch(x -> x.startsWith("confinement: Landlock (ABI ")
                && x.contains("seccomp refuses") && x.contains("no_new_privs")
                && x.endsWith("capabilities " + (isRoot() ? "cap_net_admin" : "none"))), out);
        assertTrue(l.stream().anyMatch(x -> x.startsWith("probe: exec /bin/true: refused (")
                && x.contains("Operation not permitted")), out);
        assertTrue(l.stream().anyMatch(x -> x.startsWith("probe: read /etc/shadow: refused (")
                && x.contains("AccessDeniedException")), out);
        assertTrue(l.stream().anyMatch(x -> x.startsWith("probe: read " + secret + ": refused (")
                && x.contains("AccessDeniedException")), out);
        assertEquals(List.of("hyper-gen:# vm_create 0 0 --mem 64M", "1"),
                l.subList(l.indexOf("hyper-gen:# vm_create 0 0 --mem 64M"),
                        l.indexOf("hyper-gen:# vm_create 0 0 --mem 64M") + 2), out);
        assertTrue(l.stream().anyMatch(x -> x.matches("1\\s+echo.elf\\s+root.ext4\\s+1\\s+64 MiB\\s+running.*")), out);
        assertTrue(out.contains("echo guest ready"), "the guest ran and wrote to its console: " + out);
        assertTrue(l.contains("vm 1 destroyed"), out);
        // Snapshots and clones in the snapshot directory, a writable root; elsewhere refused with one line.
        assertEquals("error: vm_snapshot: " + outside.resolve("snap") + " is outside what this confined hyper-gen "
                + "(--confine) may write: give a directory in " + snapshots + ", " + images + ", /run/hyper-gen",
                l.get(l.indexOf("hyper-gen:# vm_snapshot 1 " + outside.resolve("snap")) + 1), out);
        assertTrue(l.get(l.indexOf("hyper-gen:# vm_snapshot 1 " + snapshots.resolve("s1")) + 1)
                .startsWith("vm 1: snapshot in " + snapshots.resolve("s1") + " (64 MiB memory, "), out);
        assertTrue(Files.isRegularFile(snapshots.resolve("s1").resolve("memory")), out);
        assertEquals("2", l.get(l.indexOf("hyper-gen:# vm_clone 1") + 1), out);
        // The kernel linked from outside: listed with one clear line, and given no id.
        String far = java.util.regex.Pattern.quote(outside.toRealPath().resolve("far.elf").toString());
        assertTrue(l.stream().anyMatch(x -> x.matches("-\\s+far.elf\\s+.*not a kernel: cannot be read: it is " + far
                + ", outside the roots this confined hyper-gen \\(--confine\\) was given at start.*")), out);
        assertEquals("error: no kernel with id 1: the only kernel id is 0 (kernel_list)",
                l.get(l.indexOf("hyper-gen:# vm_create 1 0 --mem 64M") + 1), out);
        assertTrue(!out.contains("Exception in thread") && !out.contains("Possible reasons"), "one line each: " + out);
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** The interactive shell, as on the boot console: JLine on a real terminal, under Landlock and the filter. */
    @Test
    void aConfinedShellOnATerminalRunsAGuestConsole() throws Exception {
        EchoGuest.assumeKvm();
        Confinement.Support support = Confinement.support();
        assumeTrue(support.landlockAbi() > 0 && support.seccomp(), "this kernel lacks Landlock or seccomp");
        Path kernels = Files.createDirectories(tmp.resolve("kernels"));
        Path images = Files.createDirectories(tmp.resolve("images"));
        Files.move(EchoGuest.build(tmp), kernels.resolve("echo.elf"));
        hg.host.testkit.Mke2fs.make(images.resolve("root.ext4"), "ext4", "ROOT", "8M");
        try (Tmux t = Tmux.start(160, 50, Launch.command("--confine", "--guest-kernel", kernels.toString(),
                "--guest-image", images.toString()))) {
            t.awaitText(VmEndToEndTest.PROMPT);
            assertTrue(t.screen().contains("confinement: Landlock (ABI "), t.screen());
            t.text("vm_create 0 0 --mem 64M");
            t.keys("Enter");
            t.await("vm 1", s -> s.contains("vm_create 0 0 --mem 64M\n1\n"));
            t.text("vm_console 1");
            t.keys("Enter");
            t.awaitText("echo guest ready");
            t.text("hello");
            t.awaitText("HELLO");
            t.keys("C-d");
            t.awaitText("[detached from vm 1; it keeps running]");
            t.text("exit");
            t.keys("Enter");
            assertEquals(0, t.awaitExit(), t.screen());
            assertTrue(!t.screen().contains("Exception"), t.screen());
        }
    }
}
