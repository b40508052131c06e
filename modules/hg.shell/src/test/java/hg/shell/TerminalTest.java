package hg.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real hyper-gen main on a real terminal (a tmux pane): prompt, completion, history, errors, exit. */
class TerminalTest {
    static final String PROMPT = "hyper-gen:# ";

    @TempDir
    Path tmp;
    Path kernels;
    Path images;

    @BeforeEach
    void dirs() throws Exception {
        kernels = Files.createDirectories(tmp.resolve("kernels"));
        images = Files.createDirectories(tmp.resolve("images"));
        byte[] elf = hg.host.testkit.KernelFixtures.vmlinux();
        Files.write(kernels.resolve("vmlinux-test"), elf);
    }

    private Tmux shell(String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--guest-kernel", kernels.toString(),
                "--guest-image", images.toString()));
        args.addAll(List.of(extra));
        Tmux t = Tmux.start(160, 40, Launch.command(args.toArray(String[]::new)));
        t.awaitText(PROMPT);
        return t;
    }

    private static int count(String screen, String text) {
        Matcher m = Pattern.compile(Pattern.quote(text)).matcher(screen);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void promptCompletionHistoryErrorsAndExit() throws Exception {
        try (Tmux t = shell()) {
            assertTrue(t.screen().contains("hyper-gen shell: help lists the commands"));

            // TAB completes a command name...
            t.text("kernel_l");
            t.keys("Tab");
            t.awaitText(PROMPT + "kernel_list");
            t.keys("Enter");
            t.await("the kernel table", s -> s.matches("(?s).*0\\s+vmlinux-test\\s+4.0 KiB\\s+vmlinux.*"));

            // ...and a kernel's file name: the only kernel is vmlinux-test.
            t.text("vm_create ");
            t.keys("Tab");
            t.awaitText(PROMPT + "vm_create vmlinux-test ");
            t.keys("C-u");

            // A wrong input answers one error line and the prompt comes back.
            t.text("vm_create x 0");
            t.keys("Enter");
            String s = t.awaitText("error: no kernel named 'x' in ");
            assertFalse(s.contains("Exception"), s);
            t.await("a new prompt", x -> x.stripTrailing().endsWith(PROMPT.strip()));

            // Up recalls the previous lines, newest first.
            t.keys("Up");
            t.awaitText(PROMPT + "vm_create x 0");
            t.keys("Up");
            t.await("kernel_list recalled", x -> x.stripTrailing().endsWith(PROMPT + "kernel_list"));
            t.keys("Enter");
            t.await("the table twice", x -> count(x, "vmlinux-test") == 2);

            // CTRL+c drops the line being typed; the shell stays.
            t.text("vm_list");
            t.keys("C-c");
            t.keys("Enter");
            Thread.sleep(300);
            assertFalse(t.screen().contains("no VMs"), t.screen());

            t.text("exit");
            t.keys("Enter");
            assertEquals(0, t.awaitExit());
        }
    }

    @Test
    void onTheBootConsoleExitIsRefusedAndTheShellStays() throws Exception {
        try (Tmux t = shell("--console")) {
            t.text("exit");
            t.keys("Enter");
            t.awaitText("error: exit is refused on the boot console: the shell must stay up here");
            t.await("a new prompt", x -> x.stripTrailing().endsWith(PROMPT.strip()));
            t.keys("C-d");
            t.await("the refusal twice", s -> count(s, "error: exit is refused") == 2);
            t.text("help");
            t.keys("Enter");
            t.awaitText("vm_console");
            assertFalse(t.ended());
        }
    }

    @Test
    void aConsoleWithoutASizeGetsOneAndLineEditingWorks() throws Exception {
        // A serial console starts with 0 rows and 0 columns.
        try (Tmux t = Tmux.start(100, 30, "stty rows 0 cols 0", Launch.command("--guest-kernel", kernels.toString(),
                "--guest-image", images.toString()))) {
            t.awaitText(PROMPT);
            t.text("kernel_li");
            t.keys("Tab", "Enter");
            t.await("the kernel table", s -> s.matches("(?s).*0\\s+vmlinux-test\\s+4.0 KiB\\s+vmlinux.*"));
            t.text("quit");
            t.keys("Enter");
            assertEquals(0, t.awaitExit());
        }
    }

    @Test
    void aSerialConsoleWithoutTerminfo() throws Exception {
        // As on the boot image's serial console: TERM=vt102, no terminfo, no infocmp, no size.
        try (Tmux t = Tmux.start(100, 30, "export TERM=vt102 PATH=/nonexistent TERMINFO_DIRS=/nonexistent; stty rows 0 cols 0",
                Launch.command("--guest-kernel", kernels.toString(), "--guest-image", images.toString()))) {
            t.awaitText(PROMPT);
            t.text("kernel_li");
            t.keys("Tab", "Enter");
            t.await("the kernel table", s -> s.matches("(?s).*0\\s+vmlinux-test\\s+4.0 KiB\\s+vmlinux.*"));
            t.text("vm_list");
            t.keys("Left", "Left", "Left", "Left", "Left", "Left", "Left");
            t.text("# ");
            t.keys("Enter");
            t.awaitText("error: unknown command '#'");
            String screen = t.screen();
            assertFalse(screen.contains("infocmp"), screen);
            assertFalse(screen.contains("WARNING"), screen);
            assertFalse(screen.contains("Exception"), screen);
        }
    }
}
