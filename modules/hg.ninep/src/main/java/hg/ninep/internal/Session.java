package hg.ninep.internal;

import hg.ninep.Reply;
import hg.ninep.internal.wire.DecodeException;
import hg.ninep.internal.wire.Qid;
import hg.ninep.internal.wire.Rmessage;
import hg.ninep.internal.wire.Rmessage.*;
import hg.ninep.internal.wire.Tmessage;
import hg.ninep.internal.wire.Tmessage.*;
import hg.ninep.internal.wire.Wire;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One 9P2000.L session on one share: the negotiated msize, the fid table, and a handler per
 * request. Not thread safe: a device serves its queue's requests one at a time.
 */
public final class Session implements AutoCloseable {
    public static final String VERSION = "9P2000.L";
    /** Linux refuses anything smaller, and so do we. */
    public static final int MIN_MSIZE = 4096;

    private static final System.Logger LOG = System.getLogger("hg.ninep");

    private final ShareFs fs;
    private final int rootFd;
    private final boolean readOnly;
    private final int maxMsize;
    private final FidTable fids;
    private final Arena arena = Arena.ofShared();
    /** Native room for one read's data or one getdents: the largest msize there can be. */
    private final MemorySegment scratch;
    /** Where the request being served wants a read's data, when not in the reply itself. */
    private List<MemorySegment> readInto = List.of();
    /** The bytes a read put in {@link #readInto}; -1 when it did not. */
    private int placed = -1;
    /** The share's file system's block size, read once; -1 before. */
    private long blockSize = -1;
    private final Iovecs iovecs;
    private int msize;
    private boolean bugLogged;

    /** Takes ownership of {@code rootFd}, an O_PATH fd on the share's root. */
    public Session(int rootFd, boolean readOnly, int maxMsize, int maxFids, int maxOpen) {
        this.rootFd = rootFd;
        this.fs = new ShareFs(rootFd);
        this.readOnly = readOnly;
        this.maxMsize = maxMsize;
        this.fids = new FidTable(maxFids, maxOpen);
        this.scratch = arena.allocate(maxMsize, 4096);
        this.iovecs = new Iovecs(arena);
    }

    /** The limit a message is held to: the negotiated msize, or the cap before Tversion. */
    public int messageLimit() {
        return msize == 0 ? maxMsize : msize;
    }

    public int fidCount() {
        return fids.size();
    }

    public int openFiles() {
        return fids.openFiles();
    }

    /** Back to before Tversion: every fid clunked (a device reset, or a new Tversion). */
    public void reset() {
        fids.clear();
        msize = 0;
    }

    @Override
    public void close() {
        reset();
        Libc.close(rootFd);
        arena.close();
    }

    /**
     * Answers one request: decodes it, runs it, writes the reply at {@code response}'s position. The
     * bulk of a large write or read may stay where the transport holds it (native memory, such as a
     * guest's pages): {@code requestTail} continues the request (a Twrite's data, whose header is all of
     * {@code request}); {@code responseTail} continues the response (an Rread's data goes there, nothing
     * else does). Null when there is no tag to answer to.
     */
    public Reply serve(ByteBuffer request, List<MemorySegment> requestTail, ByteBuffer response,
                       List<MemorySegment> responseTail) {
        int tag = Wire.tag(request);
        if (tag < 0) {
            return null;
        }
        int room = (int) Math.min(response.remaining() + Iovecs.size(responseTail), messageLimit());
        ByteBuffer out = response.slice(response.position(), Math.min(response.remaining(), room));
        readInto = responseTail;
        placed = -1;
        try {
            Rmessage reply = answer(request, requestTail, room);
            try {
                int size = Wire.encode(tag, reply, out);
                if (placed < 0) {
                    return new Reply(size, size);
                }
                // an Rread whose data went to the tail: its size and count say so
                out.putInt(0, size + placed);
                out.putInt(Wire.HEADER, placed);
                return new Reply(size + placed, size);
            } catch (BufferOverflowException e) {
                // The driver gave too little room for this reply; the error fits where the reply did not.
                try {
                    int size = Wire.encode(tag, new Rlerror(Errno.EMSGSIZE), out.clear());
                    return new Reply(size, size);
                } catch (BufferOverflowException tooSmall) {
                    return null;
                }
            }
        } finally {
            readInto = List.of();
            placed = -1;
        }
    }

