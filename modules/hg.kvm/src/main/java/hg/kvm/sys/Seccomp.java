package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A seccomp deny-list: a classic BPF program that refuses, with EPERM, the system calls a VMM never
 * needs and allows the rest. Calls of another architecture (i386 through int 0x80) and of the x32
 * ABI are refused whole, since their numbers differ. Installed with SECCOMP_FILTER_FLAG_TSYNC, so
 * every thread of the process has it; it cannot be removed, and it passes to new threads.
 */
public final class Seccomp {
    private Seccomp() {}

    public static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    public static final int X32_SYSCALL_BIT = 0x40000000;
    public static final int RET_ALLOW = 0x7fff0000;
    public static final int RET_ERRNO = 0x00050000;
    public static final int EPERM = 1;
    /** offsetof(struct seccomp_data, nr) and (…, arch). */
    public static final int DATA_NR = 0;
    public static final int DATA_ARCH = 4;

    /** BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_JMP|BPF_JGE|BPF_K, BPF_RET|BPF_K. */
    public static final int LD_W_ABS = 0x20;
    public static final int JEQ_K = 0x15;
    public static final int JGE_K = 0x35;
    public static final int RET_K = 0x06;

    static final long SYS_SECCOMP = 317;
    static final long SECCOMP_SET_MODE_FILTER = 1;
    static final long SECCOMP_GET_ACTION_AVAIL = 2;
    static final long SECCOMP_FILTER_FLAG_TSYNC = 1;
    /** sizeof(struct sock_filter) and sizeof(struct sock_fprog) on x86-64. */
    public static final int SOCK_FILTER_SIZE = 8;
    public static final int SOCK_FPROG_SIZE = 16;

    /** One struct sock_filter: {@code code}, the jump offsets if true and false, and the constant {@code k}. */
    public record Insn(int code, int jt, int jf, int k) {}

    /** What a VMM never calls, by x86-64 number: running programs, debugging, mounts, kernels, keys, namespaces. */
    public static final Map<String, Integer> DENIED = denied();

