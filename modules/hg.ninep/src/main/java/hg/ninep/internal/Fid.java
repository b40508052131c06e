package hg.ninep.internal;

import java.util.List;

/**
 * A fid: a path beneath the root (names only, never a host path), the guest's uid it was
 * attached with (owner of what it creates), and once opened the host fd.
 */
final class Fid {
    List<String> path;
    final int uid;
    int fd = -1;
    int accessMode;
    boolean directory;

    Fid(List<String> path, int uid) {
        this.path = List.copyOf(path);
        this.uid = uid;
    }

    boolean isOpen() {
        return fd >= 0;
    }

    boolean readable() {
        return isOpen() && accessMode != Libc.O_WRONLY;
    }

    boolean writable() {
        return isOpen() && accessMode != Libc.O_RDONLY;
    }
}