    private Rmessage answer(ByteBuffer request, List<MemorySegment> requestTail, int room) {
        long size = Wire.size(request);
        if (size > messageLimit()) {
            return new Rlerror(Errno.EMSGSIZE);
        }
        try {
            if (!requestTail.isEmpty()) {
                return msize == 0 ? new Rlerror(Errno.EPROTO) : writeTail(request, size, requestTail);
            }
            Tmessage t = Wire.decodeRequest(request).message();
            if (msize == 0 && !(t instanceof Tversion)) {
                return new Rlerror(Errno.EPROTO);
            }
            return handle(t, room);
        } catch (DecodeException e) {
            return new Rlerror(e.errno());
        } catch (ErrnoException e) {
            return new Rlerror(e.errno());
        } catch (RuntimeException e) {
            // A bug of ours must not become a guest's way to break the device (the request fails),
            // nor to flood the log: the first one per session is a warning, the rest are debug lines.
            LOG.log(bugLogged ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "9p: request failed inside the server", e);
            bugLogged = true;
            return new Rlerror(Errno.EIO);
        }
    }

    private Rmessage handle(Tmessage t, int room) throws ErrnoException {
        return switch (t) {
            case Tversion m -> version(m);
            case Tauth m -> new Rlerror(Errno.EOPNOTSUPP);
            case Tattach m -> attach(m);
            case Tflush m -> new Rflush();
            case Twalk m -> walk(m);
            case Tlopen m -> lopen(m);
            case Tlcreate m -> lcreate(m);
            case Tread m -> read(m, room);
            case Twrite m -> write(m);
            case Tclunk m -> clunk(m);
            case Tremove m -> remove(m);
            case Tgetattr m -> getattr(m);
            case Tsetattr m -> setattr(m);
            case Treaddir m -> readdir(m, room);
            case Tstatfs m -> statfs(m);
            case Tmkdir m -> mkdir(m);
            case Tsymlink m -> symlink(m);
            case Tlink m -> link(m);
            case Tmknod m -> mknod(m);
            case Trename m -> rename(m);
            case Trenameat m -> renameat(m);
            case Tunlinkat m -> unlinkat(m);
            case Treadlink m -> readlink(m);
            case Tfsync m -> fsync(m);
            case Tlock m -> lock(m);
            case Tgetlock m -> new Rgetlock(Rgetlock.UNLOCKED, m.start(), m.length(), m.procId(), m.clientId());
            case Txattrwalk m -> new Rlerror(Errno.EOPNOTSUPP);
            case Txattrcreate m -> readOnly ? new Rlerror(Errno.EROFS) : new Rlerror(Errno.EOPNOTSUPP);
        };
    }

    // ---- session ----

    private Rmessage version(Tversion m) throws ErrnoException {
        reset();
        if (!m.version().equals(VERSION)) {
            return new Rversion((int) Math.min(Integer.toUnsignedLong(m.msize()), maxMsize), "unknown");
        }
        if (Integer.toUnsignedLong(m.msize()) < MIN_MSIZE) {
            throw new ErrnoException(Errno.EINVAL, "msize below " + MIN_MSIZE);
        }
        msize = (int) Math.min(Integer.toUnsignedLong(m.msize()), maxMsize);
        return new Rversion(msize, VERSION);
    }

    /** What a read's or write's header takes besides its data (Linux's P9_IOHDRSZ). */
    static final int IO_HEADER = 24;

    /**
     * The iounit an open answers, as QEMU's server does: as much of an msize as whole blocks of the
     * share's file system fill, so the guest's large reads and writes come in block-aligned pieces
     * (0, Linux's default, would make them msize less the header: every piece after the first
     * unaligned). 0 when the file system does not say its block size.
     */
    private int iounit() {
        if (blockSize < 0) {
            try {
                blockSize = Libc.fstatfs(rootFd).bsize();
            } catch (ErrnoException e) {
                blockSize = 0;
            }
        }
        long room = messageLimit() - IO_HEADER;
        return blockSize <= 0 || blockSize > room ? 0 : (int) (room / blockSize * blockSize);
    }