    private static Map<String, Integer> denied() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("execve", 59);
        m.put("execveat", 322);
        m.put("ptrace", 101);
        m.put("process_vm_readv", 310);
        m.put("process_vm_writev", 311);
        m.put("pidfd_getfd", 438);
        m.put("mount", 165);
        m.put("umount2", 166);
        m.put("pivot_root", 155);
        m.put("chroot", 161);
        m.put("open_tree", 428);
        m.put("move_mount", 429);
        m.put("fsopen", 430);
        m.put("fsconfig", 431);
        m.put("fsmount", 432);
        m.put("fspick", 433);
        m.put("mount_setattr", 442);
        m.put("swapon", 167);
        m.put("swapoff", 168);
        m.put("kexec_load", 246);
        m.put("kexec_file_load", 320);
        m.put("reboot", 169);
        m.put("init_module", 175);
        m.put("finit_module", 313);
        m.put("delete_module", 176);
        m.put("bpf", 321);
        m.put("perf_event_open", 298);
        m.put("keyctl", 250);
        m.put("add_key", 248);
        m.put("request_key", 249);
        m.put("setns", 308);
        m.put("unshare", 272);
        m.put("open_by_handle_at", 304);
        m.put("iopl", 172);
        m.put("ioperm", 173);
        m.put("acct", 163);
        m.put("quotactl", 179);
        m.put("syslog", 103);
        m.put("uselib", 134);
        m.put("settimeofday", 164);
        m.put("clock_settime", 227);
        m.put("adjtimex", 159);
        m.put("clock_adjtime", 305);
        return Collections.unmodifiableMap(m);
    }

    /** Numbers a leaf of the filter's search tree compares one by one. */
    private static final int LEAF = 4;

    /**
     * The filter for {@code denied} (x86-64 numbers): a pure function of the list. Layout: load the
     * architecture, refuse any but x86-64; load the number, refuse x32 numbers; then a binary search over
     * the sorted denied numbers (JGE nodes down to leaves of at most {@value #LEAF} JEQs, each leaf ending
     * in allow), and one deny at the end. Every system call of the VMM runs this filter, without a BPF JIT
     * in the boot image's kernel: an allowed call costs about a dozen instructions instead of one per
     * denied number.
     */
    public static List<Insn> denyFilter(List<Integer> denied) {
        int[] sorted = denied.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
        int total = 5 + treeSize(0, sorted.length) + 1;
        if (total > 256) {
            // classic BPF jumps forward by a byte at most: the farthest is a leaf's to the final deny
            throw new IllegalArgumentException("too many system calls for one filter: " + sorted.length);
        }
        int deny = total - 1;
        List<Insn> p = new ArrayList<>(total);
        p.add(new Insn(LD_W_ABS, 0, 0, DATA_ARCH));
        p.add(new Insn(JEQ_K, 1, 0, AUDIT_ARCH_X86_64));
        p.add(new Insn(RET_K, 0, 0, RET_ERRNO | EPERM));
        p.add(new Insn(LD_W_ABS, 0, 0, DATA_NR));
        p.add(new Insn(JGE_K, deny - 4 - 1, 0, X32_SYSCALL_BIT));
        emitTree(p, sorted, 0, sorted.length, deny);
        p.add(new Insn(RET_K, 0, 0, RET_ERRNO | EPERM));
        return List.copyOf(p);
    }

    /** Instructions of the search over {@code [lo, hi)} of the sorted numbers. */
    private static int treeSize(int lo, int hi) {
        if (hi - lo <= LEAF) {
            return hi - lo + 1;
        }
        int mid = (lo + hi) >>> 1;
        return 1 + treeSize(lo, mid) + treeSize(mid, hi);
    }

    private static void emitTree(List<Insn> p, int[] sorted, int lo, int hi, int deny) {
        if (hi - lo <= LEAF) {
            for (int i = lo; i < hi; i++) {
                p.add(new Insn(JEQ_K, deny - p.size() - 1, 0, sorted[i]));
            }
            p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
            return;
        }
        int mid = (lo + hi) >>> 1;
        // numbers at or above sorted[mid] skip the lower half's instructions
        p.add(new Insn(JGE_K, treeSize(lo, mid), 0, sorted[mid]));
        emitTree(p, sorted, lo, mid, deny);
        emitTree(p, sorted, mid, hi, deny);
    }

    /** Whether this kernel takes seccomp filters (CONFIG_SECCOMP_FILTER): it answers which actions it knows. */
    public static boolean available() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment action = a.allocate(JAVA_INT);
            action.set(JAVA_INT, 0, RET_ERRNO);
            return Libc.syscall(SYS_SECCOMP, SECCOMP_GET_ACTION_AVAIL, 0, action.address()) == 0;
        }
    }

    /**
     * Installs {@code program} on every thread of the process (TSYNC). Needs no_new_privs (or
     * CAP_SYS_ADMIN); throws when the kernel refuses, or names the thread that could not take it.
     */
    public static void install(List<Insn> program) {
        install(program, SECCOMP_FILTER_FLAG_TSYNC);
    }

    /**
     * Installs {@code program} on the calling thread alone; the threads it starts afterwards inherit it.
     * Needs no_new_privs (or CAP_SYS_ADMIN).
     */
    public static void installOnCallingThread(List<Insn> program) {
        install(program, 0);
    }

    private static void install(List<Insn> program, long flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment filter = a.allocate((long) SOCK_FILTER_SIZE * program.size(), 8);
            for (int i = 0; i < program.size(); i++) {
                Insn insn = program.get(i);
                long at = (long) i * SOCK_FILTER_SIZE;
                filter.set(JAVA_SHORT, at, (short) insn.code());
                filter.set(JAVA_BYTE, at + 2, (byte) insn.jt());
                filter.set(JAVA_BYTE, at + 3, (byte) insn.jf());
                filter.set(JAVA_INT, at + 4, insn.k());
            }
            MemorySegment fprog = a.allocate(SOCK_FPROG_SIZE, 8);
            fprog.set(JAVA_SHORT, 0, (short) program.size());
            fprog.set(JAVA_LONG, 8, filter.address());
            long r = Libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, flags, fprog.address());
            if (r < 0) {
                throw new KvmException("seccomp SECCOMP_SET_MODE_FILTER", (int) -r);
            }
            if (r > 0) {
                throw new KvmException("seccomp SECCOMP_FILTER_FLAG_TSYNC", "thread " + r + " could not take the filter");
            }
        }
    }

    /** Installs the filter that refuses {@link #DENIED} on every thread. */
    public static void installDenyList() {
        install(denyFilter(List.copyOf(DENIED.values())));
    }

    /** Installs the filter that refuses {@link #DENIED} on the calling thread and the threads it starts later. */
    public static void installDenyListOnCallingThread() {
        installOnCallingThread(denyFilter(List.copyOf(DENIED.values())));
    }

    /** How many seccomp filters the calling thread has (Seccomp_filters of /proc/thread-self/status). */
    public static int filters() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
                if (line.startsWith("Seccomp_filters:")) {
                    return Integer.parseInt(line.substring("Seccomp_filters:".length()).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return 0;
    }
}
