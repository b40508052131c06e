package hg.kvm.net;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A TAP device from /dev/net/tun ({@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}): each read or
 * write is one Ethernet frame preceded by a 12-byte virtio-net header (the virtio 1.x layout,
 * {@code num_buffers} included), so a virtio-net device passes its headers straight through.
 * The fd is non-blocking. The device is not persistent: closing the fd removes the interface
 * (and its bridge port) from the host.
 */
public final class Tap implements AutoCloseable {

    /** The vnet header every frame carries: struct virtio_net_hdr_mrg_rxbuf. */
    public static final int VNET_HDR_SIZE = 12;
    /** Largest frame (header included) a TAP hands out: a 64 KiB GSO packet plus Ethernet and VLAN headers. */
    public static final int MAX_FRAME = VNET_HDR_SIZE + 65536 + 18;

    // TUNSETOFFLOAD flags: which offloaded (partial checksum, GSO) packets the reader accepts.
    public static final int OFFLOAD_CSUM = 0x01;
    public static final int OFFLOAD_TSO4 = 0x02;
    public static final int OFFLOAD_TSO6 = 0x04;
    public static final int OFFLOAD_TSO_ECN = 0x08;
    public static final int OFFLOAD_UFO = 0x10;

    static final long TUNSETIFF = 0x400454caL;
    static final long TUNSETOFFLOAD = 0x400454d0L;
    static final long TUNSETVNETHDRSZ = 0x400454d8L;
    static final int IFF_TAP = 0x0002;
    static final int IFF_NO_PI = 0x1000;
    static final int IFF_VNET_HDR = 0x4000;
    static final int IFNAMSIZ = 16;
    static final int IFREQ_SIZE = 40;
    static final int MAX_IOV = 1024;

    private final int fd;
    private final String name;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Tap(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /**
     * Creates a TAP named {@code name}; a name with {@code %d} (e.g. {@code "hgtap%d"}) lets the
     * kernel pick the first free number. Throws {@link NetSetupException} (one line that says
     * what the host lacks) when /dev/net/tun is missing or the caller has no CAP_NET_ADMIN.
     */
    public static Tap create(String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        if (n.length == 0 || n.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name must be 1 to 15 characters: \"" + name + "\"");
        }
        int fd;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            fd = (int) Libc.OPEN.invokeExact(state, a.allocateFrom("/dev/net/tun"),
                    Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0) {
                int errno = Libc.errno(state);
                throw new NetSetupException("open /dev/net/tun", errno, NetSetupException.hint(errno));
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = a.allocate(IFREQ_SIZE, 8);
            MemorySegment.copy(n, 0, ifr, JAVA_BYTE, 0, n.length);
            ifr.set(JAVA_SHORT, IFNAMSIZ, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
            ioctlOrExplain(fd, TUNSETIFF, ifr, "TUNSETIFF " + name);
            String actual = ifr.getString(0, StandardCharsets.US_ASCII);
            MemorySegment size = a.allocate(JAVA_INT);
            size.set(JAVA_INT, 0, VNET_HDR_SIZE);
            ioctlOrExplain(fd, TUNSETVNETHDRSZ, size, "TUNSETVNETHDRSZ " + actual);
            return new Tap(fd, actual);
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    private static void ioctlOrExplain(int fd, long request, MemorySegment arg, String call) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int r = (int) Libc.IOCTL_PTR.invokeExact(state, fd, request, arg);
            if (r < 0) {
                int errno = Libc.errno(state);
                throw new NetSetupException(call, errno, errno == Errno.EBUSY
                        ? "an interface of that name exists and is not a free TAP" : NetSetupException.hint(errno));
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** The interface's name on the host, e.g. {@code hgtap0}. */
    public String name() {
        return name;
    }

    /** The non-blocking fd, for an epoll set. */
    public int fd() {
        return fd;
    }

    /**
     * Tells the kernel which offloaded packets this reader accepts ({@code OFFLOAD_*} bits; 0 for
     * none: every packet then arrives complete, with its checksum). Returns false when the
     * kernel refuses the combination (EINVAL), leaving the previous setting.
     */
    public boolean setOffload(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int r = (int) Libc.IOCTL_LONG.invokeExact(state, fd, TUNSETOFFLOAD, (long) flags);
            if (r < 0) {
                int errno = Libc.errno(state);
                if (errno == Errno.EINVAL) {
                    return false;
                }
                throw new KvmException("TUNSETOFFLOAD " + name, errno);
            }
            return true;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * The size of the virtio-net header that starts every frame (TUNSETVNETHDRSZ): 12 for a
     * virtio 1.x driver or one with mergeable buffers, 10 for a legacy one.
     */
    public void setVnetHeaderSize(int bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_INT);
            size.set(JAVA_INT, 0, bytes);
            Libc.ioctl(fd, TUNSETVNETHDRSZ, size, "TUNSETVNETHDRSZ " + name);
        }
    }

    /** Reads one frame (vnet header first) into {@code into}; 0 when none is waiting. */
    public int read(MemorySegment into) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            long n = (long) Libc.READ.invokeExact(state, fd, into, into.byteSize());
            if (n < 0) {
                int errno = Libc.errno(state);
                if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                    return 0;
                }
                throw new KvmException("read " + name, errno);
            }
            return (int) n;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Reads one frame scattered over {@code parts} in order; 0 when none is waiting. */
    public long readv(List<MemorySegment> parts) {
        return vector(parts, true);
    }

    /**
     * Writes one frame (vnet header first) gathered from {@code parts}: no copy. Returns the
     * bytes taken, or 0 when the TAP's queue is full (the kernel then dropped nothing; the
     * caller may drop the frame, as a full link would).
     */
    public long writev(List<MemorySegment> parts) {
        return vector(parts, false);
    }

    /** Writes one frame from a single buffer; see {@link #writev}. */
    public long write(MemorySegment frame) {
        return writev(List.of(frame));
    }

    private long vector(List<MemorySegment> parts, boolean read) {
        if (parts.size() > MAX_IOV) {
            throw new IllegalArgumentException("a frame in " + parts.size() + " pieces (at most " + MAX_IOV + ")");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = a.allocate(16L * parts.size(), 8);
            for (int i = 0; i < parts.size(); i++) {
                MemorySegment p = parts.get(i);
                if (!p.isNative()) {
                    throw new IllegalArgumentException("TAP I/O needs native memory");
                }
                iov.set(JAVA_LONG, 16L * i, p.address());
                iov.set(JAVA_LONG, 16L * i + 8, p.byteSize());
            }
            MemorySegment state = Libc.newCallState(a);
            long n = read
                    ? (long) Libc.READV.invokeExact(state, fd, iov, parts.size())
                    : (long) Libc.WRITEV.invokeExact(state, fd, iov, parts.size());
            if (n < 0) {
                int errno = Libc.errno(state);
                if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                    return 0;
                }
                throw new KvmException((read ? "readv " : "writev ") + name, errno);
            }
            return n;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Closes the fd: the kernel removes the interface. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "tap " + name;
    }
}
