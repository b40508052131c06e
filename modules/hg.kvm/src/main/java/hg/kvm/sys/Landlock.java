package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Landlock: a task limits its own file access to a few hierarchies, for good (the domain passes to
 * its threads and children and across execve). The rights handled are those the running kernel's
 * ABI knows; read-only roots get reading and executing, read-write roots every handled right.
 *
 * <p>The domain belongs to the thread that calls {@link #restrictSelf}: other threads keep their
 * old one (Linux 6.1 has no flag to sync them), so a JVM applies it on one thread and execs.
 * Landlock checks opening and path changes; what the kernel's ABI does not know stays allowed:
 * ABI 2 (Linux 6.1) cannot restrict truncate (ABI 3), ioctl on devices (ABI 5) or connecting to a
 * path socket (ABI 6 scopes only abstract sockets and signals). Getting a file's attributes is never
 * checked.
 */
public final class Landlock {
    private Landlock() {}

    static final long SYS_LANDLOCK_CREATE_RULESET = 444;
    static final long SYS_LANDLOCK_ADD_RULE = 445;
    static final long SYS_LANDLOCK_RESTRICT_SELF = 446;
    static final long CREATE_RULESET_VERSION = 1;
    static final long RULE_PATH_BENEATH = 1;

    public static final long EXECUTE = 1L << 0;
    public static final long WRITE_FILE = 1L << 1;
    public static final long READ_FILE = 1L << 2;
    public static final long READ_DIR = 1L << 3;
    public static final long REMOVE_DIR = 1L << 4;
    public static final long REMOVE_FILE = 1L << 5;
    public static final long MAKE_CHAR = 1L << 6;
    public static final long MAKE_DIR = 1L << 7;
    public static final long MAKE_REG = 1L << 8;
    public static final long MAKE_SOCK = 1L << 9;
    public static final long MAKE_FIFO = 1L << 10;
    public static final long MAKE_BLOCK = 1L << 11;
    public static final long MAKE_SYM = 1L << 12;
    /** ABI 2: linking or renaming a file into another directory. */
    public static final long REFER = 1L << 13;
    /** ABI 3. */
    public static final long TRUNCATE = 1L << 14;
    /** ABI 5: ioctl on character and block devices. */
    public static final long IOCTL_DEV = 1L << 15;

    /** The rights that apply to a file (a rule on a file may grant only these). */
    public static final long FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;
    static final long READ_RIGHTS = EXECUTE | READ_FILE | READ_DIR | IOCTL_DEV;

    /** struct landlock_ruleset_attr up to handled_access_fs, the one member every ABI has. */
    public static final StructLayout RULESET_ATTR_FS = MemoryLayout.structLayout(
            JAVA_LONG.withName("handled_access_fs"));
    /** struct landlock_path_beneath_attr: packed, 12 bytes. */
    public static final StructLayout PATH_BENEATH_ATTR = MemoryLayout.structLayout(
            JAVA_LONG_UNALIGNED.withName("allowed_access"),
            JAVA_INT_UNALIGNED.withName("parent_fd"));

    /** The running kernel's Landlock ABI version; 0 when it has none or did not enable it at boot. */
    public static int abi() {
        long r = Libc.syscall(SYS_LANDLOCK_CREATE_RULESET, 0, 0, CREATE_RULESET_VERSION);
        return r > 0 ? (int) r : 0;
    }

    /** Why {@link #abi()} is 0, in words; empty when Landlock is there. */
    public static String absence() {
        long r = Libc.syscall(SYS_LANDLOCK_CREATE_RULESET, 0, 0, CREATE_RULESET_VERSION);
        if (r > 0) {
            return "";
        }
        return switch ((int) -r) {
            case Errno.ENOSYS -> "this kernel has no Landlock (CONFIG_SECURITY_LANDLOCK)";
            case Errno.EOPNOTSUPP -> "Landlock is built in but not enabled (add landlock to the kernel's LSM list)";
            default -> "Landlock answered " + Errno.name((int) -r);
        };
    }

    /** The file-system rights an ABI version knows. */
    public static long handledFs(int abi) {
        if (abi <= 0) {
            return 0;
        }
        long rights = (MAKE_SYM << 1) - 1; // ABI 1: EXECUTE .. MAKE_SYM
        if (abi >= 2) {
            rights |= REFER;
        }
        if (abi >= 3) {
            rights |= TRUNCATE;
        }
        if (abi >= 5) {
            rights |= IOCTL_DEV;
        }
        return rights;
    }

    /** The rights a rule grants: read-only or read-write, on a directory or a file, within {@code handled}. */
    public static long rights(long handled, boolean writable, boolean directory) {
        long r = writable ? handled : handled & READ_RIGHTS;
        return directory ? r : r & FILE_RIGHTS;
    }

    /** What {@link #restrictSelf} did: how many rules, and the roots it left out because they do not exist. */
    public record Result(int abi, int rules, List<Path> missing) {}

    /**
     * Limits the calling thread's file access to {@code readOnly} and {@code readWrite} (files or
     * directories, with everything beneath) for good. Roots that do not exist are left out. Needs
     * no_new_privs (or CAP_SYS_ADMIN). Throws when Landlock is missing or refuses.
     */
    public static Result restrictSelf(List<Path> readOnly, List<Path> readWrite) {
        int abi = abi();
        if (abi <= 0) {
            throw new KvmException("landlock_create_ruleset", absence());
        }
        long handled = handledFs(abi);
        List<Path> missing = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(RULESET_ATTR_FS);
            attr.set(JAVA_LONG, 0, handled);
            long rs = Libc.syscall(SYS_LANDLOCK_CREATE_RULESET, attr.address(), attr.byteSize(), 0);
            if (rs < 0) {
                throw new KvmException("landlock_create_ruleset", (int) -rs);
            }
            int ruleset = (int) rs;
            try {
                int rules = 0;
                MemorySegment rule = a.allocate(PATH_BENEATH_ATTR);
                for (int pass = 0; pass < 2; pass++) {
                    boolean writable = pass == 1;
                    for (Path root : writable ? readWrite : readOnly) {
                        if (add(ruleset, rule, root, rights(handled, writable, Files.isDirectory(root)))) {
                            rules++;
                        } else {
                            missing.add(root);
                        }
                    }
                }
                long r = Libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0, 0);
                if (r < 0) {
                    throw new KvmException("landlock_restrict_self", (int) -r);
                }
                return new Result(abi, rules, List.copyOf(missing));
            } finally {
                Libc.close(ruleset);
            }
        }
    }

    /** Adds one path_beneath rule; false when the path does not exist. */
    private static boolean add(int ruleset, MemorySegment rule, Path root, long access) {
        int fd = Libc.tryOpen(root.toString(), Libc.O_PATH | Libc.O_CLOEXEC);
        if (fd == -Errno.ENOENT) {
            return false;
        }
        if (fd < 0) {
            throw new KvmException("open " + root, -fd);
        }
        try {
            rule.set(JAVA_LONG_UNALIGNED, 0, access);
            rule.set(JAVA_INT_UNALIGNED, 8, fd);
            long r = Libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, RULE_PATH_BENEATH, rule.address());
            if (r < 0) {
                throw new KvmException("landlock_add_rule " + root, (int) -r);
            }
            return true;
        } finally {
            Libc.close(fd);
        }
    }

    /**
     * Whether the calling thread is in a Landlock domain that leaves "/" itself out: reading the
     * root directory is refused then, as it never is otherwise for root.
     */
    public static boolean inForce() {
        int fd = Libc.tryOpen("/", Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        if (fd >= 0) {
            Libc.close(fd);
            return false;
        }
        return fd == -Errno.EACCES;
    }
}
