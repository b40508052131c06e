package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * A process that restricts itself once set up, in two steps.
 *
 * <p>{@link #restrictAndExec}: on the calling thread, no_new_privs, a Landlock domain limited to the
 * given roots and a capability bounding set of CAP_NET_ADMIN alone, then execve of the same program
 * with the same arguments. Landlock and the bounding set belong to the calling thread (a JVM already
 * has many), but an execve passes them to the new process, whose threads all inherit them.
 *
 * <p>{@link #lockDown}: in the new process, once it has what it needs, a seccomp filter on every
 * thread that refuses {@link Seccomp#DENIED}, execve among them: no second exec is possible then.
 */
public final class Confinement {
    private Confinement() {}

    /** What this kernel offers. */
    public record Support(int landlockAbi, String landlockAbsence, boolean seccomp) {
        /** Lines for kvm-check. */
        public List<String> lines() {
            List<String> out = new ArrayList<>();
            out.add(landlockAbi > 0
                    ? "confinement: Landlock ABI " + landlockAbi + (landlockAbi < 3
                            ? " (it cannot restrict truncate, ioctl or connecting to a path socket)" : "")
                    : "confinement: no Landlock: " + landlockAbsence);
            out.add(seccomp ? "confinement: seccomp filters available"
                    : "confinement: no seccomp filters (CONFIG_SECCOMP, CONFIG_SECCOMP_FILTER)");
            return out;
        }
    }

    /** What is in force for this process. */
    public record State(boolean noNewPrivs, boolean landlock, int landlockAbi, int seccompFilters,
                        int seccompDenied, boolean everyThread, long capBounding) {
        /** One line: what confines this process. */
        public String describe() {
            List<String> parts = new ArrayList<>();
            parts.add(landlock ? "Landlock (ABI " + landlockAbi + ") limits files to the roots given at start"
                    : "no Landlock");
            if (seccompDenied > 0) {
                parts.add("seccomp refuses " + seccompDenied + " system calls (exec among them) "
                        + (everyThread ? "on every thread" : "on the confining thread and the threads it starts"));
            } else {
                parts.add(seccompFilters > 0 ? seccompFilters + " seccomp filter(s)" : "no seccomp filter");
            }
            parts.add(noNewPrivs ? "no_new_privs" : "no no_new_privs");
            parts.add("capabilities " + (capBounding == ALL_CAPS ? "unbounded" : Capabilities.names(capBounding)));
            return String.join("; ", parts);
        }
    }

    private static final long ALL_CAPS = probeAllCaps();
    private static volatile boolean seccompInstalled;

    private static long probeAllCaps() {
        try {
            int last = Integer.parseInt(Files.readString(Path.of("/proc/sys/kernel/cap_last_cap")).trim());
            return last >= 63 ? -1L : (1L << (last + 1)) - 1;
        } catch (IOException | RuntimeException e) {
            return -1L;
        }
    }

    public static Support support() {
        int abi = Landlock.abi();
        return new Support(abi, abi > 0 ? "" : Landlock.absence(), Seccomp.available());
    }

    public static State state() {
        return new State(NoNewPrivs.isSet(), Landlock.inForce(), Landlock.abi(), Seccomp.filters(),
                seccompInstalled ? Seccomp.DENIED.size() : 0, true, Capabilities.bounding());
    }

    /**
     * Restricts the calling thread (no_new_privs, Landlock on {@code readOnly} and {@code readWrite},
     * the bounding set down to CAP_NET_ADMIN) and execs this same program with {@code jvmOptions}
     * put first and {@code env} added to the environment. Returns only by throwing; once Landlock
     * is applied a failure leaves this thread restricted, so the caller should exit.
     */
    public static void restrictAndExec(List<Path> readOnly, List<Path> readWrite, List<String> jvmOptions,
                                       Map<String, String> env) {
        Path exe;
        List<String> argv;
        try {
            exe = Files.readSymbolicLink(Path.of("/proc/self/exe"));
            argv = new ArrayList<>(List.of(new String(Files.readAllBytes(Path.of("/proc/self/cmdline")),
                    StandardCharsets.UTF_8).split("\0")));
        } catch (IOException e) {
            throw new KvmException("reading /proc/self/exe and /proc/self/cmdline", e.getMessage());
        }
        argv.addAll(1, jvmOptions);
        Map<String, String> environment = new TreeMap<>(System.getenv());
        environment.putAll(env);
        // The new JVM's /proc/self is this one's: this descriptor, kept across the exec, keeps its entry
        // (and so its Landlock rule) from being dropped from the cache and made again without the rule.
        Libc.tryOpen("/proc/self", Libc.O_PATH);
        NoNewPrivs.set();
        Landlock.restrictSelf(readOnly, readWrite);
        Capabilities.dropBoundingExcept(Capabilities.CAP_NET_ADMIN);
        System.out.flush();
        System.err.flush();
        execve(exe, argv, environment);
    }

    private static void execve(Path exe, List<String> argv, Map<String, String> env) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = strings(a, argv);
            List<String> pairs = env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
            MemorySegment envp = strings(a, pairs);
            MemorySegment state = Libc.newCallState(a);
            int r = (int) Libc.EXECVE.invokeExact(state, a.allocateFrom(exe.toString()), args, envp);
            throw new KvmException("execve " + exe, r < 0 ? Libc.errno(state) : 0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** A NULL-terminated char *[] of {@code list}. */
    private static MemorySegment strings(Arena a, List<String> list) {
        MemorySegment array = a.allocate(ADDRESS, list.size() + 1L);
        for (int i = 0; i < list.size(); i++) {
            array.setAtIndex(ADDRESS, i, a.allocateFrom(list.get(i)));
        }
        array.setAtIndex(ADDRESS, list.size(), MemorySegment.NULL);
        return array;
    }

    /**
     * Confines the calling thread as {@link #restrictAndExec} and {@link #lockDown} together confine a
     * process (no_new_privs, Landlock on the roots, the bounding set, the seccomp deny-list), without the
     * exec: for a program that runs a VMM on one thread and must keep other threads free, such as a
     * benchmark that starts its peer's processes. Threads started by this thread afterwards inherit all of
     * it. Returns what is in force on this thread; throws when any step fails, leaving this thread partly
     * confined, so the caller should end the thread.
     */
    public static State confineCallingThread(List<Path> readOnly, List<Path> readWrite) {
        NoNewPrivs.set();
        Landlock.restrictSelf(readOnly, readWrite);
        Capabilities.dropBoundingExcept(Capabilities.CAP_NET_ADMIN);
        Seccomp.installDenyListOnCallingThread();
        return new State(NoNewPrivs.isSet(), Landlock.inForce(), Landlock.abi(), Seccomp.filters(),
                Seccomp.DENIED.size(), false, Capabilities.bounding());
    }

    /**
     * Installs the seccomp deny-list on every thread (setting no_new_privs first if need be).
     * Throws when the kernel has no seccomp filters or refuses.
     */
    public static void lockDown() {
        if (!NoNewPrivs.isSet()) {
            NoNewPrivs.set();
        }
        Seccomp.installDenyList();
        seccompInstalled = true;
    }
}
