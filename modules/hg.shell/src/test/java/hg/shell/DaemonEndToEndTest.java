package hg.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.shell.internal.Remote;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real launcher as a daemon on /dev/kvm and shells as its clients: a VM made in a shell on a tmux
 * terminal is typed to through the daemon's console stream, outlives the shell, is seen by a second shell
 * and through hyper-gen remote; a daemon killed with SIGKILL and started again is told by the shell that
 * saw its VMs.
 */
class DaemonEndToEndTest {
    static final String PROMPT = "hyper-gen:# ";

    @TempDir
    Path tmp;
    Path kernels;
    Path images;
    Path socket;
    Process daemon;

    @BeforeEach
    void guest() throws Exception {
        EchoGuest.assumeKvm();
        kernels = Files.createDirectories(tmp.resolve("kernels"));
        images = Files.createDirectories(tmp.resolve("images"));
        Files.move(EchoGuest.build(tmp), kernels.resolve("echo.elf"));
        hg.host.testkit.Mke2fs.make(images.resolve("root.ext4"), "ext4", "ROOT", "8M");
        socket = tmp.resolve("api.sock");
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (daemon != null) {
            daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Process startDaemon(String log) throws IOException, InterruptedException {
        Path out = tmp.resolve(log);
        Process p = new ProcessBuilder(Launch.command("--daemon", "--api-sock", socket.toString(), "--guest-kernel",
                kernels.toString(), "--guest-image", images.toString()))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(out).contains("hyper-gen daemon: the API is served at " + socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("the daemon did not come up:\n" + Files.readString(out));
            }
            Thread.sleep(100);
        }
        return p;
    }

    private String remote(int expectedCode, String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<String> all = new java.util.ArrayList<>(List.of("--api-sock", socket.toString()));
        all.addAll(List.of(args));
        int code = Remote.run(all, Main.DEFAULT_API_SOCKET, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(expectedCode, code, out);
        return out;
    }

    private String batch(String script) throws Exception {
        Process p = new ProcessBuilder(Launch.command("--api-sock", socket.toString())).redirectErrorStream(true).start();
        p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        return out;
    }

    @Test
    void shellsAreClientsOfOneDaemonWhoseVmsOutliveThemAndDieWithIt() throws Exception {
        daemon = startDaemon("daemon-1.log");
        try (Tmux t = Tmux.start(160, 50, Launch.command("--api-sock", socket.toString()))) {
            t.awaitText(PROMPT);
            assertTrue(t.screen().contains("the VMs are the hyper-gen daemon's at " + socket), t.screen());
            t.text("vm_create 0 0 --mem 64M");
            t.keys("Enter");
            t.await("the id", s -> s.contains("vm_create 0 0 --mem 64M\n1\n"));
            // Keystrokes go to the guest and its answers come back through the daemon's console stream.
            t.text("vm_console 1");
            t.keys("Enter");
            t.awaitText("echo guest ready");
            t.text("hello");
            t.awaitText("HELLO");
            t.keys("C-d");
            t.awaitText("[detached from vm 1; it keeps running]");

            // A second shell sees the VM and replays its console; the API shows it too.
            String second = batch("vm_list\nvm_console 1\n");
            assertTrue(second.matches("(?s).*\n1\\s+echo.elf\\s+root.ext4\\s+1\\s+64 MiB\\s+running.*"), second);
            assertTrue(second.contains("HELLO"), "the second shell's replay:\n" + second);
            String got = remote(0, "GET", "/vms/1");
            assertTrue(got.startsWith("HTTP 200 OK\n{") && got.contains("\"state\":\"running\""), got);
            String missing = remote(1, "GET", "/vms/9");
            assertTrue(missing.startsWith("HTTP 404 ") && missing.contains("{\"error\":\"no vm with id 9"), missing);
            assertTrue(remote(2, "TRACE", "/vms/1").contains("usage: hyper-gen remote"));

            // The daemon dies with the VM; another takes the socket; the shell says what was lost.
            daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            daemon = startDaemon("daemon-2.log");
            t.text("vm_list");
            t.keys("Enter");
            t.awaitText("the hyper-gen daemon started again: vm 1 was lost");
            assertTrue(t.screen().contains("no VMs"), t.screen());
            t.text("exit");
            t.keys("Enter");
            assertEquals(0, t.awaitExit());
        }
        // Leaving a client shell leaves the daemon's VMs.
        batch("vm_create 0 0 --mem 64M\n");
        String left = remote(0, "GET", "/vms");
        assertTrue(left.contains("\"id\":1"), left);
        assertTrue(remote(0, "DELETE", "/vms/1").startsWith("HTTP 204"));

        // Told to stop, the daemon ends its VMs and takes its socket with it.
        batch("vm_create 0 0 --mem 64M\n");
        daemon.destroy();
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the daemon did not stop on SIGTERM");
        assertTrue(!Files.exists(socket), "the socket outlived the daemon");
        daemon = null;
    }
}
