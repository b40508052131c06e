package hg.kvm.net;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * An interface's own packet and byte counters, as the kernel keeps them, through one rtnetlink
 * request (RTM_GETLINK by name, answered with IFLA_STATS64): no program run, no file of /sys or
 * /proc read. The netlink socket belongs to the network namespace of the thread that opened it,
 * and keeps asking there from whatever thread calls later.
 */
public final class LinkStats implements AutoCloseable {

    /** What the interface counted since it was made; rx is what it took in, tx what it gave out. */
    public record Totals(long rxPackets, long txPackets, long rxBytes, long txBytes) {
    }

    static final int AF_NETLINK = 16;
    static final int SOCK_RAW = 3;
    static final int SOCK_NONBLOCK = 0x800;
    static final int NETLINK_ROUTE = 0;
    static final short NLMSG_ERROR = 2;
    static final short RTM_NEWLINK = 16, RTM_GETLINK = 18;
    static final short NLM_F_REQUEST = 1;
    static final short IFLA_IFNAME = 3, IFLA_STATS64 = 23;
    /** The type bits of an attribute's type (NLA_F_NESTED and NLA_F_NET_BYTEORDER off). */
    static final int NLA_TYPE_MASK = 0x3fff;
    /** sizeof(struct nlmsghdr), sizeof(struct ifinfomsg), sizeof(struct rtattr). */
    static final int NLMSG_HDR = 16, IFINFOMSG = 16, RTATTR = 4;
    /** Offsets in struct rtnl_link_stats64. */
    static final int RX_PACKETS = 0, TX_PACKETS = 8, RX_BYTES = 16, TX_BYTES = 24;
    /** Room for one RTM_NEWLINK answer (a TAP's is under 2 KiB). */
    static final int ANSWER_SIZE = 32 * 1024;

    private final int socket;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment answer = arena.allocate(ANSWER_SIZE, 8);
    private int sequence;

    private LinkStats(int socket) {
        this.socket = socket;
    }

    /** Opens the netlink socket in the calling thread's network namespace. */
    public static LinkStats open() {
        return new LinkStats(routeSocket());
    }

    /**
     * A NETLINK_ROUTE socket in the calling thread's network namespace. Non-blocking: rtnetlink answers before
     * the request's write returns, so a read that would wait means no answer is coming, and a caller listing
     * VMs must not hang on it.
     */
    static int routeSocket() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int fd = (int) Libc.SOCKET.invokeExact(state, AF_NETLINK, SOCK_RAW | HostNetwork.SOCK_CLOEXEC | SOCK_NONBLOCK,
                    NETLINK_ROUTE);
            if (fd < 0) {
                throw new KvmException("socket AF_NETLINK NETLINK_ROUTE", Libc.errno(state));
            }
            return fd;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** An interface name as IFLA_IFNAME carries it (without its NUL); refuses what no interface can be called. */
    static byte[] interfaceName(String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        if (n.length == 0 || n.length >= Tap.IFNAMSIZ || name.contains("/") || name.contains(" ")) {
            throw new IllegalArgumentException("not an interface name: \"" + name + "\"");
        }
        return n;
    }

    /** The counters of interface {@code name}; a {@link NetSetupException} (ENODEV) when there is none. */
    public synchronized Totals of(String name) {
        if (closed.get()) {
            throw new IllegalStateException("the link statistics socket is closed");
        }
        int seq = ++sequence;
        String call = "RTM_GETLINK " + name;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment request = request(a, name, seq);
            MemorySegment state = Libc.newCallState(a);
            long sent = (long) Libc.WRITE.invokeExact(state, socket, request, request.byteSize());
            if (sent < 0) {
                throw new NetSetupException(call, Libc.errno(state), "");
            }
            while (true) {
                long n = (long) Libc.READ.invokeExact(state, socket, answer, answer.byteSize());
                if (n < 0) {
                    int errno = Libc.errno(state);
                    throw new NetSetupException(call, errno, errno == Errno.EAGAIN ? "the kernel did not answer" : "");
                }
                Totals t = parse(answer.asSlice(0, n), seq, call);
                if (t != null) {
                    return t;
                }
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** nlmsghdr, ifinfomsg (family AF_UNSPEC, any index) and IFLA_IFNAME with the name and its NUL. */
    static MemorySegment request(Arena a, String name, int seq) {
        byte[] n = interfaceName(name);
        int attr = RTATTR + n.length + 1;
        int length = NLMSG_HDR + IFINFOMSG + align(attr);
        MemorySegment m = a.allocate(length, 8);
        m.set(JAVA_INT_UNALIGNED, 0, length);
        m.set(JAVA_SHORT_UNALIGNED, 4, RTM_GETLINK);
        m.set(JAVA_SHORT_UNALIGNED, 6, NLM_F_REQUEST);
        m.set(JAVA_INT_UNALIGNED, 8, seq);
        int at = NLMSG_HDR + IFINFOMSG;
        m.set(JAVA_SHORT_UNALIGNED, at, (short) attr);
        m.set(JAVA_SHORT_UNALIGNED, at + 2, IFLA_IFNAME);
        MemorySegment.copy(n, 0, m, JAVA_BYTE, at + RTATTR, n.length);
        return m;
    }

    /**
     * The counters in one datagram of answers to request {@code seq}: null when it holds only
     * answers to other (earlier) requests; throws for an error answer or one without counters.
     */
    static Totals parse(MemorySegment d, int seq, String call) {
        long at = 0;
        while (at + NLMSG_HDR <= d.byteSize()) {
            int length = d.get(JAVA_INT_UNALIGNED, at);
            if (length < NLMSG_HDR || at + length > d.byteSize()) {
                throw new KvmException(call, "a netlink answer of " + length + " bytes does not fit its datagram");
            }
            short type = d.get(JAVA_SHORT_UNALIGNED, at + 4);
            int answerSeq = d.get(JAVA_INT_UNALIGNED, at + 8);
            if (answerSeq == seq) {
                if (type == NLMSG_ERROR && length >= NLMSG_HDR + 4) {
                    int error = d.get(JAVA_INT_UNALIGNED, at + NLMSG_HDR);
                    throw new NetSetupException(call, -error, "");
                }
                if (type == RTM_NEWLINK) {
                    return stats(d.asSlice(at + NLMSG_HDR + IFINFOMSG, Math.max(0, length - NLMSG_HDR - IFINFOMSG)), call);
                }
            }
            at += align(length);
        }
        return null;
    }

    private static Totals stats(MemorySegment attrs, String call) {
        long at = 0;
        while (at + RTATTR <= attrs.byteSize()) {
            int length = Short.toUnsignedInt(attrs.get(JAVA_SHORT_UNALIGNED, at));
            int type = attrs.get(JAVA_SHORT_UNALIGNED, at + 2) & NLA_TYPE_MASK;
            if (length < RTATTR || at + length > attrs.byteSize()) {
                break;
            }
            if (type == IFLA_STATS64 && length >= RTATTR + TX_BYTES + 8) {
                long s = at + RTATTR;
                return new Totals(attrs.get(JAVA_LONG_UNALIGNED, s + RX_PACKETS), attrs.get(JAVA_LONG_UNALIGNED, s + TX_PACKETS),
                        attrs.get(JAVA_LONG_UNALIGNED, s + RX_BYTES), attrs.get(JAVA_LONG_UNALIGNED, s + TX_BYTES));
            }
            at += align(length);
        }
        throw new KvmException(call, "the answer carries no IFLA_STATS64");
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            synchronized (this) {
                Libc.close(socket);
                arena.close();
            }
        }
    }
}