    private Rmessage attach(Tattach m) throws ErrnoException {
        fids.checkNew(m.fid());
        if (m.afid() != Wire.NOFID) {
            throw new ErrnoException(Errno.EINVAL, "no authentication here");
        }
        Qid qid = qid(List.of());
        fids.put(m.fid(), new Fid(List.of(), m.nUname()));
        return new Rattach(qid);
    }

    private Rmessage walk(Twalk m) throws ErrnoException {
        Fid from = fids.get(m.fid());
        if (m.newfid() != m.fid()) {
            fids.checkNew(m.newfid());
        }
        List<String> path = from.path;
        List<Qid> qids = new ArrayList<>();
        for (String name : m.names()) {
            try {
                List<String> next = Names.step(path, name);
                qids.add(qid(next));
                path = next;
            } catch (ErrnoException e) {
                if (qids.isEmpty()) {
                    throw e;
                }
                return new Rwalk(qids);   // a partial walk: newfid is not made
            }
        }
        if (m.names().isEmpty() || qids.size() == m.names().size()) {
            if (m.newfid() == m.fid()) {
                from.path = path;
            } else {
                fids.put(m.newfid(), new Fid(path, from.uid));
            }
        }
        return new Rwalk(qids);
    }

    // ---- files ----

    private Rmessage lopen(Tlopen m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        if (f.isOpen()) {
            throw new ErrnoException(Errno.EBUSY, "fid already open");
        }
        if (readOnly && OpenFlags.writes(m.flags())) {
            throw new ErrnoException(Errno.EROFS, "read-only share");
        }
        fids.checkOpen();
        int pathFd = fs.openPath(f.path);
        try {
            Stat st = Libc.fstat(pathFd);
            if ((m.flags() & OpenFlags.DOTL_DIRECTORY) != 0 && !st.isDirectory()) {
                throw new ErrnoException(Errno.ENOTDIR, "O_DIRECTORY on a non-directory");
            }
            int flags = OpenFlags.toHost(m.flags());
            int fd = ShareFs.reopen(pathFd, st, flags);
            fids.opened(f, fd, st.isDirectory() ? Libc.O_RDONLY : flags & Libc.O_ACCMODE, st.isDirectory());
            return new Rlopen(qid(st), iounit());
        } finally {
            Libc.close(pathFd);
        }
    }

