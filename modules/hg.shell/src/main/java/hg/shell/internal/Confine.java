package hg.shell.internal;

import hg.host.DirectoryCatalog;
import hg.kvm.sys.Confinement;
import hg.kvm.sys.VmmRoots;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --confine}: the shell restricts itself once set up. First start: the roots it was given
 * (guest kernel and image directories, the snapshot and clone directories, its own runtime, the devices a VMM opens, the few system
 * files the JVM reads) become its only files through Landlock, no_new_privs is set and the
 * capabilities are bounded to CAP_NET_ADMIN, then the same JVM is exec'd with {@link #MARKER} set.
 * In that new process, once the VMM is made, a seccomp filter on every thread refuses exec and the
 * other calls a VMM never needs. A kernel without Landlock or seccomp gets one warning line and the
 * shell goes on with what there is.
 */
public final class Confine {
    private Confine() {}

    public static final String FLAG = "--confine";
    /** Set in the exec'd process: the Landlock domain and the capability bound are in force. */
    public static final String MARKER = "HG_CONFINED";
    /**
     * A test hook: once confined, try exec, reading /etc/shadow and reading the file this names
     * (outside the roots), and print one line each.
     */
    public static final String PROBE = "HG_CONFINEMENT_PROBE";
    static final Path RUNTIME = VmmRoots.RUNTIME;
    static final Path TMP = RUNTIME.resolve("tmp");

    public static boolean asked(String[] args) {
        return Arrays.asList(args).contains(FLAG);
    }

    /** Whether this is the first start of a --confine shell: it has to restrict itself and exec again. */
    public static boolean firstStart(String[] args, Map<String, String> env) {
        return asked(args) && !"1".equals(env.get(MARKER));
    }

    /**
     * First start: restricts this thread to the roots and execs the same JVM; returns only when the
     * kernel lacks Landlock (one warning line on {@code out}). Exits when the exec fails after the
     * restriction, as this thread alone would be confined then.
     */
    public static void restrictAndExec(Path kernelDir, Path imageDir, List<Path> snapshotDirs, PrintStream out) {
        Confinement.Support support = Confinement.support();
        if (support.landlockAbi() <= 0) {
            out.println("warning: --confine: " + support.landlockAbsence()
                    + "; hyper-gen runs without file confinement" + (support.seccomp() ? "" : " or seccomp"));
            out.flush();
            return;
        }
        makeRuntime();
        makeSnapshotDirs(snapshotDirs, out);
        VmmRoots roots = roots(kernelDir, imageDir, snapshotDirs, System.getProperty("java.home"),
                System.getProperty("jdk.module.path"), consoles());
        try {
            Confinement.restrictAndExec(roots.readOnly(), roots.readWrite(), List.of("-XX:-UsePerfData",
                    "-Dorg.jline.terminal.exec=false", "-Djava.io.tmpdir=" + TMP), Map.of(MARKER, "1"));
        } catch (RuntimeException e) {
            out.println("error: --confine: " + e.getMessage());
            out.flush();
            System.exit(1);
        }
    }

    /** /run/hyper-gen and its tmp, made before they become roots (a root must exist). */
    private static void makeRuntime() {
        try {
            Files.createDirectories(RUNTIME);
            if (!Files.isDirectory(TMP)) {
                Files.createDirectories(TMP, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not ours to make (a hosted shell without root): the roots leave it out
        }
    }

    /** The snapshot and clone directories, made before they become roots: a root that does not exist is left out. */
    private static void makeSnapshotDirs(List<Path> dirs, PrintStream out) {
        for (Path d : dirs) {
            try {
                Files.createDirectories(d);
            } catch (IOException | RuntimeException e) {
                out.println("warning: --confine: the snapshot directory " + d + " cannot be made ("
                        + DirectoryCatalog.reason(e) + "): snapshots and clones there will be refused");
                out.flush();
            }
        }
    }

    /**
     * Where a confined shell may write and read snapshots: the snapshot and clone directories, the image
     * directory and its runtime, the writable roots that are directories of files.
     */
    public static List<Path> snapshotRoots(Path imageDir, List<Path> snapshotDirs) {
        Set<Path> places = new LinkedHashSet<>(snapshotDirs);
        if (imageDir != null) {
            places.add(imageDir);
        }
        places.add(RUNTIME);
        return places.stream().map(p -> p.toAbsolutePath().normalize()).distinct().toList();
    }

    /** The terminals stdin, stdout and stderr are on, when they are device files. */
    private static List<Path> consoles() {
        List<Path> ttys = new ArrayList<>();
        for (int fd = 0; fd <= 2; fd++) {
            try {
                Path target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd));
                if (target.startsWith("/dev/")) {
                    ttys.add(target);
                }
            } catch (IOException | RuntimeException e) {
                // not a link to a path: a pipe or a socket needs no root
            }
        }
        return ttys;
    }

