package hg.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell in a jlink image (as the boot image carries it): every module must be explicit, and JLine's
 * FFM terminal must be found there, or line editing and completion would silently fall back to a dumb terminal.
 */
class JlinkImageTest {
    @TempDir
    Path tmp;

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + cmd);
        assertEquals(0, p.exitValue(), cmd + ":\n" + out);
        return out;
    }

    @Test
    void theImageHasATerminalWithCompletion() throws Exception {
        Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
        assumeTrue(Files.isExecutable(jlink), "this JDK has no jlink");
        Path image = tmp.resolve("image");
        run(List.of(jlink.toString(), "--module-path", Launch.modulePath(), "--add-modules", "hg.shell",
                "--strip-debug", "--no-header-files", "--no-man-pages", "--output", image.toString()));
        String modules = run(List.of(image.resolve("bin/java").toString(), "--list-modules"));
        assertTrue(modules.contains("org.jline.terminal.ffm@"), modules);
        assertFalse(modules.contains("java.desktop"), "JLine's optional java.desktop stays out: " + modules);

        Path kernels = Files.createDirectories(tmp.resolve("kernels"));
        Files.write(kernels.resolve("vmlinux"), hg.host.testkit.KernelFixtures.vmlinux());
        try (Tmux t = Tmux.start(120, 30, List.of(image.resolve("bin/java").toString(),
                "--enable-native-access=hg.kvm,hg.ninep,org.jline.terminal.ffm,org.jline.nativ", "-m", "hg.shell/hg.shell.Main",
                "--guest-kernel", kernels.toString(), "--guest-image", tmp.toString()))) {
            t.awaitText("hyper-gen:# ");
            t.text("kernel_l");
            t.keys("Tab");
            t.awaitText("hyper-gen:# kernel_list");
            t.keys("Enter");
            t.await("the kernel table", s -> s.matches("(?s).*0\\s+vmlinux\\s+4.0 KiB\\s+vmlinux.*"));
            t.text("exit");
            t.keys("Enter");
            assertEquals(0, t.awaitExit());
            assertFalse(t.screen().contains("WARNING"), "no native-access warnings with these flags:\n" + t.screen());
        }
    }
}