    private Rmessage lcreate(Tlcreate m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        String name = Names.check(m.name());
        if (readOnly) {
            throw new ErrnoException(Errno.EROFS, "read-only share");
        }
        if (f.isOpen()) {
            throw new ErrnoException(Errno.EBUSY, "fid already open");
        }
        fids.checkOpen();
        int flags = OpenFlags.toHost(m.flags());
        int dirFd = fs.openDir(f.path);
        try {
            int fd;
            try {
                fd = ShareFs.create(dirFd, name, flags, safeMode(m.mode()) & 0777);
                try {
                    // The process's umask shaped the mode; the guest's is the one that counts.
                    Libc.fchmod(fd, safeMode(m.mode()));
                    Libc.fchown(fd, f.uid, m.gid());
                } catch (ErrnoException e) {
                    Libc.close(fd);
                    throw e;
                }
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EEXIST || OpenFlags.exclusive(m.flags())) {
                    throw e;
                }
                fd = openExisting(dirFd, name, flags);
            }
            Stat st;
            try {
                st = Libc.fstat(fd);
            } catch (ErrnoException e) {
                Libc.close(fd);
                throw e;
            }
            f.path = Names.child(f.path, name);
            fids.opened(f, fd, flags & Libc.O_ACCMODE, st.isDirectory());
            return new Rlcreate(qid(st), iounit());
        } finally {
            Libc.close(dirFd);
        }
    }

    /** Tlcreate of a name that exists, without O_EXCL: opens it as lopen would. */
    private static int openExisting(int dirFd, String name, int flags) throws ErrnoException {
        int pathFd = ShareFs.openAt(dirFd, name);
        try {
            return ShareFs.reopen(pathFd, Libc.fstat(pathFd), flags);
        } finally {
            Libc.close(pathFd);
        }
    }

    private Rmessage read(Tread m, int room) throws ErrnoException {
        Fid f = fids.get(m.fid());
        if (!f.readable() || f.directory) {
            throw new ErrnoException(f.directory ? Errno.EISDIR : Errno.EBADF, "fid not open for reading");
        }
        if (m.offset() < 0) {
            throw new ErrnoException(Errno.EINVAL, "negative offset");
        }
        long count = Math.min(Integer.toUnsignedLong(m.count()), Math.max(0, room - Rread.OVERHEAD));
        if (!readInto.isEmpty()) {
            // no copy of ours: the file's bytes go straight to the transport's memory
            int n = iovecs.fill(readInto, count);
            placed = n == 0 ? 0 : (int) Libc.preadv(f.fd, iovecs.array(), n, m.offset());
            return new Rread(ByteBuffer.allocate(0));
        }
        long n = Libc.pread(f.fd, scratch, count, m.offset());
        return new Rread(scratch.asSlice(0, n).asByteBuffer());
    }

    private Rmessage write(Twrite m) throws ErrnoException {
        Fid f = writable(m.fid(), m.offset());
        int count = m.data().remaining();   // within the message, so within msize and the scratch
        MemorySegment from = MemorySegment.ofBuffer(m.data());
        if (!from.isNative()) {
            MemorySegment.copy(from, 0, scratch, 0, count);
            from = scratch;
        }
        long n = Libc.pwrite(f.fd, from, count, m.offset());
        return new Rwrite((int) n);
    }

    /** A Twrite's header: size[4] type[1] tag[2] fid[4] offset[8] count[4]. */
    public static final int TWRITE_HEADER = Wire.HEADER + 4 + 8 + 4;

    /** A Twrite whose header is {@code header} (of a message of {@code size} bytes) and whose data is {@code data}. */
    private Rmessage writeTail(ByteBuffer header, long size, List<MemorySegment> data) throws ErrnoException {
        ByteBuffer h = header.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int p = h.position();
        if (h.remaining() != TWRITE_HEADER || h.get(p + 4) != Twrite.TYPE) {
            return new Rlerror(Errno.EPROTO);
        }
        int fid = h.getInt(p + Wire.HEADER);
        long offset = h.getLong(p + Wire.HEADER + 4);
        long count = Integer.toUnsignedLong(h.getInt(p + Wire.HEADER + 12));
        if (size != TWRITE_HEADER + count || count > Iovecs.size(data)) {
            return new Rlerror(Errno.EPROTO);
        }
        Fid f = writable(fid, offset);
        int n = iovecs.fill(data, count);
        long written = n == 0 ? 0 : Libc.pwritev(f.fd, iovecs.array(), n, offset);
        return new Rwrite((int) written);
    }

    private Fid writable(int fid, long offset) throws ErrnoException {
        Fid f = fids.get(fid);
        if (readOnly) {
            throw new ErrnoException(Errno.EROFS, "read-only share");
        }
        if (!f.writable()) {
            throw new ErrnoException(Errno.EBADF, "fid not open for writing");
        }
        if (offset < 0) {
            throw new ErrnoException(Errno.EINVAL, "negative offset");
        }
        return f;
    }

    private Rmessage clunk(Tclunk m) throws ErrnoException {
        if (!fids.clunk(m.fid())) {
            throw new ErrnoException(Errno.EBADF, "no such fid");
        }
        return new Rclunk();
    }

    private Rmessage remove(Tremove m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        try {
            if (readOnly) {
                throw new ErrnoException(Errno.EROFS, "read-only share");
            }
            if (f.path.isEmpty()) {
                throw new ErrnoException(Errno.EBUSY, "the share's root");
            }
            int dirFd = fs.openDir(Names.parent(f.path));
            try {
                String name = Names.last(f.path);
                int pathFd = ShareFs.openAt(dirFd, name);
                boolean dir;
                try {
                    dir = Libc.fstat(pathFd).isDirectory();
                } finally {
                    Libc.close(pathFd);
                }
                Libc.unlinkat(dirFd, name, dir ? Libc.AT_REMOVEDIR : 0);
            } finally {
                Libc.close(dirFd);
            }
            return new Rremove();
        } finally {
            fids.clunk(m.fid());   // Tremove clunks the fid whatever happened
        }
    }

    // ---- attributes ----

    /** An fd for the fid's file: its open fd (an unlinked open file still has one), or a fresh O_PATH fd. */
    private int attrFd(Fid f) throws ErrnoException {
        return f.isOpen() ? f.fd : fs.openPath(f.path);
    }

    private void release(Fid f, int fd) {
        if (fd != f.fd) {
            Libc.close(fd);
        }
    }

    private Rmessage getattr(Tgetattr m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        int fd = attrFd(f);
        try {
            Stat s = Libc.fstat(fd);
            return new Rgetattr(Rgetattr.BASIC | (s.hasBtime() ? Rgetattr.BTIME : 0), qid(s), s.mode(), s.uid(),
                    s.gid(), s.nlink(), s.rdev(), s.size(), s.blksize(), s.blocks(), s.atimeSec(), s.atimeNsec(),
                    s.mtimeSec(), s.mtimeNsec(), s.ctimeSec(), s.ctimeNsec(), s.btimeSec(), s.btimeNsec(), 0, 0);
        } finally {
            release(f, fd);
        }
    }

    private Rmessage setattr(Tsetattr m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        if (readOnly) {
            throw new ErrnoException(Errno.EROFS, "read-only share");
        }
        int valid = m.valid();
        int fd = attrFd(f);
        try {
            Stat st = Libc.fstat(fd);
            if ((valid & Tsetattr.MODE) != 0) {
                if (st.isSymlink()) {
                    throw new ErrnoException(Errno.EOPNOTSUPP, "chmod of a symlink");
                }
                Libc.chmod(ShareFs.proc(fd), safeMode(m.mode()));
            }
            if ((valid & (Tsetattr.ATIME | Tsetattr.MTIME)) != 0) {
                long aNsec = (valid & Tsetattr.ATIME) == 0 ? Libc.UTIME_OMIT
                        : (valid & Tsetattr.ATIME_SET) != 0 ? m.atimeNsec() : Libc.UTIME_NOW;
                long mNsec = (valid & Tsetattr.MTIME) == 0 ? Libc.UTIME_OMIT
                        : (valid & Tsetattr.MTIME_SET) != 0 ? m.mtimeNsec() : Libc.UTIME_NOW;
                if (st.isSymlink()) {
                    // No path through /proc to a symlink itself: its parent and name, not followed.
                    int dirFd = fs.openDir(Names.parent(f.path));
                    try {
                        Libc.utimensat(dirFd, Names.last(f.path), m.atimeSec(), aNsec, m.mtimeSec(), mNsec,
                                Libc.AT_SYMLINK_NOFOLLOW);
                    } finally {
                        Libc.close(dirFd);
                    }
                } else {
                    Libc.utimensat(Libc.AT_FDCWD, ShareFs.proc(fd), m.atimeSec(), aNsec, m.mtimeSec(), mNsec, 0);
                }
            }
            if ((valid & (Tsetattr.UID | Tsetattr.GID)) != 0) {
                Libc.fchownat(fd, "", (valid & Tsetattr.UID) != 0 ? m.uid() : -1,
                        (valid & Tsetattr.GID) != 0 ? m.gid() : -1, Libc.AT_EMPTY_PATH | Libc.AT_SYMLINK_NOFOLLOW);
            }
            if ((valid & Tsetattr.SIZE) != 0) {
                if (!st.isRegular()) {
                    throw new ErrnoException(st.isDirectory() ? Errno.EISDIR : Errno.EINVAL, "truncate of a non-file");
                }
                if (m.size() < 0) {
                    throw new ErrnoException(Errno.EINVAL, "negative size");
                }
                Libc.truncate(ShareFs.proc(fd), m.size());
            }
            return new Rsetattr();
        } finally {
            release(f, fd);
        }
    }

    private Rmessage readdir(Treaddir m, int room) throws ErrnoException {
        Fid f = fids.get(m.fid());
        if (!f.isOpen() || !f.directory) {
            throw new ErrnoException(f.isOpen() ? Errno.ENOTDIR : Errno.EBADF, "fid not an open directory");
        }
        int count = (int) Math.min(Integer.toUnsignedLong(m.count()), Math.max(0, room - Rread.OVERHEAD));
        if (count == 0) {
            return new Rreaddir(ByteBuffer.allocate(0));
        }
        MemorySegment buf = scratch.asSlice(0, Math.max(count, 1024));
        long n = Libc.getdents(f.fd, m.offset(), buf);
        return new Rreaddir(Dirents.encode(buf, n, count));
    }

    private Rmessage statfs(Tstatfs m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        int fd = attrFd(f);
        try {
            StatFs s = Libc.fstatfs(fd);
            return new Rstatfs((int) s.type(), (int) s.bsize(), s.blocks(), s.bfree(), s.bavail(), s.files(),
                    s.ffree(), s.fsid(), (int) s.namelen());
        } finally {
            release(f, fd);
        }
    }

    private Rmessage readlink(Treadlink m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        int fd = fs.openPath(f.path);
        try {
            if (!Libc.fstat(fd).isSymlink()) {
                throw new ErrnoException(Errno.EINVAL, "not a symlink");
            }
            return new Rreadlink(Libc.readlink(fd, 4097));
        } finally {
            Libc.close(fd);
        }
    }

    private Rmessage fsync(Tfsync m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        if (!f.isOpen()) {
            throw new ErrnoException(Errno.EBADF, "fid not open");
        }
        Libc.fsync(f.fd, m.datasync() != 0);
        return new Rfsync();
    }

    /**
     * Locks are granted without being taken on the host, as QEMU's server does: the guest's
     * kernel already arbitrates its own processes, and a host lock held for a guest could block
     * the device's thread.
     */
    private Rmessage lock(Tlock m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        if (!f.isOpen()) {
            throw new ErrnoException(Errno.EBADF, "fid not open");
        }
        return new Rlock(Rlock.SUCCESS);
    }

    // ---- changes to the tree ----

    private void writable() throws ErrnoException {
        if (readOnly) {
            throw new ErrnoException(Errno.EROFS, "read-only share");
        }
    }

    private Rmessage mkdir(Tmkdir m) throws ErrnoException {
        Fid d = fids.get(m.dfid());
        String name = Names.check(m.name());
        writable();
        int dirFd = fs.openDir(d.path);
        try {
            Libc.mkdirat(dirFd, name, safeMode(m.mode()) & 0777);
            return new Rmkdir(own(dirFd, name, m.mode(), d.uid, m.gid()));
        } finally {
            Libc.close(dirFd);
        }
    }

    private Rmessage symlink(Tsymlink m) throws ErrnoException {
        Fid d = fids.get(m.fid());
        String name = Names.check(m.name());
        writable();
        if (m.target().isEmpty()) {
            throw new ErrnoException(Errno.ENOENT, "empty symlink target");
        }
        int dirFd = fs.openDir(d.path);
        try {
            // Whatever it says, the server never follows it: the guest resolves its own symlinks.
            Libc.symlinkat(m.target(), dirFd, name);
            Libc.fchownat(dirFd, name, d.uid, m.gid(), Libc.AT_SYMLINK_NOFOLLOW);
            int fd = ShareFs.openAt(dirFd, name);
            try {
                return new Rsymlink(qid(Libc.fstat(fd)));
            } finally {
                Libc.close(fd);
            }
        } finally {
            Libc.close(dirFd);
        }
    }

    /**
     * A hard link to the fid's file. The fid can only name a file inside the share, so the link
     * cannot reach outside; linkat without AT_SYMLINK_FOLLOW links a symlink itself, never its target.
     */
    private Rmessage link(Tlink m) throws ErrnoException {
        Fid d = fids.get(m.dfid());
        Fid f = fids.get(m.fid());
        String name = Names.check(m.name());
        writable();
        if (f.path.isEmpty()) {
            throw new ErrnoException(Errno.EPERM, "link to the share's root");
        }
        int fromDir = fs.openDir(Names.parent(f.path));
        try {
            int toDir = fs.openDir(d.path);
            try {
                Libc.linkat(fromDir, Names.last(f.path), toDir, name, 0);
            } finally {
                Libc.close(toDir);
            }
        } finally {
            Libc.close(fromDir);
        }
        return new Rlink();
    }

    /** Fifos, sockets and plain files; a device node could open the host's hardware to the guest, so EPERM. */
    private Rmessage mknod(Tmknod m) throws ErrnoException {
        Fid d = fids.get(m.dfid());
        String name = Names.check(m.name());
        writable();
        int type = m.mode() & Libc.S_IFMT;
        if (type == Libc.S_IFCHR || type == Libc.S_IFBLK) {
            throw new ErrnoException(Errno.EPERM, "device nodes are not made in a share");
        }
        if (type != Libc.S_IFIFO && type != Libc.S_IFSOCK && type != Libc.S_IFREG && type != 0) {
            throw new ErrnoException(Errno.EINVAL, "mknod of type " + Integer.toOctalString(type));
        }
        int dirFd = fs.openDir(d.path);
        try {
            Libc.mknodat(dirFd, name, (type == 0 ? Libc.S_IFREG : type) | (safeMode(m.mode()) & 0777), 0);
            return new Rmknod(own(dirFd, name, m.mode(), d.uid, m.gid()));
        } finally {
            Libc.close(dirFd);
        }
    }

    private Rmessage rename(Trename m) throws ErrnoException {
        Fid f = fids.get(m.fid());
        Fid d = fids.get(m.dfid());
        String name = Names.check(m.name());
        writable();
        if (f.path.isEmpty()) {
            throw new ErrnoException(Errno.EBUSY, "the share's root");
        }
        List<String> from = f.path;
        move(Names.parent(from), Names.last(from), d.path, name);
        return new Rrename();
    }

    private Rmessage renameat(Trenameat m) throws ErrnoException {
        Fid oldDir = fids.get(m.olddirfid());
        Fid newDir = fids.get(m.newdirfid());
        String oldName = Names.check(m.oldname());
        String newName = Names.check(m.newname());
        writable();
        move(oldDir.path, oldName, newDir.path, newName);
        return new Rrenameat();
    }

    /** renameat, then every fid beneath the old name follows the file to its new one. */
    private void move(List<String> fromDir, String fromName, List<String> toDir, String toName) throws ErrnoException {
        int a = fs.openDir(fromDir);
        try {
            int b = fs.openDir(toDir);
            try {
                Libc.renameat(a, fromName, b, toName);
            } finally {
                Libc.close(b);
            }
        } finally {
            Libc.close(a);
        }
        fids.renamed(Names.child(fromDir, fromName), Names.child(toDir, toName));
    }

    private Rmessage unlinkat(Tunlinkat m) throws ErrnoException {
        Fid d = fids.get(m.dirfid());
        String name = Names.check(m.name());
        writable();
        int dirFd = fs.openDir(d.path);
        try {
            Libc.unlinkat(dirFd, name, m.flags() & Libc.AT_REMOVEDIR);
        } finally {
            Libc.close(dirFd);
        }
        return new Runlinkat();
    }

    // ---- helpers ----

    /** The mode bits a guest may set on the host: never set-uid or set-gid (the VMM runs as root). */
    static int safeMode(int mode) {
        return mode & 01777;
    }

    /** After creating {@code name}: the guest's mode (not the umask's) and owner, and its qid. */
    private static Qid own(int dirFd, String name, int mode, int uid, int gid) throws ErrnoException {
        int fd = ShareFs.openAt(dirFd, name);
        try {
            Libc.chmod(ShareFs.proc(fd), safeMode(mode));
            Libc.fchownat(fd, "", uid, gid, Libc.AT_EMPTY_PATH | Libc.AT_SYMLINK_NOFOLLOW);
            return qid(Libc.fstat(fd));
        } finally {
            Libc.close(fd);
        }
    }

    private Qid qid(List<String> path) throws ErrnoException {
        int fd = fs.openPath(path);
        try {
            return qid(Libc.fstat(fd));
        } finally {
            Libc.close(fd);
        }
    }

    static Qid qid(Stat s) {
        int type = s.isDirectory() ? Qid.QTDIR : s.isSymlink() ? Qid.QTSYMLINK : Qid.QTFILE;
        return new Qid(type, 0, s.ino());
    }
}
