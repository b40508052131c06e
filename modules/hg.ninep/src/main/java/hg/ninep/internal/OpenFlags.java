package hg.ninep.internal;

/**
 * Open flags as 9P2000.L sends them (Linux's x86 numbering, fixed by the protocol) to the
 * host's. Only what a file server should honour passes: the access mode, truncate, append and
 * the sync flags. O_DIRECT is dropped (the guest's alignment is not the host's), O_CREAT and
 * O_EXCL mean nothing to lopen, and O_NOFOLLOW, O_CLOEXEC, O_NOCTTY, O_NONBLOCK are the
 * server's to set.
 */
public final class OpenFlags {
    private OpenFlags() {}

    public static final int DOTL_RDONLY = 0;
    public static final int DOTL_WRONLY = 1;
    public static final int DOTL_RDWR = 2;
    public static final int DOTL_CREATE = 0100;
    public static final int DOTL_EXCL = 0200;
    public static final int DOTL_TRUNC = 01000;
    public static final int DOTL_APPEND = 02000;
    public static final int DOTL_DSYNC = 010000;
    public static final int DOTL_DIRECTORY = 0200000;
    public static final int DOTL_SYNC = 04000000;

    public static int toHost(int dotl) {
        int access = dotl & 3;
        int flags = access == 3 ? Libc.O_RDWR : access;
        if ((dotl & DOTL_TRUNC) != 0) {
            flags |= Libc.O_TRUNC;
        }
        if ((dotl & DOTL_APPEND) != 0) {
            flags |= Libc.O_APPEND;
        }
        if ((dotl & DOTL_SYNC) != 0) {
            flags |= Libc.O_SYNC;
        } else if ((dotl & DOTL_DSYNC) != 0) {
            flags |= Libc.O_DSYNC;
        }
        return flags;
    }

    /** Whether opening with these flags changes anything: what a read-only share refuses. */
    public static boolean writes(int dotl) {
        return (dotl & 3) != DOTL_RDONLY || (dotl & DOTL_TRUNC) != 0;
    }

    /** Whether the guest asked for exclusive creation. */
    public static boolean exclusive(int dotl) {
        return (dotl & DOTL_EXCL) != 0;
    }
}
