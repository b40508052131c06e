package hg.ninep;

import hg.ninep.internal.ErrnoException;
import hg.ninep.internal.Libc;
import hg.ninep.internal.Session;
import hg.ninep.internal.wire.Rmessage;
import hg.ninep.internal.wire.Tmessage;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * A 9P2000.L server for one share and one client (a virtio-9p device): requests in, replies
 * out, one at a time. Errors are Rlerror with the host's errno.
 *
 * <p>Confinement: every path is resolved by the kernel beneath the share's root (openat2 with
 * RESOLVE_BENEATH, following no symlink at all, magic or not); nothing is checked by string.
 * "..", absolute or relative symlinks that point out, a symlink swapped in during a walk: none
 * reaches outside. The guest cannot make hard links to anything outside (a link's source is a
 * fid, always inside). A hard link made <em>on the host</em> from inside the share to a file
 * outside it is beyond any path check's reach: keeping such links out of a share is the host
 * operator's responsibility. Device nodes are neither made (mknod of a character or block device
 * is EPERM; fifos and sockets are allowed) nor opened (EPERM), even when the host put one there.
 *
 * <p>Ownership: the VMM runs as root, and files the guest creates get the uid and gid the guest
 * asks for (like QEMU's passthrough security model), with the mode the guest asks for minus the
 * set-uid and set-gid bits, which are stripped on every create and chmod. The server checks no
 * permissions itself: the guest's kernel arbitrates between its own users, and inside the share
 * the guest as a whole may do what root may. A read-only share
 * refuses every change, and every open for writing, with EROFS.
 *
 * <p>Bounds, as a guest may be hostile: msize is capped at {@value #MAX_MSIZE} (Rversion answers
 * the smaller of the guest's and the cap), a message larger than msize or than the bytes it came
 * in is refused, a session holds at most {@value #MAX_FIDS} fids and {@value #MAX_OPEN_FILES}
 * open files (EMFILE past them), a walk takes at most 16 names, and strings are checked (length
 * within the message, no NUL, no "/" in a name). Locks are granted without host locks (as QEMU
 * does); extended attributes are refused with EOPNOTSUPP.
 *
 * <p>Not thread safe: one caller at a time (a device's queue).
 */
public final class NinepServer implements AutoCloseable {
    public static final int MAX_MSIZE = 512 * 1024;
    public static final int MAX_FIDS = 4096;
    public static final int MAX_OPEN_FILES = 1024;

    private final Share share;
    private final Session session;

    private NinepServer(Share share, Session session) {
        this.share = share;
        this.session = session;
    }

    /** Opens the share's root (it must be a directory); the server holds that fd until {@link #close()}. */
    public static NinepServer open(Share share) throws IOException {
        return open(share, MAX_MSIZE, MAX_FIDS, MAX_OPEN_FILES);
    }

    /** With other bounds: for tests, or a host that wants tighter ones. */
    public static NinepServer open(Share share, int maxMsize, int maxFids, int maxOpenFiles) throws IOException {
        if (maxMsize < Session.MIN_MSIZE || maxFids < 1 || maxOpenFiles < 1) {
            throw new IllegalArgumentException("bounds too small");
        }
        int fd;
        try {
            fd = Libc.open(hostBytes(share.root()), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        } catch (ErrnoException e) {
            throw new IOException("9p share " + share.root() + " cannot be opened as a directory (errno " + e.errno() + ")");
        }
        return new NinepServer(share, new Session(fd, share.readOnly(), maxMsize, maxFids, maxOpenFiles));
    }

    /** The root's path as the bytes Java gives the kernel for it, held as a Latin-1 byte string as Libc takes paths. */
    private static String hostBytes(Path root) {
        Charset jnu;
        try {
            jnu = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (IllegalArgumentException e) {
            jnu = StandardCharsets.UTF_8;
        }
        String path = root.toString();
        if (path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a path with NUL: " + path);
        }
        return new String(path.getBytes(jnu), StandardCharsets.ISO_8859_1);
    }

    public Share share() {
        return share;
    }

    /**
     * Answers the T-message between {@code request}'s position and limit with an R-message
     * written at {@code response}'s position (neither buffer's position moves). Returns the
     * reply's size, never more than {@code response.remaining()} nor the negotiated msize.
     *
     * @throws NinepProtocolException when there is no tag to answer to, or no room for even an error
     */
    public int serve(ByteBuffer request, ByteBuffer response) throws NinepProtocolException {
        return serve(request, List.of(), response, List.of()).size();
    }

    /** A Tread's type byte and a Twrite's, which a transport looks at to pass their data in place. */
    public static final int TREAD = Tmessage.Tread.TYPE;
    public static final int TWRITE = Tmessage.Twrite.TYPE;
    /** The part of a Twrite before its data, and of an Rread before its data. */
    public static final int TWRITE_HEADER = Session.TWRITE_HEADER;
    public static final int RREAD_HEADER = Rmessage.Rread.OVERHEAD;

    /**
     * As {@link #serve(ByteBuffer, ByteBuffer)}, with a large write's or read's data left in native
     * memory the transport holds (a guest's pages), so it moves between the file and there with no copy
     * in between: {@code requestTail} continues the request, which is then a Twrite whose header
     * ({@link #TWRITE_HEADER} bytes) is all of {@code request}; {@code responseTail} continues the
     * response, and only an Rread's data goes there (its header, or any other reply, is in
     * {@code response}). Either tail may be empty.
     *
     * @throws NinepProtocolException when there is no tag to answer to, or no room for even an error
     */
    public Reply serve(ByteBuffer request, List<MemorySegment> requestTail, ByteBuffer response,
                       List<MemorySegment> responseTail) throws NinepProtocolException {
        Reply r = session.serve(request, requestTail, response, responseTail);
        if (r == null) {
            throw new NinepProtocolException(request.remaining() < 7
                    ? "a 9p message of " + request.remaining() + " bytes has no tag"
                    : "no room for a 9p reply in " + response.remaining() + " bytes");
        }
        return r;
    }

    /** The limit requests are held to now: the negotiated msize, or the cap before Tversion. */
    public int messageLimit() {
        return session.messageLimit();
    }

    /** Fids held now: for tests and for a device's statistics. */
    public int fidCount() {
        return session.fidCount();
    }

    public int openFiles() {
        return session.openFiles();
    }

    /** Forgets every fid and the negotiated msize, as a device reset does. */
    public void reset() {
        session.reset();
    }

    @Override
    public void close() {
        session.close();
    }
}
