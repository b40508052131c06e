package hg.kvm.net;

import hg.kvm.sys.EventFd;
import hg.kvm.GuestMemory;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;
import hg.kvm.internal.Layouts;
import hg.kvm.internal.VhostAbi;

import java.lang.foreign.Arena;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One /dev/vhost-net instance: the host kernel serves a virtio-net device's rings straight from
 * guest memory and moves the frames to and from a TAP, so no frame passes through this process.
 * The calls follow the kernel's order: {@link #setOwner}, {@link #setFeatures}, {@link #setMemTable},
 * then per ring num, addr, base, kick, call (and err), and last {@link #setBackend}. Closing the fd
 * stops every ring and drops the kernel's references to the TAP and the eventfds.
 */
public final class VhostNet implements AutoCloseable {

    public static final String DEVICE = "/dev/vhost-net";

    /** What {@link #open} found: a device, or why there is none. */
    public sealed interface Opening permits Opened, Unavailable {
    }

    public record Opened(VhostNet device) implements Opening {
    }

    /**
     * @param reason one line: the path and what stopped it (e.g. "No such file or directory")
     * @param errno  the open's errno (ENOENT: no device; EACCES/EPERM: not allowed; ENODEV, ...)
     */
    public record Unavailable(String reason, int errno) implements Opening {
    }

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private VhostNet(int fd) {
        this.fd = fd;
    }

    /** Opens {@link #DEVICE}. */
    public static Opening open() {
        return open(DEVICE);
    }

    /** Opens a vhost-net device node at {@code path}; a failure is a value, not an exception. */
    public static Opening open(String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int fd = (int) Libc.OPEN.invokeExact(state, a.allocateFrom(path), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            if (fd < 0) {
                int errno = Libc.errno(state);
                return new Unavailable(path + ": " + Errno.description(errno) + " (" + Errno.name(errno) + ")", errno);
            }
            return new Opened(new VhostNet(fd));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public int fd() {
        return fd;
    }

    /** Binds the device to this process: its worker thread runs in our address space. Once, first. */
    public void setOwner() {
        Libc.ioctl(fd, VhostAbi.VHOST_SET_OWNER, 0L, "VHOST_SET_OWNER");
    }

    /** The virtio (and vhost) feature bits the kernel can serve. */
    public long features() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            Libc.ioctl(fd, VhostAbi.VHOST_GET_FEATURES, v, "VHOST_GET_FEATURES");
            return v.get(JAVA_LONG, 0);
        }
    }

    /** The negotiated features; only bits of {@link #features()} are accepted (EOPNOTSUPP otherwise). */
    public void setFeatures(long features) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            v.set(JAVA_LONG, 0, features);
            Libc.ioctl(fd, VhostAbi.VHOST_SET_FEATURES, v, "VHOST_SET_FEATURES");
        }
    }

    /** Tells the kernel where each region of guest memory lives in this process. */
    public void setMemTable(GuestMemory memory) {
        List<GuestMemory.Region> regions = memory.regions();
        GroupLayout r = VhostAbi.VHOST_MEMORY_REGION;
        long header = VhostAbi.VHOST_MEMORY.byteSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(header + r.byteSize() * regions.size(), 8);
            s.set(JAVA_INT, Layouts.offset(VhostAbi.VHOST_MEMORY, "nregions"), regions.size());
            for (int i = 0; i < regions.size(); i++) {
                GuestMemory.Region g = regions.get(i);
                long at = header + r.byteSize() * i;
                s.set(JAVA_LONG, at + Layouts.offset(r, "guest_phys_addr"), g.guestAddress());
                s.set(JAVA_LONG, at + Layouts.offset(r, "memory_size"), g.size());
                s.set(JAVA_LONG, at + Layouts.offset(r, "userspace_addr"), g.host().address());
            }
            Libc.ioctl(fd, VhostAbi.VHOST_SET_MEM_TABLE, s, "VHOST_SET_MEM_TABLE");
        }
    }

    public void setVringNum(int index, int size) {
        vringState(VhostAbi.VHOST_SET_VRING_NUM, index, size, "VHOST_SET_VRING_NUM");
    }

    /** The ring's three areas as addresses in this process (not guest-physical). */
    public void setVringAddr(int index, long descTable, long usedRing, long availRing) {
        GroupLayout l = VhostAbi.VHOST_VRING_ADDR;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(l);
            s.set(JAVA_INT, Layouts.offset(l, "index"), index);
            s.set(JAVA_LONG, Layouts.offset(l, "desc_user_addr"), descTable);
            s.set(JAVA_LONG, Layouts.offset(l, "used_user_addr"), usedRing);
            s.set(JAVA_LONG, Layouts.offset(l, "avail_user_addr"), availRing);
            Libc.ioctl(fd, VhostAbi.VHOST_SET_VRING_ADDR, s, "VHOST_SET_VRING_ADDR");
        }
    }

    /** The avail index the kernel starts taking buffers from. */
    public void setVringBase(int index, int base) {
        vringState(VhostAbi.VHOST_SET_VRING_BASE, index, base, "VHOST_SET_VRING_BASE");
    }

    /** The next avail index the kernel would take: where a successor must go on. */
    public int vringBase(int index) {
        GroupLayout l = VhostAbi.VHOST_VRING_STATE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(l);
            s.set(JAVA_INT, Layouts.offset(l, "index"), index);
            Libc.ioctl(fd, VhostAbi.VHOST_GET_VRING_BASE, s, "VHOST_GET_VRING_BASE");
            return s.get(JAVA_INT, Layouts.offset(l, "num"));
        }
    }

    /** The eventfd the driver's notifications arrive on (a KVM ioeventfd). */
    public void setVringKick(int index, EventFd kick) {
        vringFile(VhostAbi.VHOST_SET_VRING_KICK, index, kick.fd(), "VHOST_SET_VRING_KICK");
    }

    /** The eventfd the kernel signals when the driver should be interrupted. */
    public void setVringCall(int index, EventFd call) {
        vringFile(VhostAbi.VHOST_SET_VRING_CALL, index, call.fd(), "VHOST_SET_VRING_CALL");
    }

    /** The eventfd the kernel signals when it met a ring it cannot serve (a driver error). */
    public void setVringErr(int index, EventFd err) {
        vringFile(VhostAbi.VHOST_SET_VRING_ERR, index, err.fd(), "VHOST_SET_VRING_ERR");
    }

    /** Attaches ring {@code index} to the TAP with fd {@code tapFd}; -1 stops the ring. */
    public void setBackend(int index, int tapFd) {
        vringFile(VhostAbi.VHOST_NET_SET_BACKEND, index, tapFd, "VHOST_NET_SET_BACKEND");
    }

    /** Stops ring {@code index}: the kernel finishes what it is doing and lets the TAP go. */
    public void detachBackend(int index) {
        setBackend(index, VhostAbi.VHOST_FILE_UNBIND);
    }

    private void vringState(long request, int index, int num, String name) {
        GroupLayout l = VhostAbi.VHOST_VRING_STATE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(l);
            s.set(JAVA_INT, Layouts.offset(l, "index"), index);
            s.set(JAVA_INT, Layouts.offset(l, "num"), num);
            Libc.ioctl(fd, request, s, name);
        }
    }

    private void vringFile(long request, int index, int file, String name) {
        GroupLayout l = VhostAbi.VHOST_VRING_FILE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(l);
            s.set(JAVA_INT, Layouts.offset(l, "index"), index);
            s.set(JAVA_INT, Layouts.offset(l, "fd"), file);
            Libc.ioctl(fd, request, s, name);
        }
    }

    /** Closes the fd: the kernel stops every ring and releases what it held. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "vhost-net fd " + fd;
    }
}
