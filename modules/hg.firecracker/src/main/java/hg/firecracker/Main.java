package hg.firecracker;

import hg.api.internal.ApiException;
import hg.api.internal.JsonIn;
import hg.host.CheckedMachines;
import hg.host.VmmMachines;
import hg.vmm.VmManager;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code firecracker}: one microVM in this process, configured over Firecracker's API on {@code --api-sock} or
 * from {@code --config-file}, ending when its guest ends. Exit codes are Firecracker's: 0 when the guest shut
 * down, 1 for a failure, 152 for a config file that cannot be applied, 153 for a command line that cannot be
 * parsed.
 */
public final class Main {
    /** The Firecracker release whose API this front end answers as (clients check the major version). */
    static final String FIRECRACKER_VERSION = "1.12.1";

    static final int EXIT_OK = 0, EXIT_GENERIC = 1, EXIT_BAD_CONFIGURATION = 152, EXIT_ARG_PARSING = 153;

    private Main() {}

    public static void main(String[] argv) {
        // Jetty sizes its queues by the references per cache line, and without this asks the JVM through JMX,
        // whose platform MBean server costs tens of milliseconds of a start a client waits for. 64-byte lines
        // of 4-byte (compressed) references, as this JVM's heap is far below 32 GiB.
        System.setProperty("org.eclipse.jetty.util.referencesPerCacheLine", "16");
        System.exit(run(argv, System.out, System.err));
    }

    static String hyperGenVersion() {
        return Main.class.getModule().getDescriptor() == null ? "(unpackaged)"
                : Main.class.getModule().getDescriptor().rawVersion().orElse("(no version)");
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Args args;
        try {
            args = Args.parse(argv);
        } catch (Args.ArgsException e) {
            err.println("Arguments parsing error: " + e.getMessage());
            err.println(Args.USAGE);
            return EXIT_ARG_PARSING;
        }
        if (args.help()) {
            out.println(Args.USAGE);
            return EXIT_OK;
        }
        if (args.version()) {
            out.println("Firecracker v" + FIRECRACKER_VERSION);
            out.println("hyper-gen " + hyperGenVersion() + " (a Firecracker-compatible front end, not Firecracker)");
            return EXIT_OK;
        }
        FcLog log = new FcLog(args.id(), err);
        if (!args.ignored().isEmpty()) {
            log.warn("accepted and ignored (hyper-gen confines itself its own way): " + String.join(" ", args.ignored()));
        }
        VmManager manager = new VmManager();
        AtomicReference<Instant> ready = new AtomicReference<>();
        Microvm vm = new Microvm(args.id(), log, new Microvm.Options(new FileOutputStream(FileDescriptor.out),
                new FileInputStream(FileDescriptor.in), args.bootTimer()), manager,
                new CheckedMachines(new VmmMachines(manager)), () -> startupMicros(ready.get()));
        return serve(args, vm, log, err, ready);
    }

    /**
     * Microseconds from this process's start to {@code ready} (or now), for the first metrics line (Firecracker's
     * process_startup_time_us). Asked for then, not at start: reading the process's start costs time a client
     * waits for.
     */
    private static long startupMicros(Instant ready) {
        Optional<Instant> start = ProcessHandle.current().info().startInstant();
        Instant end = ready != null ? ready : Instant.now();
        return start.map(s -> Duration.between(s, end).toNanos() / 1000).orElse(0L);
    }

    private static int serve(Args args, Microvm vm, FcLog log, PrintStream err, AtomicReference<Instant> ready) {
        FcServer server = null;
        // SIGTERM (how Kata and the go-sdk stop a VMM): the VM ends and the socket file goes with the process.
        AtomicReference<FcServer> serving = new AtomicReference<>();
        Thread hook = Thread.ofPlatform().unstarted(() -> {
            FcServer s = serving.get();
            if (s != null) {
                s.close();
            }
            vm.close();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            if (args.logPath() != null || args.level() != null) {
                vm.putLogger(new Bodies.LoggerConfig(args.logPath() == null ? null : args.logPath().toString(),
                        args.level() == null ? "Info" : args.level(), args.showLevel(), args.showLogOrigin(), null));
            }
            if (args.metricsPath() != null) {
                vm.putMetrics(new Bodies.MetricsConfig(args.metricsPath().toString(), false, Map.of()));
            }
            if (args.metadata() != null) {
                readMetadata(args, log);
            }
            if (args.configFile() != null) {
                try {
                    ConfigFile.apply(ConfigFile.read(args.configFile()), vm);
                    ready.set(Instant.now());
                } catch (IOException | ApiException | FcException e) {
                    String line = "Configuration for VMM from one single json failed: " + e.getMessage();
                    log.error(line);
                    err.println(line);
                    return EXIT_BAD_CONFIGURATION;
                }
            }
            if (!args.noApi()) {
                try {
                    server = FcServer.start(args.apiSock(), vm);
                    serving.set(server);
                    ready.set(Instant.now());
                } catch (IOException e) {
                    log.error(e.getMessage());
                    err.println(e.getMessage());
                    return EXIT_GENERIC;
                }
            }
            return vm.exit().join();
        } catch (FcException e) {
            log.error(e.getMessage());
            err.println(e.getMessage());
            return EXIT_BAD_CONFIGURATION;
        } finally {
            if (server != null) {
                server.close();
            }
            vm.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs and finds everything closed
            }
        }
    }

    /** --metadata is read (it must be JSON, as Firecracker requires) and not served: hyper-gen has no MMDS. */
    private static void readMetadata(Args args, FcLog log) throws FcException {
        try {
            byte[] json = Files.readAllBytes(args.metadata());
            JsonIn.answer(json, in -> {
                in.object("", name -> false); // MMDS data is one object; its fields are not read here
                return null;
            });
        } catch (IOException | ApiException e) {
            throw new FcException("--metadata " + args.metadata() + ": " + e.getMessage());
        }
        log.warn("--metadata " + args.metadata() + " was read; hyper-gen serves no MMDS, so the guest does not see it");
    }
}