    /** The roots for a shell on {@code kernelDir} and {@code imageDir}, running from {@code javaHome}. */
    public static VmmRoots roots(Path kernelDir, Path imageDir, String javaHome, String modulePath, List<Path> consoles) {
        return roots(kernelDir, imageDir, List.of(), javaHome, modulePath, consoles);
    }

    /**
     * The roots for a shell on {@code kernelDir} and {@code imageDir}, writing snapshots and clones in
     * {@code snapshotDirs}, running from {@code javaHome}.
     */
    public static VmmRoots roots(Path kernelDir, Path imageDir, List<Path> snapshotDirs, String javaHome, String modulePath,
                                 List<Path> consoles) {
        return VmmRoots.of(kernelDir, imageDir, snapshotDirs, javaHome, modulePath, consoles);
    }

    /**
     * In the exec'd process, once the VMM is made: the seccomp filter. Returns the start lines: what
     * confinement is in force (one line), a warning when the kernel takes no filter, and the probe's
     * lines when {@link #PROBE} is set.
     */
    public static List<String> lockDown(Map<String, String> env) {
        List<String> lines = new ArrayList<>();
        try {
            if (Confinement.support().seccomp()) {
                Confinement.lockDown();
            } else {
                lines.add("warning: --confine: this kernel takes no seccomp filters (CONFIG_SECCOMP_FILTER): "
                        + "exec and the other calls a VMM never needs stay allowed");
            }
        } catch (RuntimeException e) {
            lines.add("warning: --confine: the seccomp filter could not be installed: " + e.getMessage());
        }
        lines.add("confinement: " + Confinement.state().describe());
        String probe = env.get(PROBE);
        if (probe != null && !probe.isBlank()) {
            lines.addAll(probe(Path.of(probe)));
        }
        return lines;
    }

    /** Tries what confinement should refuse; one line each. */
    static List<String> probe(Path outside) {
        List<String> lines = new ArrayList<>();
        try {
            Process p = new ProcessBuilder("/bin/true").start();
            p.waitFor();
            lines.add("probe: exec /bin/true: allowed");
        } catch (IOException e) {
            lines.add("probe: exec /bin/true: refused (" + e.getMessage().lines().findFirst().orElse("") + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            lines.add("probe: exec /bin/true: interrupted");
        }
        lines.add(read(Path.of("/etc/shadow")));
        lines.add(read(outside));
        return lines;
    }

    private static String read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            in.read();
            return "probe: read " + file + ": allowed";
        } catch (IOException e) {
            return "probe: read " + file + ": refused (" + e + ")";
        }
    }

    /**
     * Why {@code file} cannot be read, in one line, when the cause is that this shell is confined and
     * the file is outside its roots (a link out of the kernel directory, say); else {@code reason}.
     */
    public static String explain(Path file, String reason) {
        if (reason == null || !reason.contains("AccessDenied") || !"1".equals(System.getenv(MARKER))) {
            return reason;
        }
        String real;
        try {
            real = file.toRealPath().toString();
        } catch (IOException | RuntimeException e) {
            real = file.toString();
        }
        return "cannot be read: it is " + real + ", outside the roots this confined hyper-gen (--confine) was "
                + "given at start (the guest kernel and image directories)";
    }
}
