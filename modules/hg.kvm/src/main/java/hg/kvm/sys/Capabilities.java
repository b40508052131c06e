package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The capability bounding set of the calling thread: the most a later execve can grant, even to
 * root. Dropping all but a few before an execve leaves the new program with those few and no way
 * back. Needs CAP_SETPCAP; applies to the calling thread (and the threads and programs it starts).
 */
public final class Capabilities {
    private Capabilities() {}

    public static final int CAP_NET_ADMIN = 12;
    static final int CAP_SETPCAP = 8;
    static final int PR_CAPBSET_READ = 23;
    static final int PR_CAPBSET_DROP = 24;
    /** Far above any capability the kernel knows; PR_CAPBSET_READ answers EINVAL past the last. */
    private static final int CAP_LIMIT = 64;

    /**
     * Drops every capability but {@code keep} from the bounding set; returns how many it dropped.
     * Without CAP_SETPCAP nothing can be dropped, and nothing needs to: such a task has no
     * capabilities to pass on (no_new_privs keeps file capabilities from adding any), so it returns 0.
     */
    public static int dropBoundingExcept(int... keep) {
        if ((effective() & (1L << CAP_SETPCAP)) == 0) {
            return 0;
        }
        int dropped = 0;
        for (int cap = 0; cap < CAP_LIMIT; cap++) {
            int in = Libc.prctl(PR_CAPBSET_READ, cap, 0);
            if (in == -Errno.EINVAL) {
                break;
            }
            if (in != 1 || contains(keep, cap)) {
                continue;
            }
            int r = Libc.prctl(PR_CAPBSET_DROP, cap, 0);
            if (r < 0) {
                throw new KvmException("prctl PR_CAPBSET_DROP " + cap, -r);
            }
            dropped++;
        }
        return dropped;
    }

    private static boolean contains(int[] caps, int cap) {
        for (int c : caps) {
            if (c == cap) {
                return true;
            }
        }
        return false;
    }

    /** The calling thread's bounding set (CapBnd of /proc/thread-self/status), a bit per capability. */
    public static long bounding() {
        return statusMask("CapBnd:");
    }

    /** The calling thread's effective set (CapEff of /proc/thread-self/status). */
    public static long effective() {
        return statusMask("CapEff:");
    }

    private static long statusMask(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseUnsignedLong(line.substring(key.length()).trim(), 16);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown: say none
        }
        return 0;
    }

    /** The capabilities of a mask by name, e.g. "cap_net_admin", or "none". */
    public static String names(long mask) {
        if (mask == 0) {
            return "none";
        }
        StringBuilder s = new StringBuilder();
        for (int cap = 0; cap < 64; cap++) {
            if ((mask & (1L << cap)) != 0) {
                s.append(s.isEmpty() ? "" : ",").append(cap < NAMES.length ? NAMES[cap] : "cap_" + cap);
            }
        }
        return s.toString();
    }

    private static final String[] NAMES = {"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
        "cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
        "cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock",
        "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct",
        "cap_sys_admin", "cap_sys_boot", "cap_sys_nice", "cap_sys_resource", "cap_sys_time",
        "cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
        "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend",
        "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore"};
}
