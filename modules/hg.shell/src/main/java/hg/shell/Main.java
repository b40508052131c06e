package hg.shell;

import hg.api.ApiClient;
import hg.api.ApiServer;
import hg.host.BootKernelProbe;
import hg.host.CheckedMachines;
import hg.host.ShareRule;
import hg.host.DirectoryCatalog;
import hg.host.Machines;
import hg.host.VmmMachines;
import hg.kvm.KvmCheck;
import hg.shell.internal.BatchConsole;
import hg.shell.internal.BatchShell;
import hg.shell.internal.Commands;
import hg.shell.internal.Confine;
import hg.shell.internal.GuestDirs;
import hg.shell.internal.InteractiveShell;
import hg.shell.internal.Remote;
import hg.shell.internal.TerminalTypes;
import hg.vmm.GuestNetwork;
import hg.vmm.MemoryAdmission;
import hg.vmm.VmManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.terminal.spi.SystemStream;
import org.jline.terminal.spi.TerminalProvider;

/**
 * The hyper-gen shell: {@code hyper-gen [--guest-kernel DIR] [--guest-image DIR] [--snapshot-dir DIR]
 * [--clone-dir DIR] [--share-root DIR|--no-shares] [--console] [--net [--uplink IFACE]] [--overcommit] [--hugepages]}.
 *
 * <p>Without the directory flags they come from {@code guest_kernel=}, {@code guest_image=},
 * {@code guest_snapshot=} and {@code guest_share=} on /proc/cmdline; with a share root, only its subdirectories
 * may be shared with guests. The snapshot directory is where clones' frozen images live and,
 * under {@code --confine}, a place vm_snapshot may write; {@code --clone-dir} puts the clones elsewhere (the
 * boot image keeps them in /run/hyper-gen/clones). {@code --console} (or the environment variable {@code HYPER_GEN_CONSOLE=1}) marks the boot
 * image's console, where exit and quit are refused because the shell must stay up. {@code --net} makes
 * vm_create give every guest a network card unless told {@code --no-net} (the boot image does); {@code --uplink IFACE}
 * lets those guests reach beyond the host through that interface (NAT, see hg.vmm's GuestNetwork). {@code --overcommit}
 * admits VMs whatever guest memory the running VMs were promised (see hg.vmm's MemoryAdmission); without it, the
 * guest memory of running VMs together stays within the host's memory less a reserve for the host and hyper-gen.
 * {@code --hugepages} puts every VM's memory on huge pages, as {@code vm_create --hugepages} does for one (the boot
 * image's daemon gets it when a hugetlbfs pool was reserved at boot). When stdin is not a
 * terminal the shell runs in batch mode: each line is echoed after the prompt with its result, and the exit
 * code is 1 when any command failed.
 *
 * <p>Native access: {@code --enable-native-access=hg.kvm,hg.ninep,org.jline.terminal.ffm,org.jline.nativ} (hg.kvm for
 * /dev/kvm; hg.ninep for the files of shared folders; JLine's FFM terminal for the tty; jline-native, which JLine loads to make file descriptors for
 * the system terminal).
 *
 * <p>{@code --daemon} makes this process the host's one VMM: it serves the API ({@code hg.api}) on
 * {@code --api-sock PATH} (default /run/hyper-gen/api.sock) instead of reading commands, until it is told to stop.
 * A shell given {@code --api-sock}, or finding that default socket, is the daemon's client: its VMs are the
 * daemon's and leaving it leaves them. {@code hyper-gen remote [--api-sock PATH] METHOD PATH [JSON]} sends one
 * API request and prints the answer.
 *
 * <p>{@code --confine} restricts the shell once set up: Landlock limits files to the roots it was given, a seccomp
 * filter refuses exec and the other calls a VMM never needs, and only CAP_NET_ADMIN is left (see Confine).
 */
