package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Libc;

/**
 * The no_new_privs bit (prctl PR_SET_NO_NEW_PRIVS): once set, no execve can give this task or its
 * children more privileges (setuid bits and file capabilities are ignored). It is what lets an
 * unprivileged task install a seccomp filter or a Landlock domain, and it cannot be cleared.
 * It belongs to the calling thread and passes to threads it starts and across execve.
 */
public final class NoNewPrivs {
    private NoNewPrivs() {}

    static final int PR_SET_NO_NEW_PRIVS = 38;
    static final int PR_GET_NO_NEW_PRIVS = 39;

    /** Sets the bit on the calling thread; throws when the kernel refuses. */
    public static void set() {
        int r = Libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0);
        if (r < 0) {
            throw new KvmException("prctl PR_SET_NO_NEW_PRIVS", -r);
        }
    }

    /** Whether the calling thread has the bit. */
    public static boolean isSet() {
        return Libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0) == 1;
    }
}
