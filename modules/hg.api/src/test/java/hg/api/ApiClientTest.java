package hg.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.api.internal.UnixHttp;
import hg.host.CatalogEntry;
import hg.host.CheckedMachines;
import hg.host.HostException;
import hg.host.HostException.Kind;
import hg.host.Machines;
import hg.host.Machines.State;
import hg.host.VmmMachines;
import hg.vmm.VmManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shell's view of a daemon: ApiClient as Machines and Catalog, against real VMs of the tiny guests. */
class ApiClientTest {
    @TempDir
    Path tmp;
    Daemon daemon;
    ApiClient client;

    @BeforeEach
    void start() throws Exception {
        Guests.assumeKvm();
        daemon = Daemon.start(tmp);
        client = ApiClient.connect(daemon.socket);
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    /** A sink the test can read while the console writes into it from another thread. */
    private static final class Screen extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private Machines.Spec spec(String kernel, String image, boolean readOnly) {
        return new Machines.Spec(daemon.kernels.resolve(kernel), daemon.images.resolve(image), 64L << 20, 1, "", readOnly);
    }

    @Test
    void theCatalogIsRebuiltFromJson() throws Exception {
        assertEquals(daemon.catalog.kernels(), client.kernels());
        assertEquals(daemon.catalog.images(), client.images());
        assertEquals(daemon.kernels, client.kernelDir());
        assertEquals(daemon.images, client.imageDir());
        assertEquals(null, client.kernelDirProblem());
        CatalogEntry.Kernel echo = client.kernel("echo.elf");
        assertEquals(1, echo.id());
        HostException e = assertThrows(HostException.class, () -> client.image("9"));
        assertEquals("no image with id 9: image_list shows ids 0-1", e.getMessage());
        assertEquals(daemon.machines.maxVcpus(), client.maxVcpus());
        assertEquals(daemon.machines.memoryRule(), client.memoryRule());
        assertEquals(daemon.machines.networkReach(), client.networkReach());
        assertTrue(client.networkReach().startsWith("guests on the bridge reach "), client.networkReach());
    }

    @Test
    void createListPauseResumeSnapshotRestoreCloneDestroy() throws Exception {
        Machines.Spec spec = new Machines.Spec(daemon.kernels.resolve("count.elf"), daemon.images.resolve("root.ext4"),
                64L << 20, 1, "quiet", false, List.of(new Machines.Disk(daemon.images.resolve("data.ext4"), true)), false, true);
        assertEquals(1, client.create(spec));
        Machines.Info vm = client.list().getFirst();
        Machines.Info there = daemon.machines.list().getFirst();
        assertEquals(there.disks(), vm.disks());
        assertEquals(there.kernel(), vm.kernel());
        assertEquals(64L << 20, vm.memoryBytes());
        assertInstanceOf(State.Running.class, vm.state());

        HostException busy = assertThrows(HostException.class, () -> client.create(spec("count.elf", "root.ext4", false)));
        assertEquals(Kind.CONFLICT, busy.kind());
        assertEquals("root.ext4 is in use read-write by vm 1: vm_destroy 1 first, or attach it read-only", busy.getMessage());

        client.pause(1);
        assertInstanceOf(State.Paused.class, client.list().getFirst().state());
        HostException again = assertThrows(HostException.class, () -> client.pause(1));
        assertEquals(Kind.CONFLICT, again.kind());
        assertEquals("vm 1 is paused already: vm_resume 1 lets it go on", again.getMessage());
        client.resume(1);

        Machines.Snapshot s = client.snapshot(1, tmp.resolve("snap"), true);
        assertEquals(tmp.resolve("snap"), s.dir());
        assertEquals(64L << 20, s.memoryBytes());
        assertEquals(8L << 20, s.diskBytes());
        assertTrue(s.paused().compareTo(Duration.ZERO) > 0);
        assertEquals(List.of(), client.list());

        int restored = client.restore(tmp.resolve("snap"), false);
        assertEquals(2, restored);
        assertEquals(List.of(3, 4), client.clone(2, 2));
        HostException tooMany = assertThrows(HostException.class, () -> client.clone(2, 65));
        assertEquals(Kind.INVALID, tooMany.kind());

        client.destroy(3);
        HostException gone = assertThrows(HostException.class, () -> client.destroy(3));
        assertEquals(Kind.NOT_FOUND, gone.kind());
        assertEquals("no vm with id 3 (vm_list shows ids 2, 4)", gone.getMessage());
    }

    @Test
    void aFileOutsideTheDaemonsCatalogIsRefusedByTheClient() throws Exception {
        Path elsewhere = Files.copy(daemon.kernels.resolve("echo.elf"), tmp.resolve("echo.elf"));
        HostException e = assertThrows(HostException.class, () -> client.create(new Machines.Spec(elsewhere,
                daemon.images.resolve("root.ext4"), 64L << 20, 1, "", false)));
        assertEquals(elsewhere + " is not in the daemon's kernel directory " + daemon.kernels + ": give a kernel of "
                + "kernel_list", e.getMessage());
    }

    @Test
    void consoleEchoAndTheStopReason() throws Exception {
        int id = client.create(spec("echo.elf", "root.ext4", false));
        Screen screen = new Screen();
        try (Machines.Console console = client.attach(id, screen)) {
            await("the guest's greeting", () -> screen.text().contains("echo guest ready"));
            console.input("hello\r".getBytes(StandardCharsets.US_ASCII));
            await("the echo", () -> screen.text().contains("HELLO\r\n"));
            assertInstanceOf(State.Running.class, console.state());
            console.input("q".getBytes(StandardCharsets.US_ASCII));
            await("the stop", () -> console.state() instanceof State.Stopped);
            assertEquals(new State.Stopped("the guest exited with code 7"), console.state());
            assertTrue(screen.text().contains("bye"), "what the guest said last came before the close: " + screen.text());
            HostException closed = assertThrows(HostException.class, () -> console.input(new byte[] {'x'}));
            assertEquals("the console of vm 1 is closed: the guest exited with code 7", closed.getMessage());
        }
        HostException e = assertThrows(HostException.class, () -> client.attach(99, new Screen()));
        assertEquals(Kind.NOT_FOUND, e.kind());
        assertEquals("no vm with id 99 (vm_list shows id 1)", e.getMessage());
    }

    @Test
    void aClientThatVanishesMidStreamLeavesTheDaemonAndTheVmRunning() throws Exception {
        int id = client.create(spec("count.elf", "root.ext4", false));
        AtomicLong received = new AtomicLong();
        try (UnixHttp raw = new UnixHttp(daemon.socket)) {
            CoreSession session = raw.websocket("/vms/" + id + "/console", new FrameHandler() {
                private volatile CoreSession open;

                @Override
                public void onOpen(CoreSession s, Callback callback) {
                    open = s;
                    callback.succeeded();
                    s.demand();
                }

                @Override
                public void onFrame(Frame frame, Callback callback) {
                    received.addAndGet(frame.getPayloadLength());
                    callback.succeeded();
                    open.demand();
                }

                @Override
                public void onError(Throwable cause, Callback callback) {
                    callback.succeeded();
                }

                @Override
                public void onClosed(CloseStatus status, Callback callback) {
                    callback.succeeded();
                }
            });
            await("output streaming", () -> received.get() > 200);
            session.abort(); // no close frame: the connection just ends
        }
        for (int i = 0; i < 3; i++) {
            assertInstanceOf(State.Running.class, client.list().getFirst().state());
            Screen screen = new Screen();
            try (Machines.Console console = client.attach(id, screen)) {
                await("the console again", () -> screen.text().contains("tick "));
                assertInstanceOf(State.Running.class, console.state());
            }
        }
        assertEquals(1, client.list().size());
    }

    @Test
    void aServerThatClosesEndsItsConsolesAndLeavesTheVmsRunning() throws Exception {
        int id = client.create(spec("count.elf", "root.ext4", false));
        Screen screen = new Screen();
        try (Machines.Console console = client.attach(id, screen)) {
            await("output", () -> screen.text().contains("tick "));
            daemon.server.close();
            await("the end of the stream", () -> console.state() instanceof State.Stopped);
            assertTrue(((State.Stopped) console.state()).reason().startsWith("the console stream ended ("),
                    console.state().toString());
        }
        assertInstanceOf(State.Running.class, daemon.machines.list().getFirst().state());
        assertTrue(!Files.exists(daemon.socket), "the socket went with the server");
    }

    @Test
    void aDaemonThatIsGoneIsOneLine() throws Exception {
        daemon.close();
        HostException e = assertThrows(HostException.class, () -> client.pause(1));
        assertEquals(Kind.FAILED, e.kind());
        assertTrue(e.getMessage().startsWith("the hyper-gen daemon at " + daemon.socket + " is not answering: "),
                e.getMessage());
        assertTrue(client.kernels().isEmpty());
        assertTrue(client.kernelDirProblem().startsWith("the hyper-gen daemon at "), client.kernelDirProblem());
        IOException none = assertThrows(IOException.class, () -> ApiClient.connect(daemon.socket));
        assertTrue(none.getMessage().startsWith("the hyper-gen daemon at " + daemon.socket + " is not answering: "),
                none.getMessage());
        assertTrue(!none.getMessage().contains("\n"), none.getMessage());
        daemon = null;
    }

    @Test
    void aDaemonThatStartsAgainIsToldOnceWithTheVmsItLost() throws Exception {
        int a = client.create(spec("count.elf", "root.ext4", false));
        int b = client.create(spec("count.elf", "data.ext4", true));
        assertEquals(List.of(), client.notices(), "nothing happened yet");
        // The daemon dies with its VMs and another starts on the same socket.
        daemon.close();
        daemon = Daemon.start(tmp, daemon.kernels, daemon.images, new CheckedMachines(new VmmMachines(new VmManager())));
        assertEquals(List.of(), client.list());
        assertEquals(List.of("the hyper-gen daemon started again: vms " + a + ", " + b + " were lost"), client.notices());
        assertEquals(List.of(), client.notices(), "told once");
        client.list();
        assertEquals(List.of(), client.notices(), "the same daemon again is no news");
    }

    @Test
    void aRawRequestGivesTheAnswerWhateverItsStatus() throws Exception {
        ApiClient.Answer gone = client.request("GET", "/vms/77", null);
        assertEquals(404, gone.status());
        assertTrue(new String(gone.body(), StandardCharsets.UTF_8).contains("\"error\":\"no vm with id 77"),
                new String(gone.body(), StandardCharsets.UTF_8));
        ApiClient.Answer bad = client.request("POST", "/vms", "{".getBytes(StandardCharsets.UTF_8));
        assertEquals(400, bad.status());
        assertEquals(200, client.request("GET", "/vms", null).status());
    }
}