public final class Main {
    /** The environment variable that marks the boot image's console, like {@code --console}. */
    public static final String CONSOLE_ENV = "HYPER_GEN_CONSOLE";
    static final String USAGE = "usage: hyper-gen [--guest-kernel DIR] [--guest-image DIR] [--snapshot-dir DIR] "
            + "[--clone-dir DIR] [--share-root DIR|--no-shares] [--console] [--net [--uplink IFACE]] [--overcommit] [--hugepages] [--confine] "
            + "[--daemon] [--api-sock PATH]";
    /** Where the daemon serves its API unless told --api-sock, and where a shell looks for one. */
    public static final Path DEFAULT_API_SOCKET = Path.of("/run/hyper-gen/api.sock");
    static final String EXIT_REFUSAL = "exit is refused on the boot console: the shell must stay up here "
            + "(vm_destroy stops VMs; other consoles may exit)";

    /**
     * @param net         whether vm_create gives a network card unless told --no-net
     * @param overcommit  whether VMs are admitted whatever memory the running VMs were promised
     * @param snapshotDir where clones live and a confined shell may write snapshots; null: guest_snapshot= or none
     * @param cloneDir    where clones live when not in the snapshot directory; null: there
     * @param hugepages   every VM's memory on huge pages, as vm_create --hugepages asks for one
     * @param uplink      the interface guests reach beyond the host through (NAT); null: none
     */
    record Options(Path kernelDir, Path imageDir, boolean console, boolean net, boolean overcommit, Path snapshotDir,
                   Path cloneDir, boolean daemon, Path apiSocket, Path shareRoot, boolean noShares, boolean hugepages,
                   String uplink) {
        Options(Path kernelDir, Path imageDir, boolean console, boolean net, boolean overcommit) {
            this(kernelDir, imageDir, console, net, overcommit, null, null, false, null, null, false, false, null);
        }
    }

    /** The snapshot directory, then the clone directory when it is another: each a writable root under --confine. */
    static List<Path> snapshotDirs(GuestDirs dirs, Options options) {
        List<Path> out = new ArrayList<>();
        if (dirs.snapshotDir() != null) {
            out.add(dirs.snapshotDir().toAbsolutePath().normalize());
        }
        Path clones = cloneDir(dirs, options);
        if (clones != null && !out.contains(clones)) {
            out.add(clones);
        }
        return out;
    }

    /** Which directories guests may share: beneath the share root when one is named, none with --no-shares. */
    static ShareRule shareRule(GuestDirs dirs, Options options) {
        if (dirs.shareDir() != null) {
            return new ShareRule.Beneath(dirs.shareDir());
        }
        return options.noShares() ? new ShareRule.Nowhere("boot with guest_share=DIR to share its subdirectories")
                : new ShareRule.Anywhere();
    }

    /** Where clones live: --clone-dir, else the snapshot directory, else null (hg.vmm's default). */
    static Path cloneDir(GuestDirs dirs, Options options) {
        Path d = options.cloneDir() != null ? options.cloneDir() : dirs.snapshotDir();
        return d == null ? null : d.toAbsolutePath().normalize();
    }

    private Main() {}

    public static void main(String[] args) {
        if (Remote.asked(args)) {
            System.exit(Remote.run(Remote.arguments(args), DEFAULT_API_SOCKET, System.out));
        }
        if (Confine.firstStart(args, System.getenv())) {
            confine(args);
        }
        System.exit(run(args, System.getenv(), System.in, System.out, stdinIsTerminal(), Path.of("/proc/cmdline"),
                Main::kvmLines));
    }

    /** --confine, first start: restricts this JVM to its roots and execs it again (a wrong argument is run's to report). */
    private static void confine(String[] args) {
        Options options;
        try {
            options = parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            return;
        }
        if (options != null) {
            GuestDirs dirs = GuestDirs.resolve(options.kernelDir(), options.imageDir(), options.snapshotDir(), options.shareRoot(),
                    Path.of("/proc/cmdline"));
            List<Path> writable = new ArrayList<>(snapshotDirs(dirs, options));
            if (dirs.shareDir() != null) {
                writable.add(dirs.shareDir().toAbsolutePath().normalize());   // guests write their shares through the VMM
            }
            Confine.restrictAndExec(dirs.kernelDir(), dirs.imageDir(), writable, System.out);
        }
    }

