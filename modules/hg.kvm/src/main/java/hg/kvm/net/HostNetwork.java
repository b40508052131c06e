package hg.kvm.net;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The host's network interfaces as far as a VMM needs them, through the classic interface
 * ioctls on a datagram control socket (no netlink): bridges (create, delete, add and remove
 * ports), link up/down, one IPv4 address with its netmask. Every call acts in the network
 * namespace the control socket was opened in.
 */
public final class HostNetwork implements AutoCloseable {

    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 0x80000;

    static final long SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
    static final long SIOCGIFADDR = 0x8915, SIOCSIFADDR = 0x8916;
    static final long SIOCGIFNETMASK = 0x891b, SIOCSIFNETMASK = 0x891c;
    static final long SIOCGIFINDEX = 0x8933;
    static final long SIOCSIFHWADDR = 0x8924;
    private static final short ARPHRD_ETHER = 1;
    static final long SIOCBRADDBR = 0x89a0, SIOCBRDELBR = 0x89a1, SIOCBRADDIF = 0x89a2, SIOCBRDELIF = 0x89a3;
    static final int IFF_UP = 0x1;
    static final int EADDRNOTAVAIL = 99;

    private final int socket;
    private final AtomicBoolean closed = new AtomicBoolean();

    private HostNetwork(int socket) {
        this.socket = socket;
    }

    /** Opens the control socket in the calling thread's network namespace. */
    public static HostNetwork open() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int fd = (int) Libc.SOCKET.invokeExact(state, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new KvmException("socket AF_INET", Libc.errno(state));
            }
            return new HostNetwork(fd);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Whether an interface of that name exists. */
    public boolean exists(String name) {
        return index(name).isPresent();
    }

