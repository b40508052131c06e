package hg.shell.internal;

import hg.host.Catalog;
import hg.host.CatalogEntry;
import hg.host.CheckedMachines;
import hg.host.HostException;
import hg.host.Machines;
import hg.host.Sizes;
import hg.host.Shares;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The shell's commands: parsing, checks and output. Interactive and batch mode both run lines through
 * {@link #execute}; a wrong input ends as one "error: ..." line, never as a stack trace.
 */
public final class Commands {
    public static final long DEFAULT_MEMORY = 512 * Sizes.MIB;
    public static final int DEFAULT_CPUS = 1;
    static final int MAX_VIRTIO_DEVICES = VmConfig.MAX_VIRTIO_DEVICES;

    public enum Outcome { OK, FAILED, EXIT }

    /** How {@code vm_console} talks to the user: raw keystrokes on a terminal, or only the replay in batch mode. */
    public interface ConsoleFrontEnd {
        void run(int vmId, Machines machines, PrintWriter out) throws HostException;
    }

    /** What completion offers for the words after a command name; OPTION: the command's {@link Command#options}. */
    public enum ArgKind { NONE, COMMAND, KERNEL, IMAGE, VM_ID, DIR, OPTION }

    private interface Handler {
        void run(List<String> args, PrintWriter out, ConsoleFrontEnd console) throws HostException;
    }

    /**
     * @param args    what each positional argument is, then OPTION when the command takes options
     * @param options the options TAB offers
     */
    public record Command(String name, String usage, String summary, String details, List<ArgKind> args,
                          List<String> options, Handler handler) {}

    private final Catalog catalog;
    private final CheckedMachines machines;
    private final String exitRefusal;
    private final boolean netByDefault;
    private final boolean diskPaths;
    private final List<Path> snapshotRoots;
    private final Map<String, Command> commands = new LinkedHashMap<>();
    private final GuestCommands guest;
    /** The exit status of the last vm_exec of the line being run: not 0 fails the line, and a batch exits with it. */
    private int execStatus;

    /**
     * @param exitRefusal null where exit/quit leave the shell; else why they are refused (the boot image's console)
     */
    public Commands(Catalog catalog, Machines machines, String exitRefusal) {
        this(catalog, machines, exitRefusal, false);
    }

    /**
     * @param exitRefusal  null where exit/quit leave the shell; else why they are refused (the boot image's console)
     * @param netByDefault whether vm_create gives a network card without --net (the boot image's shells do)
     */
    public Commands(Catalog catalog, Machines machines, String exitRefusal, boolean netByDefault) {
        this(catalog, machines, exitRefusal, netByDefault, false);
    }

    /**
     * @param exitRefusal  null where exit/quit leave the shell; else why they are refused (the boot image's console)
     * @param netByDefault whether vm_create gives a network card without --net (the boot image's shells do)
     * @param diskPaths    whether --disk also takes a file path (the hosted shell), not only an image id
     */
    public Commands(Catalog catalog, Machines machines, String exitRefusal, boolean netByDefault, boolean diskPaths) {
        this(catalog, machines, exitRefusal, netByDefault, diskPaths, List.of());
    }

    /**
     * @param exitRefusal   null where exit/quit leave the shell; else why they are refused (the boot image's console)
     * @param netByDefault  whether vm_create gives a network card without --net (the boot image's shells do)
     * @param diskPaths     whether --disk also takes a file path (the hosted shell), not only an image id
     * @param snapshotRoots where a confined shell may write and read snapshots; empty where it is not confined
     */
    public Commands(Catalog catalog, Machines machines, String exitRefusal, boolean netByDefault, boolean diskPaths,
                    List<Path> snapshotRoots) {
        this.snapshotRoots = List.copyOf(snapshotRoots);
        this.catalog = catalog;
        // The host's checks: the same lines whether this shell runs the VMs or a daemon does.
        this.machines = machines instanceof CheckedMachines c ? c : new CheckedMachines(machines);
        this.guest = new GuestCommands(this.machines, this::vmId);
        this.exitRefusal = exitRefusal;
        this.netByDefault = netByDefault;
        this.diskPaths = diskPaths;
        add("kernel_list", "kernel_list", "list the guest kernels with their ids",
                "Lists the files of the guest kernel directory sorted by name: id, file, size and format "
                        + "(vmlinux or bzImage). Files that are not kernels are shown without an id, with the reason. "
                        + "An id stays with its file name while the shell runs: adding or removing a file changes no "
                        + "other file's id, and an id is never given to another file.",
                List.of(), (a, out, c) -> kernelList(a, out));
        add("image_list", "image_list", "list the guest root images with their ids",
                "Lists the files of the guest image directory sorted by name: id, file, size, filesystem and label. "
                        + "Files that are not ext2/3/4 images are shown without an id, with the reason. "
                        + "An id stays with its file name while the shell runs, as in kernel_list.",
                List.of(), (a, out, c) -> imageList(a, out));
        add("vm_create", "vm_create <kernel> <image> [--mem 512M] [--cpus 1] [--cmdline \"...\"] [--ro] "
                        + "[--disk <image>[,ro]]... [--net|--no-net] [--no-vhost] [--vsock PATH] [--share DIR[,tag=T][,ro]]... "
                        + "[--hugepages]",
                "boot a kernel with an image as its root disk; prints the new vm id",
                "Boots <kernel> with <image> on virtio-blk as the root disk; each is an id or a file name from "
                        + "kernel_list and image_list (vm_create 0 0, or vm_create vmlinux-6.1 busybox.ext4: a name "
                        + "is a file of the directory, without '/'). --mem is the guest RAM (default 512M; K, M or G), --cpus the number of vCPUs "
                        + "(default 1, at most what KVM allows on this host), --cmdline adds to the kernel command line (a console= there replaces the default, the virtio console hvc0; console=ttyS0 is the UART), --ro attaches the image read-only "
                        + "(an image can be used read-write by one VM at a time). --disk attaches a further image "
                        + "(an id or file name from image_list" + (diskPaths ? ", or a file path" : "")
                        + ") as a data disk, ,ro read-only; "
                        + "repeat it for more: the guest sees them as /dev/vdb, /dev/vdc, ... in the order given, under "
                        + "the same rules as the root image. A VM has at most " + MAX_VIRTIO_DEVICES + " virtio devices "
                        + "(its disks, the rng, the console, the network card and the vsock), so up to " + (MAX_VIRTIO_DEVICES - 5)
                        + " data disks with a network card. --net gives the guest a network card on a TAP in "
                        + "the host bridge hgbr0 (172.30.0.1/16), with its address from its vm id (vm_list shows it), "
                        + "--no-net none (default here: " + (netByDefault ? "--net" : "--no-net") + "). The host "
                        + "kernel's vhost-net moves the card's frames where the host has it; --no-vhost keeps them in "
                        + "hyper-gen's own data path (vm_list's last column says which). Every VM has a vsock (CID 3) "
                        + "whose host side is the Unix socket vm<ID>.vsock beside the API socket (/run/hyper-gen): a host "
                        + "program connects and writes CONNECT <port> to reach a guest port, and a guest reaches host port P "
                        + "at that path with _P appended; --vsock puts the socket at PATH instead. --share shares a host "
                        + "directory with the guest over virtio-9p (repeat it for more): the default image mounts it at "
                        + "/mnt/TAG, the tag being the directory's name unless ,tag=NAME gives one; ,ro refuses every "
                        + "change. Nothing outside the directory is reachable; guests' files get the owner the guest "
                        + "asks for, never a set-uid or set-gid bit. Such a VM cannot be snapshotted or cloned yet. "
                        + "--hugepages backs the guest's memory with 2 MiB pages: the host's hugetlbfs pool when it has "
                        + "enough free (all reserved at once; /proc/sys/vm/nr_hugepages sets its size), else transparent "
                        + "huge pages; --mem must then be whole 2 MiB. vm_list says which the VM got. A hyper-gen started "
                        + "with --hugepages puts every VM on them. A VM restored from a snapshot runs on the snapshot "
                        + "file's 4 KiB pages.",
                List.of(ArgKind.KERNEL, ArgKind.IMAGE, ArgKind.OPTION), CREATE_OPTIONS, (a, out, c) -> vmCreate(a, out));
        add("vm_list", "vm_list", "list the VMs: id, kernel, disks, vCPUs, memory, state, uptime, network",
                "Lists every VM with its id, kernel, disks (the root image, then vdb=..., with (ro) for read-only; "
                        + "then each shared directory as 9p TAG=DIR), "
                        + "vCPUs, memory (with 2M hugetlbfs or THP when on huge pages), state (running, paused, or stopped with the "
                        + "reason) and uptime. A stopped VM stays listed until vm_destroy.",
                List.of(), (a, out, c) -> vmList(a, out));
        add("vm_console", "vm_console <vm id>", "attach to a VM's console; CTRL+d detaches",
                "Shows the VM's recent console output, then passes every keystroke to the VM. CTRL+d detaches and "
                        + "returns to this prompt; the VM keeps running. In batch mode only the recent output is shown. "
                        + "The guest's output is filtered on its way to this terminal: text, colours, cursor moves and "
                        + "erases pass; title and clipboard strings (OSC), DCS/APC/PM/SOS strings and queries that "
                        + "make the terminal answer (device status, device attributes) are dropped.",
                List.of(ArgKind.VM_ID), this::vmConsole);
        add("vm_destroy", "vm_destroy <vm id>", "stop a VM and free everything it held",
                "Stops the VM's vCPUs, closes its devices and image, frees its memory and removes it from vm_list.",
                List.of(ArgKind.VM_ID), (a, out, c) -> vmDestroy(a, out));
        add("vm_pause", "vm_pause <vm id>", "stop a VM's vCPUs until vm_resume",
                "Stops the VM's vCPUs where they are; its memory, devices and console stay as they are, and vm_list "
                        + "shows it paused. vm_resume lets it go on; vm_snapshot and vm_clone take a paused VM too.",
                List.of(ArgKind.VM_ID), (a, out, c) -> vmPause(a, out));
        add("vm_resume", "vm_resume <vm id>", "let a paused VM go on",
                "Lets the vCPUs of a VM that vm_pause (or vm_restore --paused) stopped go on from where they were.",
                List.of(ArgKind.VM_ID), (a, out, c) -> vmResume(a, out));
        add("vm_snapshot", "vm_snapshot <vm id> <dir> [--stop]", "write a VM's state, memory and disks into a directory",
                "Writes a snapshot of the VM into <dir> (made if missing; a relative one is under the shell's working "
                        + "directory): 'state' (vCPUs and devices), 'memory' (the guest's RAM, pages of zeros left as "
                        + "holes) and a copy of each writable disk (vda.img, vdb.img, ...); read-only disks are named, "
                        + "not copied. The guest stands still while it is written, then goes on as it was (running or "
                        + "paused); --stop destroys the VM once the snapshot is written. Prints what was written and "
                        + "how long the guest stood still. vm_restore <dir> brings it back."
                        + (snapshotRoots.isEmpty() ? "" : " This hyper-gen is confined (--confine): <dir> must be in "
                        + places() + "; anywhere else is refused."),
                List.of(ArgKind.VM_ID, ArgKind.DIR, ArgKind.OPTION), List.of("--stop"), (a, out, c) -> vmSnapshot(a, out));
        add("vm_restore", "vm_restore <dir> [--paused]", "make a VM from a snapshot; prints the new vm id",
                "Makes a new VM from the snapshot vm_snapshot wrote into <dir> (a relative one is under the shell's "
                        + "working directory) and lets it go on from where it was; --paused leaves it paused until "
                        + "vm_resume. The VM runs on the snapshot's disk copies, so a snapshot is restored by one VM at "
                        + "a time (vm_clone makes many). A damaged snapshot, one of another format or one taken on a CPU "
                        + "with features this host lacks is refused with one line, as is memory that does not fit "
                        + "beside the running VMs'."
                        + (snapshotRoots.isEmpty() ? "" : " This hyper-gen is confined (--confine): <dir> must be in "
                        + places() + "; anywhere else is refused."),
                List.of(ArgKind.DIR, ArgKind.OPTION), List.of("--paused"), (a, out, c) -> vmRestore(a, out));
        add("vm_clone", "vm_clone <vm id> [--count N]", "make running copies of a VM; prints their ids",
                "Makes N (default 1, at most " + VmManager.MAX_CLONES + ") running clones of the VM, which goes on as "
                        + "it was. Its memory and disks are frozen once into a directory of the clone directory; the "
                        + "clones share that frozen memory (a page is copied only when a clone writes it) and see the "
                        + "disks through copy-on-write overlays of their own, so no clone sees another's writes. The "
                        + "frozen image is removed with the last clone. Each clone's agent reseeds its random numbers; "
                        + "a networked clone gets a MAC and address of its own, which its agent sets (a networked guest "
                        + "without the agent cannot be cloned: its clones are destroyed with one line).",
                List.of(ArgKind.VM_ID, ArgKind.OPTION), List.of("--count"), (a, out, c) -> vmClone(a, out));
        add("vm_exec", "vm_exec <vm id> [--timeout S] -- <command> [args...]", "run a command in a VM through its agent",
                "Runs <command> with its arguments in the VM through hg-agent on its vsock (the default image starts "
                        + "it) and prints the command's output, stdout and stderr, as it comes. When the command exits "
                        + "with a status other than 0 a line 'exit status N' follows (127: no such command), and a batch "
                        + "of commands exits with that status. --timeout ends the command after S seconds. The command "
                        + "gets no input. A guest without the agent is told in one line after a few seconds.",
                List.of(ArgKind.VM_ID, ArgKind.OPTION), List.of("--timeout", "--"), (a, out, c) -> execStatus = guest.exec(a, out));
        add("vm_cp", "vm_cp <vm id>:<path> <local> | vm_cp <local> <vm id>:<path>", "copy a file out of or into a VM",
                "Copies one file between this host and a VM through its agent, keeping its mode: <vm id>:/absolute/path "
                        + "names the guest side. Copying in, the file is written beside its place and renamed over it once "
                        + "whole; copying out likewise here. A local directory as the destination gets the guest file's name.",
                List.of(), (a, out, c) -> guest.copy(a, out));
        add("help", "help [command]", "list the commands, or explain one",
                "Without an argument lists every command; with one, explains it.",
                List.of(ArgKind.COMMAND), (a, out, c) -> help(a, out));
        Handler exit = (a, out, c) -> {
            throw new IllegalStateException("exit is handled by execute");
        };
        String exitSummary = exitRefusal == null ? "leave the shell (destroys every VM)"
                : "refused here: this console's shell stays up";
        add("exit", "exit", exitSummary,
                "Destroys every VM and leaves the shell. Refused on the boot image's console, where the shell stays up.",
                List.of(), exit);
        add("quit", "quit", exitRefusal == null ? "same as exit" : exitSummary, "Same as exit.", List.of(), exit);
    }

    static final List<String> CREATE_OPTIONS = List.of("--mem", "--cpus", "--cmdline", "--ro", "--disk", "--net",
            "--no-net", "--no-vhost", "--vsock", "--share", "--hugepages");

    private void add(String name, String usage, String summary, String details, List<ArgKind> args, Handler h) {
        add(name, usage, summary, details, args, List.of(), h);
    }

    private void add(String name, String usage, String summary, String details, List<ArgKind> args,
                     List<String> options, Handler h) {
        commands.put(name, new Command(name, usage, summary, details, args, options, h));
    }

    /** The exit status of the last vm_exec run by {@link #execute}, 0 when it succeeded or was no vm_exec. */
    public int execStatus() {
        return execStatus;
    }

    public Map<String, Command> commands() {
        return commands;
    }

    public Catalog catalog() {
        return catalog;
    }

    public Machines machines() {
        return machines;
    }

    /** Runs one line; prints its output and, if it fails, one error line. */
    public Outcome execute(String line, PrintWriter out, ConsoleFrontEnd console) {
        try {
            List<String> words = Words.split(line);
            if (words.isEmpty()) {
                return Outcome.OK;
            }
            String name = words.getFirst();
            Command cmd = commands.get(name);
            if (cmd == null) {
                throw new HostException(unknownCommand(name));
            }
            List<String> args = words.subList(1, words.size());
            if (name.equals("exit") || name.equals("quit")) {
                noArguments(name, args);
                if (exitRefusal != null) {
                    throw new HostException(exitRefusal);
                }
                return Outcome.EXIT;
            }
            execStatus = 0;
            cmd.handler().run(args, out, console);
            return execStatus == 0 ? Outcome.OK : Outcome.FAILED;
        } catch (HostException e) {
            // Control characters typed by the user must not break the one line apart.
            out.println("error: " + e.getMessage().replaceAll("\\p{Cntrl}", "?"));
            return Outcome.FAILED;
        } catch (UncheckedIOException e) {
            // A listing from a daemon that stopped answering: its line names the socket.
            out.println("error: " + e.getCause().getMessage().replaceAll("\\p{Cntrl}", "?"));
            return Outcome.FAILED;
        } catch (RuntimeException e) {
            // A bug, not a user error: still one line, and the shell goes on.
            out.println("error: internal error (" + e + "); the shell goes on");
            return Outcome.FAILED;
        } finally {
            machines.notices().forEach(out::println);
            out.flush();
        }
    }

    private String unknownCommand(String name) {
        String near = commands.keySet().stream()
                .filter(c -> distance(c, name.toLowerCase(Locale.ROOT)) <= 2)
                .findFirst().orElse(null);
        String all = String.join(", ", commands.keySet());
        return "unknown command '" + name + "'"
                + (near != null ? ": did you mean " + near + "? " : ": ")
                + "the commands are " + all + " (help explains them)";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static void noArguments(String name, List<String> args) throws HostException {
        if (!args.isEmpty()) {
            throw new HostException(name + " takes no arguments (got '" + String.join(" ", args) + "'): type just " + name);
        }
    }

    // ---- kernel_list, image_list

    private void kernelList(List<String> args, PrintWriter out) throws HostException {
        noArguments("kernel_list", args);
        List<CatalogEntry> entries = catalog.kernels();
        String problem = catalog.kernelDirProblem();
        if (entries.isEmpty()) {
            out.println(problem != null ? "no kernels: " + problem
                    : "no kernels: the guest kernel directory " + catalog.kernelDir() + " has no files");
            return;
        }
        Table t = new Table("id", "file", "size", "kind");
        for (CatalogEntry e : entries) {
            switch (e) {
                case CatalogEntry.Kernel k -> t.row(String.valueOf(k.id()), k.fileName(), Sizes.human(k.size()), k.format());
                case CatalogEntry.Rejected r -> t.row("-", r.fileName(), Sizes.human(r.size()), r.reason());
                case CatalogEntry.Image i -> t.row("-", i.fileName(), Sizes.human(i.size()), "an image, not a kernel");
            }
        }
        t.print(out);
    }

    private void imageList(List<String> args, PrintWriter out) throws HostException {
        noArguments("image_list", args);
        List<CatalogEntry> entries = catalog.images();
        String problem = catalog.imageDirProblem();
        if (entries.isEmpty()) {
            out.println(problem != null ? "no images: " + problem
                    : "no images: the guest image directory " + catalog.imageDir() + " has no files");
            return;
        }
        Table t = new Table("id", "file", "size", "kind");
        for (CatalogEntry e : entries) {
            switch (e) {
                case CatalogEntry.Image i -> t.row(String.valueOf(i.id()), i.fileName(), Sizes.human(i.size()),
                        i.label().isEmpty() ? i.fsType() + " (no label)" : i.fsType() + " label " + i.label());
                case CatalogEntry.Rejected r -> t.row("-", r.fileName(), Sizes.human(r.size()), r.reason());
                case CatalogEntry.Kernel k -> t.row("-", k.fileName(), Sizes.human(k.size()), "a kernel, not an image");
            }
        }
        t.print(out);
    }

    // ---- vm_create

    private void vmCreate(List<String> args, PrintWriter out) throws HostException {
        List<String> positional = new ArrayList<>();
        long memory = DEFAULT_MEMORY;
        int cpus = DEFAULT_CPUS;
        String cmdline = "";
        boolean readOnly = false;
        boolean net = netByDefault;
        boolean vhost = true;
        List<DataDisk> disks = new ArrayList<>();
        Path vsock = null;
        List<VmConfig.Share> shares = new ArrayList<>();
        boolean hugepages = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String value = null;
            String option = a;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                option = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (option) {
                case "--mem" -> {
                    value = value != null ? value : optionValue(args, ++i, "--mem", "a size like 512M or 2G");
                    memory = Sizes.parseMemory(value);
                    if (memory < Machines.MIN_MEMORY) {
                        throw new HostException("--mem " + value + " is too little for a Linux guest: give at least "
                                + (Machines.MIN_MEMORY / Sizes.MIB) + "M, e.g. --mem 512M");
                    }
                }
                case "--cpus" -> {
                    value = value != null ? value : optionValue(args, ++i, "--cpus", "a number of vCPUs like 2");
                    cpus = cpuCount(value, machines.maxVcpus());
                }
                case "--cmdline" -> cmdline = value != null ? value
                        : optionValue(args, ++i, "--cmdline", "the added kernel arguments in quotes, e.g. --cmdline \"quiet\"");
                case "--ro" -> {
                    if (value != null) {
                        throw new HostException("--ro takes no value: write just --ro");
                    }
                    readOnly = true;
                }
                case "--net", "--no-net" -> {
                    if (value != null) {
                        throw new HostException(option + " takes no value: write just " + option);
                    }
                    net = option.equals("--net");
                }
                case "--disk" -> {
                    value = value != null ? value : optionValue(args, ++i, "--disk",
                            "an image id or file name like 1 or data.ext4, with ,ro to attach it read-only");
                    disks.add(dataDisk(value));
                }
                case "--share" -> {
                    value = value != null ? value : optionValue(args, ++i, "--share",
                            "a directory like /srv/src, with ,tag=NAME and ,ro as wanted");
                    shares.add(share(value));
                }
                case "--vsock" -> {
                    value = value != null ? value : optionValue(args, ++i, "--vsock",
                            "the path of the vsock's host socket, e.g. /run/hyper-gen/build.vsock");
                    vsock = vsockPath(value);
                }
                case "--no-vhost" -> {
                    if (value != null) {
                        throw new HostException("--no-vhost takes no value: write just --no-vhost");
                    }
                    vhost = false;
                }
                case "--hugepages" -> {
                    if (value != null) {
                        throw new HostException("--hugepages takes no value: write just --hugepages");
                    }
                    hugepages = true;
                }
                default -> {
                    if (a.startsWith("-") && !a.matches("-\\d+")) {
                        throw new HostException("unknown option " + a + ": vm_create takes --mem SIZE, --cpus N, "
                                + "--cmdline \"...\", --ro, --disk IMAGE[,ro], --net/--no-net, --no-vhost, --vsock PATH, "
                                + "--share DIR[,tag=T][,ro] and --hugepages");
                    }
                    positional.add(a);
                }
            }
        }
        if (!vhost && !net) {
            throw new HostException("--no-vhost is about the network card, and this VM gets none: drop --no-vhost, or add --net");
        }
        String usage = "vm_create <kernel id> <image id>, e.g. vm_create 0 0";
        if (positional.isEmpty()) {
            throw new HostException("vm_create needs a kernel id and an image id: " + usage
                    + " (kernel_list and image_list show the ids)");
        }
        if (positional.size() == 1) {
            throw new HostException("vm_create needs an image id after the kernel id: vm_create "
                    + positional.getFirst() + " <image id> (image_list shows the ids)");
        }
        if (positional.size() > 2) {
            throw new HostException("vm_create takes two ids, got " + positional.size() + " ('"
                    + String.join(" ", positional) + "'): " + usage);
        }
        CatalogEntry.Kernel kernel = catalog.kernel(positional.get(0));
        CatalogEntry.Image image = catalog.image(positional.get(1));
        refuseConflict(new Machines.Disk(image.path(), readOnly), "image " + image.id() + " (" + image.fileName() + ")",
                "add --ro");
        for (DataDisk d : disks) {
            refuseConflict(d.disk(), d.name(), "add ,ro");
        }
        int id = machines.create(new Machines.Spec(kernel.path(), image.path(), memory, cpus, cmdline, readOnly,
                disks.stream().map(DataDisk::disk).toList(), net, vhost, Optional.empty(), Optional.empty(),
                Optional.ofNullable(vsock), shares, hugepages));
        out.println(id);
    }

    /** An absolute path whose directory exists: the socket file itself is made by the VMM. */
    private static Path vsockPath(String value) throws HostException {
        Path p;
        try {
            p = Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            throw new HostException("--vsock " + value + ": not a path");
        }
        if (!p.isAbsolute() || p.getFileName() == null) {
            throw new HostException("--vsock " + value + ": give an absolute path for the socket, e.g. /run/hyper-gen/build.vsock");
        }
        if (!Files.isDirectory(p.getParent())) {
            throw new HostException("--vsock " + value + ": directory " + p.getParent() + " does not exist");
        }
        return p;
    }

    /** A --disk value resolved: the file and how to attach it, and how error lines name it. */
    private record DataDisk(Machines.Disk disk, String name) {}

    /**
     * The image behind a --disk value: an image id or file name from image_list, or a path in the hosted shell;
     * ",ro" attaches it read-only.
     */
    private DataDisk dataDisk(String value) throws HostException {
        boolean ro = value.endsWith(",ro");
        String what = ro ? value.substring(0, value.length() - 3) : value;
        if (diskPaths && what.contains("/")) {
            Path p = Path.of(what);
            if (!Files.isRegularFile(p)) {
                throw new HostException("--disk " + value + ": " + what + " does not exist or is not a regular file");
            }
            return new DataDisk(new Machines.Disk(p, ro), "disk " + p);
        }
        CatalogEntry.Image image;
        try {
            image = catalog.image(what);
        } catch (HostException e) {
            throw new HostException("--disk " + value + ": " + e.getMessage()
                    + (diskPaths ? " (or give a file path)" : ""));
        }
        return new DataDisk(new Machines.Disk(image.path(), ro), "image " + image.id() + " (" + image.fileName() + ")");
    }

    /** One line naming the VM that holds {@code disk} in a way this attach cannot share; the VMM's lock is the final word. */
    private void refuseConflict(Machines.Disk disk, String name, String readOnlyHint) throws HostException {
        CheckedMachines.refuseHeld(machines.list(), disk, name, readOnlyHint + " to attach it read-only");
    }

    /** vm_list's disks column: the root image, then vdb=..., each with (ro) when read-only. */
    static String diskNames(List<Machines.AttachedDisk> disks) {
        if (disks.isEmpty()) {
            return "-";
        }
        List<String> out = new ArrayList<>();
        for (Machines.AttachedDisk d : disks) {
            String file = d.path().getFileName() + (d.readOnly() ? " (ro)" : "");
            out.add(d.device().equals("vda") ? file : d.device() + "=" + file);
        }
        return String.join(", ", out);
    }

    /** vm_list's shares after the disks: {@code , 9p tag=/dir}, with (ro) when read-only. */
    static String shareNames(List<VmConfig.Share> shares) {
        StringBuilder b = new StringBuilder();
        for (VmConfig.Share s : shares) {
            b.append(", 9p ").append(s.tag()).append('=').append(s.dir()).append(s.readOnly() ? " (ro)" : "");
        }
        return b.toString();
    }

    /** A --share value: {@code DIR[,tag=T][,ro]}; the tag defaults to the directory's own name. */
    static VmConfig.Share share(String value) throws HostException {
        String[] parts = value.split(",", -1);
        String tag = null;
        boolean ro = false;
        for (int i = 1; i < parts.length; i++) {
            if (parts[i].equals("ro")) {
                ro = true;
            } else if (parts[i].startsWith("tag=")) {
                tag = parts[i].substring(4);
            } else {
                throw new HostException("--share " + value + ": '" + parts[i] + "' is neither tag=NAME nor ro");
            }
        }
        return Shares.of(parts[0], tag, ro, "--share " + value + (tag == null ? " (,tag=NAME names it)" : ""));
    }

    private static String optionValue(List<String> args, int i, String option, String what) throws HostException {
        if (i >= args.size() || args.get(i).startsWith("--")) {
            throw new HostException(option + " needs a value: " + what);
        }
        return args.get(i);
    }

    /** The --cpus value, checked against the host's real limit (KVM's, within hg.vmm's) before anything is made. */
    private static int cpuCount(String value, int max) throws HostException {
        if (!value.matches("\\d{1,9}")) {
            throw new HostException("--cpus " + value + " is not a number: give the number of vCPUs, e.g. --cpus 2");
        }
        int n = Integer.parseInt(value);
        if (n < 1 || n > max) {
            throw new HostException("--cpus " + value + " is out of range: this host runs 1 to " + max
                    + " vCPUs per VM, e.g. --cpus 2");
        }
        return n;
    }

    // ---- vm_list, vm_console, vm_destroy

    private void vmList(List<String> args, PrintWriter out) throws HostException {
        noArguments("vm_list", args);
        List<Machines.Info> vms = machines.list();
        if (vms.isEmpty()) {
            out.println("no VMs: vm_create <kernel id> <image id> makes one");
            return;
        }
        Table t = new Table("id", "kernel", "disks", "vcpus", "memory", "state", "uptime", "net");
        for (Machines.Info vm : vms) {
            String state = switch (vm.state()) {
                case Machines.State.Running r -> "running";
                case Machines.State.Paused p -> "paused";
                case Machines.State.Stopped s -> "stopped: " + s.reason();
            };
            t.row(String.valueOf(vm.id()), vm.kernel().getFileName().toString(),
                    diskNames(vm.disks()) + shareNames(vm.shares()), String.valueOf(vm.cpus()),
                    Sizes.human(vm.memoryBytes()) + (vm.hugePages().isEmpty() ? "" : " " + vm.hugePages()), state,
                    uptime(vm.uptime()), vm.net());
        }
        t.print(out);
        if (vms.stream().anyMatch(vm -> !vm.net().equals("-"))) {
            String reach = machines.networkReach();
            if (!reach.isEmpty()) {
                out.println("network: " + reach);
            }
        }
    }

    static String uptime(Duration d) {
        long s = Math.max(0, d.toSeconds());
        String hms = String.format(Locale.ROOT, "%d:%02d:%02d", (s / 3600) % 24, (s / 60) % 60, s % 60);
        return s >= 86400 ? (s / 86400) + "d " + hms : hms;
    }

    private void vmConsole(List<String> args, PrintWriter out, ConsoleFrontEnd console) throws HostException {
        int id = vmId("vm_console", args);
        console.run(id, machines, out);
    }

    private void vmDestroy(List<String> args, PrintWriter out) throws HostException {
        int id = vmId("vm_destroy", args);
        machines.destroy(id);
        out.println("vm " + id + " destroyed");
    }

    // ---- vm_pause, vm_resume, vm_snapshot, vm_restore, vm_clone

    private void vmPause(List<String> args, PrintWriter out) throws HostException {
        int id = vmId("vm_pause", args);
        machines.pause(id);
        out.println("vm " + id + " paused");
    }

    private void vmResume(List<String> args, PrintWriter out) throws HostException {
        int id = vmId("vm_resume", args);
        machines.resume(id);
        out.println("vm " + id + " resumed");
    }

    private void vmSnapshot(List<String> args, PrintWriter out) throws HostException {
        String usage = "vm_snapshot <vm id> <dir> [--stop], e.g. vm_snapshot 1 /tmp/snap";
        Parsed p = parse("vm_snapshot", args, List.of("--stop"), List.of(), usage);
        if (p.positional().size() != 2) {
            throw new HostException(p.positional().size() < 2
                    ? "vm_snapshot needs a vm id and a directory: " + usage + " (" + knownVms() + ")"
                    : "vm_snapshot takes a vm id and one directory, got '" + String.join(" ", p.positional()) + "': " + usage);
        }
        int id = vmId("vm_snapshot", p.positional().subList(0, 1));
        if (machines.state(id) instanceof Machines.State.Stopped s) {
            // Before the directory: a stopped VM is the first thing wrong, whatever directory was given.
            throw new HostException("vm " + id + " has stopped (" + s.reason() + "): there is nothing to snapshot");
        }
        boolean stop = p.flags().contains("--stop");
        Path dir = snapshotDir("vm_snapshot", p.positional().get(1));
        Machines.Snapshot s = machines.snapshot(id, dir, stop);
        out.println("vm " + id + ": snapshot in " + s.dir() + " (" + Sizes.human(s.memoryBytes()) + " memory, "
                + Sizes.human(s.memoryDataBytes()) + " written, " + Sizes.human(s.diskBytes()) + " disks, paused "
                + s.paused().toMillis() + " ms)" + (stop ? "; vm " + id + " destroyed" : ""));
    }

    private void vmRestore(List<String> args, PrintWriter out) throws HostException {
        String usage = "vm_restore <dir> [--paused], e.g. vm_restore /tmp/snap";
        Parsed p = parse("vm_restore", args, List.of("--paused"), List.of(), usage);
        if (p.positional().size() != 1) {
            throw new HostException(p.positional().isEmpty() ? "vm_restore needs the directory of a snapshot: " + usage
                    : "vm_restore takes one directory, got '" + String.join(" ", p.positional()) + "': " + usage);
        }
        Path dir = snapshotDir("vm_restore", p.positional().getFirst());
        out.println(machines.restore(dir, p.flags().contains("--paused")));
    }

    private void vmClone(List<String> args, PrintWriter out) throws HostException {
        String usage = "vm_clone <vm id> [--count N], e.g. vm_clone 1 --count 3";
        Parsed p = parse("vm_clone", args, List.of(), List.of("--count"), usage);
        if (p.positional().size() != 1) {
            throw new HostException(p.positional().isEmpty() ? "vm_clone needs a vm id: " + usage + " (" + knownVms() + ")"
                    : "vm_clone takes one vm id, got '" + String.join(" ", p.positional()) + "': " + usage);
        }
        int count = 1;
        String value = p.values().get("--count");
        if (value != null) {
            if (!value.matches("\\d{1,9}")) {
                throw new HostException("--count " + value + " is not a number: give how many clones, e.g. --count 2");
            }
            count = Integer.parseInt(value);
            if (count < 1 || count > CheckedMachines.MAX_CLONES) {
                throw new HostException("--count " + value + " is out of range: vm_clone makes 1 to "
                        + CheckedMachines.MAX_CLONES + " clones at once, e.g. --count 2");
            }
        }
        int id = vmId("vm_clone", p.positional());
        List<Integer> ids = machines.clone(id, count);
        out.println(ids.stream().map(String::valueOf).collect(Collectors.joining(" ")));
    }

    /** A command line of positional words, flags and options with a value (--opt V or --opt=V). */
    private record Parsed(List<String> positional, List<String> flags, Map<String, String> values) {}

    private static Parsed parse(String command, List<String> args, List<String> flags, List<String> valued,
                                String usage) throws HostException {
        List<String> positional = new ArrayList<>();
        List<String> given = new ArrayList<>();
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                positional.add(a);
                continue;
            }
            int eq = a.indexOf('=');
            String option = eq > 0 ? a.substring(0, eq) : a;
            if (flags.contains(option)) {
                if (eq > 0) {
                    throw new HostException(option + " takes no value: write just " + option);
                }
                given.add(option);
            } else if (valued.contains(option)) {
                values.put(option, eq > 0 ? a.substring(eq + 1) : optionValue(args, ++i, option, "a number, e.g. "
                        + option + " 2"));
            } else {
                List<String> all = new ArrayList<>(flags);
                valued.forEach(v -> all.add(v + " N"));
                throw new HostException("unknown option " + a + ": " + command + " takes "
                        + String.join(", ", all) + " (" + usage + ")");
            }
        }
        return new Parsed(positional, given, values);
    }

    /**
     * A snapshot directory as the user gave it, against the working directory; a confined shell refuses one
     * outside its writable roots up front (Landlock would refuse each file, less clearly).
     */
    private Path snapshotDir(String command, String word) throws HostException {
        Path dir;
        try {
            dir = Path.of(word).toAbsolutePath().normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new HostException("'" + word + "' is not a directory name: " + e.getReason());
        }
        if (snapshotRoots.isEmpty()) {
            return dir;
        }
        Path real = existingRealPath(dir);
        for (Path root : snapshotRoots) {
            if (real.startsWith(existingRealPath(root.toAbsolutePath().normalize()))) {
                return dir;
            }
        }
        throw new HostException(command + ": " + dir + " is outside what this confined hyper-gen (--confine) may "
                + "write: give a directory in " + places());
    }

    private String places() {
        return snapshotRoots.stream().map(Path::toString).collect(Collectors.joining(", "));
    }

    /** The real path of the nearest existing ancestor, with the rest appended: a link may not lead out of a root. */
    private static Path existingRealPath(Path p) {
        Path rest = null;
        for (Path at = p; at != null; at = at.getParent()) {
            try {
                Path real = at.toRealPath();
                return rest == null ? real : real.resolve(rest);
            } catch (java.io.IOException | SecurityException e) {
                Path name = at.getFileName();
                if (name == null) {
                    break;
                }
                rest = rest == null ? name : name.resolve(rest);
            }
        }
        return p;
    }

    /** The one VM id argument of vm_console, vm_destroy and the like, checked to exist. */
    private int vmId(String command, List<String> args) throws HostException {
        if (args.isEmpty()) {
            throw new HostException(command + " needs a vm id: " + command + " <vm id>, e.g. " + command + " 1 ("
                    + knownVms() + ")");
        }
        if (args.size() > 1) {
            throw new HostException(command + " takes one vm id, got '" + String.join(" ", args) + "': "
                    + command + " <vm id>");
        }
        String word = args.getFirst();
        if (!word.matches("\\d{1,9}")) {
            throw new HostException("'" + word + "' is not a vm id: ids are numbers (" + knownVms() + ")");
        }
        int id = Integer.parseInt(word);
        machines.state(id); // says there is no such VM
        return id;
    }

    private String knownVms() {
        return CheckedMachines.knownVms(machines.list());
    }

    // ---- help

    /** Asked of the VMM when help is shown: the limit follows from the host's memory. */
    private String memoryRule() {
        return "Guest memory is taken as the guest uses it, so vm_create weighs the memory of all running VMs together "
                + "against the host's: " + machines.memoryRule() + ".";
    }

    /** Where a guest's card reaches on this host, when it says. */
    private String networkReach() {
        String reach = machines.networkReach();
        return reach.isEmpty() ? "" : " Network: " + reach + ".";
    }

    private void help(List<String> args, PrintWriter out) throws HostException {
        if (args.isEmpty()) {
            Table t = new Table("command", "what it does");
            for (Command c : commands.values()) {
                t.row(c.name(), c.summary());
            }
            t.print(out);
            out.println("help <command> shows its arguments; TAB completes commands, ids, directories and options; "
                    + "up/down recall lines.");
            return;
        }
        if (args.size() > 1) {
            throw new HostException("help takes one command name, e.g. help vm_create");
        }
        Command c = commands.get(args.getFirst());
        if (c == null) {
            throw new HostException("no command '" + args.getFirst() + "' to explain: the commands are "
                    + String.join(", ", commands.keySet()));
        }
        out.println("usage: " + c.usage());
        out.println(c.details() + (c.name().equals("vm_create") ? " " + memoryRule() + networkReach() : ""));
    }
}
