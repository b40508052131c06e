package hg.firecracker;

import hg.api.internal.UnixHttp;
import hg.host.CheckedMachines;
import hg.host.HostException;
import hg.host.VmmMachines;
import hg.vmm.VmManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A Firecracker front end served in the test's process: the microVM on this machine's /dev/kvm, its API on a
 * socket in {@code dir}, its serial console in memory. Closing it ends the VM and removes the socket.
 */
final class Served implements AutoCloseable {
    final Microvm vm;
    final FcServer server;
    final UnixHttp http;
    final ByteArrayOutputStream serialOut = new ByteArrayOutputStream();
    final PipedOutputStream serialIn = new PipedOutputStream();
    final ByteArrayOutputStream log = new ByteArrayOutputStream();

    Served(Path dir) throws IOException {
        PipedInputStream in = new PipedInputStream(serialIn, 4096);
        VmManager manager = new VmManager();
        vm = new Microvm("test-vm", new FcLog("test-vm", new PrintStream(log, true, StandardCharsets.UTF_8)),
                new Microvm.Options(serialOut, in, true), manager, new CheckedMachines(new VmmMachines(manager)), () -> 0);
        server = FcServer.start(dir.resolve("fc.sock"), vm);
        http = new UnixHttp(server.socket());
    }

    /** One request as it goes over the wire; a JSON body is sent with Content-Type application/json. */
    UnixHttp.Answer send(String method, String path, String body) throws HostException {
        return http.raw(method, path, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    String serial() {
        synchronized (serialOut) {
            return serialOut.toString(StandardCharsets.UTF_8);
        }
    }

    /** Waits up to {@code timeout} for {@code text} on the guest's serial console. */
    boolean awaitSerial(String text, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (serial().contains(text)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /** The exit code the process would end with, once the guest ended, or null when it did not within 30 s. */
    Integer awaitExit() throws Exception {
        try {
            return vm.exit().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        }
    }

    @Override
    public void close() {
        http.close();
        server.close();
        vm.close();
    }
}