    /** The interface's index, or empty when there is none of that name. */
    public Optional<Integer> index(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(a, name);
            int errno = ioctl(SIOCGIFINDEX, ifr);
            if (errno == Errno.ENODEV) {
                return Optional.empty();
            }
            check(errno, "SIOCGIFINDEX " + name);
            return Optional.of(ifr.get(JAVA_INT, 16));
        }
    }

    /** Creates a bridge; false when an interface of that name already exists. */
    public boolean createBridge(String name) {
        try (Arena a = Arena.ofConfined()) {
            int errno = ioctl(SIOCBRADDBR, name(a, name));
            if (errno == Errno.EEXIST) {
                return false;
            }
            check(errno, "SIOCBRADDBR " + name);
            return true;
        }
    }

    /** Takes a bridge down and deletes it (its ports are released, not deleted). */
    public void deleteBridge(String name) {
        setUp(name, false);
        try (Arena a = Arena.ofConfined()) {
            check(ioctl(SIOCBRDELBR, name(a, name)), "SIOCBRDELBR " + name);
        }
    }

    /** Makes {@code port} (a TAP) a port of {@code bridge}. */
    public void attach(String bridge, String port) {
        bridgePort(SIOCBRADDIF, "SIOCBRADDIF", bridge, port);
    }

    public void detach(String bridge, String port) {
        bridgePort(SIOCBRDELIF, "SIOCBRDELIF", bridge, port);
    }

    private void bridgePort(long request, String call, String bridge, String port) {
        int index = index(port).orElseThrow(() -> new NetSetupException(call + " " + bridge + " " + port, Errno.ENODEV,
                "no interface " + port));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(a, bridge);
            ifr.set(JAVA_INT, 16, index);
            check(ioctl(request, ifr), call + " " + bridge + " " + port);
        }
    }

    public boolean isUp(String name) {
        return (flags(name) & IFF_UP) != 0;
    }

    /** Sets the link up or down. */
    public void setUp(String name, boolean up) {
        int flags = flags(name);
        int wanted = up ? flags | IFF_UP : flags & ~IFF_UP;
        if (wanted == flags) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(a, name);
            ifr.set(JAVA_SHORT, 16, (short) wanted);
            check(ioctl(SIOCSIFFLAGS, ifr), "SIOCSIFFLAGS " + name);
        }
    }

    private int flags(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(a, name);
            check(ioctl(SIOCGIFFLAGS, ifr), "SIOCGIFFLAGS " + name);
            return Short.toUnsignedInt(ifr.get(JAVA_SHORT, 16));
        }
    }

    /** Gives the interface its (only) IPv4 address: {@code address/prefixLength}. */
    public void setAddress(String name, Inet4Address address, int prefixLength) {
        if (prefixLength < 1 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length must be 1 to 32, not " + prefixLength);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(a, name);
            sockaddr(ifr, address.getAddress());
            check(ioctl(SIOCSIFADDR, ifr), "SIOCSIFADDR " + name);
            int mask = (int) (0xffff_ffffL << (32 - prefixLength));
            sockaddr(ifr, new byte[] {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask});
            check(ioctl(SIOCSIFNETMASK, ifr), "SIOCSIFNETMASK " + name);
        }
    }

    /** The interface's IPv4 address, or empty when it has none. */
    public Optional<Inet4Address> address(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(a, name);
            int errno = ioctl(SIOCGIFADDR, ifr);
            if (errno == EADDRNOTAVAIL) {
                return Optional.empty();
            }
            check(errno, "SIOCGIFADDR " + name);
            byte[] ip = new byte[4];
            MemorySegment.copy(ifr, JAVA_BYTE, 20, ip, 0, 4);
            return Optional.of((Inet4Address) InetAddress.getByAddress(ip));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);   // four bytes are always an address
        }
    }

    /** Sets the interface's Ethernet address. */
    public void setMac(String name, byte[] mac) {
        if (mac.length != 6) {
            throw new IllegalArgumentException("an Ethernet address has 6 bytes, not " + mac.length);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(a, name);
            ifr.set(JAVA_SHORT, 16, ARPHRD_ETHER);
            MemorySegment.copy(mac, 0, ifr, JAVA_BYTE, 18, 6);
            check(ioctl(SIOCSIFHWADDR, ifr), "SIOCSIFHWADDR " + name);
        }
    }

    /**
     * The bridge a VMM plugs its TAPs into: created when missing (with Ethernet address
     * {@code mac}), given {@code address/prefix} when it has no address yet, and brought up.
     * Returns whether it had to be created. A bridge without an address of its own takes its
     * lowest port's, so it would change whenever a guest's TAP comes or goes, and guests that
     * cached the gateway's old one (a restored VM) would talk to nobody.
     */
    public boolean ensureBridge(String name, byte[] mac, Inet4Address address, int prefixLength) {
        boolean created = createBridge(name);
        if (created) {
            setMac(name, mac);
        }
        if (address(name).isEmpty()) {
            setAddress(name, address, prefixLength);
        }
        setUp(name, true);
        return created;
    }

    private static void sockaddr(MemorySegment ifr, byte[] ip) {
        ifr.asSlice(16, 16).fill((byte) 0);
        ifr.set(JAVA_SHORT, 16, (short) AF_INET);
        MemorySegment.copy(ip, 0, ifr, JAVA_BYTE, 20, 4);
    }

    private static MemorySegment name(Arena a, String name) {
        MemorySegment s = a.allocate(Tap.IFNAMSIZ);
        byte[] n = checkedName(name);
        MemorySegment.copy(n, 0, s, JAVA_BYTE, 0, n.length);
        return s;
    }

    private static MemorySegment ifreq(Arena a, String name) {
        MemorySegment ifr = a.allocate(Tap.IFREQ_SIZE, 8);
        byte[] n = checkedName(name);
        MemorySegment.copy(n, 0, ifr, JAVA_BYTE, 0, n.length);
        return ifr;
    }

    private static byte[] checkedName(String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        if (n.length == 0 || n.length >= Tap.IFNAMSIZ || name.contains("/") || name.contains(" ")) {
            throw new IllegalArgumentException("not an interface name: \"" + name + "\"");
        }
        return n;
    }

    /** ioctl on the control socket; returns 0 or the errno. */
    private int ioctl(long request, MemorySegment arg) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int r = (int) Libc.IOCTL_PTR.invokeExact(state, socket, request, arg);
            return r < 0 ? Libc.errno(state) : 0;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private static void check(int errno, String call) {
        if (errno != 0) {
            throw new NetSetupException(call, errno, errno == Errno.EPERM || errno == Errno.EACCES
                    ? "changing network interfaces needs CAP_NET_ADMIN" : "");
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(socket);
        }
    }
}