    /** What KVM is here, as hg.kvm reports it; on a PVM host it says that Linux guests cannot run. */
    static List<String> kvmLines() {
        try {
            return KvmCheck.check().lines();
        } catch (RuntimeException | LinkageError e) {
            return List.of("kvm: the KVM check failed (" + e + "); vm_create may fail");
        }
    }

    /** Runs the shell; interactive on the system terminal when {@code interactive}, else batch over {@code in}. */
    static int run(String[] args, Map<String, String> env, InputStream in, PrintStream out, boolean interactive,
                   Path procCmdline, Supplier<List<String>> kvmCheck) {
        Options options;
        try {
            options = parse(args, env);
        } catch (IllegalArgumentException e) {
            out.println("error: " + e.getMessage());
            out.println(USAGE);
            out.flush();
            return 2;
        }
        if (options == null) {
            out.println(USAGE);
            out.flush();
            return 0;
        }
        if (!options.daemon()) {
            Path socket = options.apiSocket() != null ? options.apiSocket()
                    : Files.exists(DEFAULT_API_SOCKET) ? DEFAULT_API_SOCKET : null;
            if (socket != null) {
                return client(socket, options, in, out, interactive);
            }
        }
        GuestDirs dirs = GuestDirs.resolve(options.kernelDir(), options.imageDir(), options.snapshotDir(), options.shareRoot(), procCmdline);
        DirectoryCatalog catalog = new DirectoryCatalog(dirs.kernelDir(), dirs.kernelNotGiven(),
                dirs.imageDir(), dirs.imageNotGiven(), new BootKernelProbe(Confine::explain));
        String exitRefusal = options.console() ? EXIT_REFUSAL : null;
        List<String> startLines = new ArrayList<>(kvmCheck.get());
        for (String problem : new String[] {catalog.kernelDirProblem(), catalog.imageDirProblem()}) {
            if (problem != null) {
                startLines.add("warning: " + problem);
            }
        }
        VmManager manager = new VmManager(MemoryAdmission.forThisProcess(), options.overcommit());
        Path clones = cloneDir(dirs, options);
        if (clones != null) {
            manager.cloneDirectory(clones);
        }
        // Each VM's vsock socket sits beside the API socket: one place a host program finds both.
        manager.vsockDirectory((options.apiSocket() != null ? options.apiSocket() : DEFAULT_API_SOCKET)
                .toAbsolutePath().getParent());
        try (Machines machines = new VmmMachines(manager, options.hugepages())) {
            // Only the exec'd process is under Landlock; where the kernel has none, snapshots may go anywhere.
            List<Path> snapshotRoots = Confine.asked(args) && "1".equals(env.get(Confine.MARKER))
                    ? Confine.snapshotRoots(dirs.imageDir(), snapshotDirs(dirs, options)) : List.of();
            if (options.net()) {
                // Runs nft: before the lock-down, which refuses exec.
                startLines.addAll(GuestNetwork.setUp(java.util.Optional.ofNullable(options.uplink())));
            }
            if (Confine.asked(args)) {
                startLines.addAll(Confine.lockDown(env));
            }
            if (options.daemon()) {
                return daemon(new CheckedMachines(machines, shareRule(dirs, options)), catalog, options,
                        startLines, out);
            }
            Commands commands = new Commands(catalog, new CheckedMachines(machines, shareRule(dirs, options)),
                    exitRefusal, options.net(), !options.console(),
                    snapshotRoots);
            if (interactive) {
                return interactive(commands, startLines, exitRefusal, out, true);
            }
            PrintWriter writer = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), false);
            startLines.forEach(writer::println);
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            int code = BatchShell.run(reader, writer, commands, new BatchConsole(out));
            sayDestroyed(machines, writer);
            return code;
        } catch (IOException e) {
            out.println("error: reading the commands failed: " + e.getMessage());
            return 1;
        }
    }

    /**
     * The one VMM of the host: serves the API until the process is told to stop; the VMs go with it. Start-up
     * lines go to {@code out} (the boot image's console) once the socket answers.
     */
    private static int daemon(Machines machines, DirectoryCatalog catalog, Options options, List<String> startLines,
                              PrintStream out) {
        Path socket = options.apiSocket() != null ? options.apiSocket() : DEFAULT_API_SOCKET;
        ApiServer server;
        try {
            server = ApiServer.start(socket, machines, catalog);
        } catch (IOException e) {
            out.println("error: the API cannot be served at " + socket + ": " + e.getMessage());
            out.flush();
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        // Told to stop (SIGTERM, init): no more requests, then the VMs go with their TAPs, in the hook itself, as
        // the JVM halts once its hooks are done.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            machines.close();
            stopped.countDown();
        }, "hyper-gen-daemon-stop"));
        startLines.forEach(out::println);
        out.println("hyper-gen daemon: the API is served at " + socket);
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** How long a console shell waits for the daemon's socket at boot (the daemon loads its filter first). */
    private static final Duration DAEMON_WAIT = Duration.ofMinutes(2);

    /** A shell whose VMs are the daemon's: the same commands, checks and lines, over its API. */
    private static int client(Path socket, Options options, InputStream in, PrintStream out, boolean interactive) {
        ApiClient client;
        try {
            client = connect(socket, options.console() ? DAEMON_WAIT : Duration.ZERO, out);
        } catch (IOException e) {
            out.println("error: " + e.getMessage());
            out.flush();
            return 1;
        }
        try (client) {
            String exitRefusal = options.console() ? EXIT_REFUSAL : null;
            Commands commands = new Commands(client, client, exitRefusal, options.net(), !options.console(), List.of());
            List<String> startLines = List.of("hyper-gen shell: the VMs are the hyper-gen daemon's at " + socket);
            if (interactive) {
                return interactive(commands, startLines, exitRefusal, out, false);
            }
            PrintWriter writer = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), false);
            startLines.forEach(writer::println);
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            return BatchShell.run(reader, writer, commands, new BatchConsole(out));
        } catch (IOException e) {
            out.println("error: reading the commands failed: " + e.getMessage());
            return 1;
        }
    }

    /** Connects to the daemon, waiting up to {@code wait} for its socket to answer (saying so once). */
    private static ApiClient connect(Path socket, Duration wait, PrintStream out) throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        boolean told = false;
        while (true) {
            try {
                return ApiClient.connect(socket);
            } catch (IOException e) {
                if (System.nanoTime() >= deadline) {
                    throw e;
                }
                if (!told) {
                    out.println("hyper-gen shell: waiting for the hyper-gen daemon at " + socket);
                    out.flush();
                    told = true;
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static final String PROBE_TIMEOUT = "org.jline.terminal.probe.timeout";

    /** @param ownsVms whether leaving destroys the VMs (not when they are the daemon's) */
    private static int interactive(Commands commands, List<String> startLines, String exitRefusal, PrintStream out,
                                   boolean ownsVms) throws IOException {
        // CTRL+c outside line editing must not kill the shell (SIG_DFL would); the line reader handles it inside.
        TerminalTypes.register();
        if (exitRefusal != null && System.getProperty(PROBE_TIMEOUT) == null) {
            // JLine asks the terminal what it supports and waits 200 ms for the answer; over a
            // slow serial line the answer comes later and lands in the first command line.
            System.setProperty(PROBE_TIMEOUT, "2000");
        }
        TerminalBuilder builder = TerminalBuilder.builder().system(true).name("hyper-gen")
                .signalHandler(Terminal.SignalHandler.SIG_IGN);
        String type = TerminalTypes.choose(System.getenv("TERM"));
        if (type != null) {
            builder.type(type);
        }
        try (Terminal terminal = builder.build()) {
            if (exitRefusal != null) {
                // On the boot console the shell must stay up: no stopping it with CTRL+z or CTRL+\.
                terminal.handle(Terminal.Signal.TSTP, Terminal.SignalHandler.SIG_IGN);
                terminal.handle(Terminal.Signal.QUIT, Terminal.SignalHandler.SIG_IGN);
            }
            Size size = terminal.getSize();
            if (size.getColumns() <= 0 || size.getRows() <= 0) {
                // A serial console has no size until someone sets one; line editing needs one.
                terminal.setSize(Size.of(size.getColumns() > 0 ? size.getColumns() : 80,
                        size.getRows() > 0 ? size.getRows() : 24));
            }
            PrintWriter w = terminal.writer();
            startLines.forEach(w::println);
            w.println("hyper-gen shell: help lists the commands");
            w.flush();
            int code = InteractiveShell.run(terminal, commands, exitRefusal);
            if (ownsVms) {
                sayDestroyed(commands.machines(), w);
            }
            return code;
        }
    }

    /** Leaving destroys every VM (the caller closes the machines); say so when there are any. */
    private static void sayDestroyed(Machines machines, PrintWriter out) {
        List<Machines.Info> left = machines.list();
        if (!left.isEmpty()) {
            out.println("destroying " + (left.size() == 1 ? "vm " : "vms ")
                    + String.join(", ", left.stream().map(vm -> String.valueOf(vm.id())).toList()));
            out.flush();
        }
    }

    /** The options, or null for --help; throws with one line on a wrong argument. */
    static Options parse(String[] args, Map<String, String> env) {
        Path kernel = null;
        Path image = null;
        Path snapshot = null;
        Path clone = null;
        boolean net = false;
        boolean overcommit = false;
        boolean daemon = false;
        Path apiSocket = null;
        Path shareRoot = null;
        boolean noShares = false;
        boolean hugepages = false;
        String uplink = null;
        boolean console = "1".equals(env.get(CONSOLE_ENV)) || "true".equalsIgnoreCase(env.getOrDefault(CONSOLE_ENV, ""));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case Confine.FLAG -> { } // read by Confine: the first start restricts itself and execs again
                // --kernels and --images: the names an early boot image script used.
                case "--guest-kernel", "--guest-image", "--kernels", "--images" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new IllegalArgumentException(a + " needs a directory, e.g. " + a + " /srv/guests");
                    }
                    Path dir = Path.of(args[++i]);
                    if (a.equals("--guest-kernel") || a.equals("--kernels")) {
                        kernel = dir;
                    } else {
                        image = dir;
                    }
                }
                case "--share-root" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new IllegalArgumentException(a + " needs a directory, e.g. " + a + " /srv/shares");
                    }
                    shareRoot = Path.of(args[++i]);
                }
                case "--snapshot-dir", "--clone-dir" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new IllegalArgumentException(a + " needs a directory, e.g. " + a + " /srv/snapshots");
                    }
                    Path dir = Path.of(args[++i]);
                    if (a.equals("--snapshot-dir")) {
                        snapshot = dir;
                    } else {
                        clone = dir;
                    }
                }
                case "--uplink" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new IllegalArgumentException(a + " needs a network interface, e.g. " + a + " eth0");
                    }
                    uplink = args[++i];
                }
                case "--api-sock" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new IllegalArgumentException(a + " needs the path of a socket, e.g. " + a + " "
                                + DEFAULT_API_SOCKET);
                    }
                    apiSocket = Path.of(args[++i]);
                }
                case "--daemon" -> daemon = true;
                case "--no-shares" -> noShares = true;
                case "--console" -> console = true;
                case "--net" -> net = true;
                case "--overcommit" -> overcommit = true;
                case "--hugepages" -> hugepages = true;
                case "-h", "--help" -> {
                    return null;
                }
                default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
            }
        }
        if (uplink != null && !net) {
            throw new IllegalArgumentException("--uplink gives guests' network cards a way out: it needs --net");
        }
        return new Options(kernel, image, console, net, overcommit, snapshot, clone, daemon, apiSocket, shareRoot, noShares,
                hugepages, uplink);
    }

    /** Whether stdin is a terminal, asked of JLine's own native providers (FFM first, then exec). */
    static boolean stdinIsTerminal() {
        for (String name : new String[] {"ffm", "exec"}) {
            try {
                return TerminalProvider.load(name).isSystemStream(SystemStream.Input);
            } catch (IOException | RuntimeException | LinkageError e) {
                // try the next provider
            }
        }
        return System.console() != null && System.console().isTerminal();
    }
}
