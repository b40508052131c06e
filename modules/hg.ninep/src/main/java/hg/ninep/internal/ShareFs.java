package hg.ninep.internal;

import java.util.List;

/**
 * The share's directory as the kernel confines it. Every path is resolved by openat2 from the
 * root's fd with RESOLVE_BENEATH (no "..", no absolute path, no escape however the tree changes
 * under us) and RESOLVE_NO_SYMLINKS (a 9P client resolves symlinks itself, so the server never
 * follows one, not even one that stays inside: a symlink swapped in mid-walk is ELOOP, not a way
 * out). Changes act on the final name through its parent's fd; attributes of a file are changed
 * through its own fd, or through /proc/self/fd/N of an O_PATH fd, so the inode checked is the
 * inode changed.
 */
final class ShareFs {
    private static final long RESOLVE = Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_MAGICLINKS;
    /** Added to every open of guest data: no controlling tty, no fd leak into children, never blocking on a fifo. */
    private static final int ALWAYS = Libc.O_CLOEXEC | Libc.O_NOCTTY | Libc.O_NONBLOCK;

    private final int root;

    ShareFs(int rootFd) {
        this.root = rootFd;
    }

    /** An O_PATH fd on the file itself (a symlink too, not its target). */
    int openPath(List<String> path) throws ErrnoException {
        return Libc.openat2(root, Names.join(path), Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0, RESOLVE);
    }

    /** An O_PATH fd on a directory: what the *at calls act through. */
    int openDir(List<String> path) throws ErrnoException {
        return Libc.openat2(root, Names.join(path),
                Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0, RESOLVE);
    }

    /** An O_PATH fd on {@code name} in the directory {@code dirFd}, without following it. */
    static int openAt(int dirFd, String name) throws ErrnoException {
        return Libc.openat2(dirFd, name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0, RESOLVE);
    }

    /** The magic link to an fd of ours: for the calls that have no fd form taking an O_PATH fd. */
    static String proc(int fd) {
        return "/proc/self/fd/" + fd;
    }

    /**
     * Opens the file an O_PATH fd holds for I/O, after checking what it is: the same inode, so a
     * file swapped in after the check is never the one opened. Device nodes are refused (opening
     * one can act on host hardware), so are symlinks (ELOOP, as O_NOFOLLOW would say).
     */
    static int reopen(int pathFd, Stat st, int flags) throws ErrnoException {
        if (st.isDevice()) {
            throw new ErrnoException(Errno.EPERM, "device node");
        }
        if (st.isSymlink()) {
            throw new ErrnoException(Errno.ELOOP, "symlink");
        }
        if (st.isDirectory()) {
            if ((flags & Libc.O_ACCMODE) != Libc.O_RDONLY) {
                throw new ErrnoException(Errno.EISDIR, "directory opened for writing");
            }
            flags = Libc.O_RDONLY | Libc.O_DIRECTORY;
        }
        return Libc.open(proc(pathFd), flags | ALWAYS);
    }

    /** Creates {@code name} in {@code dirFd} and opens it; EEXIST when something is there already. */
    static int create(int dirFd, String name, int flags, int mode) throws ErrnoException {
        return Libc.openat2(dirFd, name, flags | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | ALWAYS, mode, RESOLVE);
    }
}
