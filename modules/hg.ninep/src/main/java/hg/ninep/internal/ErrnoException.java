package hg.ninep.internal;

/**
 * A request failed with an errno: from the host's system call, or chosen by the server
 * (a refused name, a fid that is not there). The session answers it as Rlerror.
 */
public final class ErrnoException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public ErrnoException(int errno, String what) {
        super(what + ": errno " + errno, null, false, false);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
