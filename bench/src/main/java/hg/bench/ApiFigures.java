package hg.bench;

import hg.api.ApiClient;
import hg.api.ApiServer;
import hg.host.BootKernelProbe;
import hg.host.Catalog;
import hg.host.CheckedMachines;
import hg.host.DirectoryCatalog;
import hg.host.Machines;
import hg.host.VmmMachines;
import hg.kvm.Kvm;
import hg.vmm.VmManager;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's figures, on this machine's /dev/kvm with the tiny echo guest (it says it is ready, then
 * echoes what it receives in upper case), one daemon (an {@link ApiServer} over the VMs of this process):
 * <ul>
 * <li>api_create_ms: {@code POST /vms} until its answer (the VM runs), against {@code vm_create} typed
 * into a shell that is a client of the same daemon (the real launcher, in batch mode in a child JVM) until
 * it printed the id. Both go through the daemon; the shell asks for the catalog first, as it always does.
 * <li>console_echo_ms: a character sent to an attached console until the guest's echo of it came back,
 * through the daemon's console stream (the WebSocket a shell attaches with), against the same on the
 * console of a VM in this process (the shell's console before the daemon).
 * </ul>
 */
final class ApiFigures {
    static final String API_CREATE = "api_create_ms";
    static final String CONSOLE_ECHO = "console_echo_ms";
    private static final String CREATE_BODY = "{\"kernel\": \"echo.elf\", \"image\": \"root.ext4\", \"mem_mib\": 64, "
            + "\"read_only\": true}";

    private ApiFigures() {}

    static List<Figure> figures() {
        return List.of(new Create(), new Echo());
    }

    /** A daemon of this process on a socket in {@code dir}, with the echo guest as kernel 0 and an image 0. */
    private record Daemon(Path socket, Machines machines, ApiServer server, Confined side) implements AutoCloseable {
        /** Its VMs and its API server run confined to the daemon's roots (their threads start from there). */
        static Daemon start(Path dir) throws Exception {
            Path kernels = Files.createDirectories(dir.resolve("kernels"));
            Path images = Files.createDirectories(dir.resolve("images"));
            Files.move(Gcc.buildCGuest("echo", dir.resolve("guest")), kernels.resolve("echo.elf"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Gcc.run(List.of("mke2fs", "-q", "-t", "ext4", "-F", images.resolve("root.ext4").toString(), "8M"), 60);
            Path socket = dir.resolve("api.sock");
            Files.deleteIfExists(socket);
            Confined side = Confined.forFigure("the daemon", kernels, images, List.of(dir));
            try {
                return side.call(() -> {
                    Machines machines = new CheckedMachines(new VmmMachines(new VmManager()));
                    Catalog catalog = new DirectoryCatalog(kernels, "none", images, "none", new BootKernelProbe());
                    return new Daemon(socket, machines, ApiServer.start(socket, machines, catalog), side);
                });
            } catch (Exception e) {
                side.close();
                throw e;
            }
        }

        @Override
        public void close() {
            try {
                side.run(() -> {
                    server.close();
                    machines.close();
                });
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                throw new IllegalStateException("closing the daemon: " + e.getMessage(), e);
            } finally {
                side.close();
            }
        }
    }

    static final class Create implements Figure {
        static final String PEER = "vm_create in a shell that is a client of the same daemon";

        @Override
        public String name() {
            return API_CREATE;
        }

        @Override
        public Result measure(Options options) throws Exception {
            if (!Kvm.present()) {
                return Result.unmeasured(API_CREATE, "ms", PEER, "<= 1.1", "/dev/kvm is absent on this host");
            }
            int warmup = options.quick() ? 5 : 10;
            int runs = options.quick() ? 10 : 30;
            List<Double> api = new ArrayList<>();
            List<Double> shell = new ArrayList<>();
            try (Daemon d = Daemon.start(options.out().resolve("api-create"));
                 ApiClient client = ApiClient.connect(d.socket());
                 Shell sh = Shell.start(d.socket())) {
                for (int i = 0; i < warmup + runs; i++) {
                    // In turns, so both sides see the same machine.
                    double a = post(client);
                    double s = sh.create();
                    if (i >= warmup) {
                        api.add(a);
                        shell.add(s);
                    }
                }
            }
            Stats a = Stats.of(api.stream().mapToDouble(Double::doubleValue).toArray());
            Stats s = Stats.of(shell.stream().mapToDouble(Double::doubleValue).toArray());
            System.err.printf(Locale.ROOT, "bench: %s: POST /vms %.2f ms (%.2f..%.2f), vm_create in a client shell "
                    + "%.2f ms (%.2f..%.2f), %d each%n", API_CREATE, a.median(), a.min(), a.max(), s.median(), s.min(),
                    s.max(), a.runs());
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("peer_min", s.min());
            extra.put("peer_max", s.max());
            extra.put("note", "tiny echo guest, 64 MiB, read-only root image; each VM destroyed before the next");
            return Result.measured(API_CREATE, "ms", a, s.median(), PEER, "<= 1.1", extra);
        }

        private static double post(ApiClient client) throws Exception {
            long t0 = System.nanoTime();
            ApiClient.Answer a = client.request("POST", "/vms", CREATE_BODY.getBytes(StandardCharsets.UTF_8));
            double ms = (System.nanoTime() - t0) / 1e6;
            if (a.status() != 201) {
                throw new IllegalStateException("POST /vms: " + a.status() + " " + new String(a.body(), StandardCharsets.UTF_8));
            }
            String body = new String(a.body(), StandardCharsets.UTF_8);
            int id = Integer.parseInt(body.replaceFirst("(?s)^\\{\"id\":(\\d+),.*", "$1"));
            client.destroy(id);
            return ms;
        }
    }

    /** The real launcher as a client shell in batch mode: a line in, its answer out. */
    private record Shell(Process process, PrintWriter in, BufferedReader out) implements AutoCloseable {
        static Shell start(Path socket) throws Exception {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=hg.kvm,hg.ninep", "-p", System.getProperty("jdk.module.path"),
                    "-m", "hg.shell/hg.shell.Main", "--api-sock", socket.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            return new Shell(p, new PrintWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8), true),
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
        }

        /** vm_create until the id is printed, in ms; the VM is destroyed after. */
        double create() throws Exception {
            long t0 = System.nanoTime();
            in.println("vm_create 0 0 --mem 64M --ro");
            String id = until("^\\d+$");
            double ms = (System.nanoTime() - t0) / 1e6;
            in.println("vm_destroy " + id);
            until("^vm " + id + " destroyed$");
            return ms;
        }

        /** Reads lines (the echo of the command comes after the prompt) until one matches {@code regex}. */
        private String until(String regex) throws Exception {
            for (String line; (line = out.readLine()) != null; ) {
                String l = line.replaceFirst("^hyper-gen:# ", "").strip();
                if (l.matches(regex)) {
                    return l;
                }
                if (l.startsWith("error:")) {
                    throw new IllegalStateException("the client shell said: " + l);
                }
            }
            throw new IllegalStateException("the client shell ended");
        }

        @Override
        public void close() {
            in.close();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    static final class Echo implements Figure {
        static final String PEER = "the same console in the VMM's own process";

        @Override
        public String name() {
            return CONSOLE_ECHO;
        }

        @Override
        public Result measure(Options options) throws Exception {
            if (!Kvm.present()) {
                return Result.unmeasured(CONSOLE_ECHO, "ms", PEER, "<= 1.2", "/dev/kvm is absent on this host");
            }
            int blocks = options.quick() ? 4 : 10;
            int perBlock = options.quick() ? 50 : 100;
            List<Double> daemon = new ArrayList<>();
            List<Double> local = new ArrayList<>();
            try (Daemon d = Daemon.start(options.out().resolve("console-echo"));
                 ApiClient client = ApiClient.connect(d.socket())) {
                int id = client.create(new Machines.Spec(options.out().resolve("console-echo/kernels/echo.elf"),
                        options.out().resolve("console-echo/images/root.ext4"), 64L << 20, 1, "", true));
                // One console attached at a time, in turns, so neither pays for the other's screen.
                Turns turns = new Turns();
                for (int b = 0; b < blocks; b++) {
                    boolean daemonFirst = b % 2 == 0;
                    for (int side = 0; side < 2; side++) {
                        boolean viaDaemon = daemonFirst == (side == 0);
                        Machines machines = viaDaemon ? client : d.machines();
                        turns.measure(machines, id, perBlock, viaDaemon ? daemon : local);
                    }
                }
            }
            Stats r = Stats.of(daemon.stream().mapToDouble(Double::doubleValue).toArray());
            Stats l = Stats.of(local.stream().mapToDouble(Double::doubleValue).toArray());
            System.err.printf(Locale.ROOT, "bench: %s: through the daemon %.3f ms (%.3f..%.3f), in-process %.3f ms "
                    + "(%.3f..%.3f), %d each%n", CONSOLE_ECHO, r.median(), r.min(), r.max(), l.median(), l.min(), l.max(),
                    r.runs());
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("peer_min", l.min());
            extra.put("peer_max", l.max());
            extra.put("note", "one character to the tiny echo guest's UART and its upper-case echo back; one console "
                    + "attached at a time, the two in turns of " + perBlock + " round trips");
            return Result.measured(CONSOLE_ECHO, "ms", r, l.median(), PEER, "<= 1.2", extra);
        }
    }

    /** Attaches one console, lets the screen catch up with what the VM said before, then times round trips. */
    private static final class Turns {
        private static final int WARMUP = 10;
        private int syncs;

        void measure(Machines machines, int id, int runs, List<Double> into) throws Exception {
            Echoes screen = new Echoes();
            try (Machines.Console console = machines.attach(id, screen)) {
                // The recent output comes first: once this turn's 'x' is echoed, every earlier 'A' has been counted.
                syncs++;
                console.input(new byte[] {'x'});
                screen.awaitSyncs(syncs);
                screen.forgetEchoes();
                for (int i = 0; i < WARMUP + runs; i++) {
                    double ms = screen.roundTrip(console);
                    if (i >= WARMUP) {
                        into.add(ms);
                    }
                }
            }
        }
    }

    /** A console's screen that counts the guest's upper-case echoes of 'a' and of 'x'. */
    private static final class Echoes extends OutputStream {
        private final Semaphore echoes = new Semaphore(0);
        private int syncs;

        @Override
        public synchronized void write(int b) {
            if (b == 'A') {
                echoes.release();
            } else if (b == 'X') {
                syncs++;
                notifyAll();
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }

        synchronized void awaitSyncs(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (syncs < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("the echo guest did not echo 'x' within 30 s");
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        void forgetEchoes() {
            echoes.drainPermits();
        }

        double roundTrip(Machines.Console console) throws Exception {
            long t0 = System.nanoTime();
            console.input(new byte[] {'a'});
            if (!echoes.tryAcquire(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no echo within 10 s");
            }
            return (System.nanoTime() - t0) / 1e6;
        }
    }
}
