package hg.ninep.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The session's fids, capped: a guest that never clunks runs into EMFILE, not into the
 * process's memory or its file descriptors.
 */
final class FidTable {
    /** P9_NOFID: never a fid of its own. */
    private static final int NOFID = -1;

    private final int maxFids;
    private final int maxOpen;
    private final Map<Integer, Fid> fids = new HashMap<>();
    private int open;

    FidTable(int maxFids, int maxOpen) {
        this.maxFids = maxFids;
        this.maxOpen = maxOpen;
    }

    Fid get(int fid) throws ErrnoException {
        Fid f = fids.get(fid);
        if (f == null) {
            throw new ErrnoException(Errno.EBADF, "no fid " + Integer.toUnsignedString(fid));
        }
        return f;
    }

    /** Checks a new fid number is free and the table has room, before any work is done for it. */
    void checkNew(int fid) throws ErrnoException {
        if (fid == NOFID || fids.containsKey(fid)) {
            throw new ErrnoException(Errno.EBADF, "fid " + Integer.toUnsignedString(fid) + " in use");
        }
        if (fids.size() >= maxFids) {
            throw new ErrnoException(Errno.EMFILE, "fid table full");
        }
    }

    void put(int fid, Fid f) {
        Fid old = fids.put(fid, f);
        if (old != null) {
            closeFd(old);
        }
    }

    /** Room for one more open file, checked before opening it. */
    void checkOpen() throws ErrnoException {
        if (open >= maxOpen) {
            throw new ErrnoException(Errno.EMFILE, "too many open files");
        }
    }

    void opened(Fid f, int fd, int accessMode, boolean directory) {
        f.fd = fd;
        f.accessMode = accessMode;
        f.directory = directory;
        open++;
    }

    private void closeFd(Fid f) {
        if (f.isOpen()) {
            Libc.close(f.fd);
            f.fd = -1;
            open--;
        }
    }

    /** Forgets a fid and closes its file; false when there was none. */
    boolean clunk(int fid) {
        Fid f = fids.remove(fid);
        if (f == null) {
            return false;
        }
        closeFd(f);
        return true;
    }

    /** After a rename: every fid at or beneath {@code from} now names the same file under {@code to}. */
    void renamed(List<String> from, List<String> to) {
        for (Fid f : fids.values()) {
            if (Names.startsWith(f.path, from)) {
                List<String> moved = new java.util.ArrayList<>(to);
                moved.addAll(f.path.subList(from.size(), f.path.size()));
                f.path = List.copyOf(moved);
            }
        }
    }

    void clear() {
        fids.values().forEach(this::closeFd);
        fids.clear();
    }

    int size() {
        return fids.size();
    }

    int openFiles() {
        return open;
    }
}
