package hg.kvm.net;

import hg.kvm.KvmException;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * Switches IPv4 forwarding on for one interface (what {@code /proc/sys/net/ipv4/conf/IFACE/forwarding}
 * holds) with one rtnetlink request: RTM_SETLINK by name with IFLA_AF_SPEC, AF_INET, IFLA_INET_CONF,
 * IPV4_DEVCONF_FORWARDING = 1. Netlink, not the file: a VMM confined by Landlock may not write under
 * /proc/sys. An interface forwards what it receives only with its own switch on, so forwarding between
 * two interfaces needs no host-wide {@code ip_forward}. The request goes to the calling thread's network
 * namespace.
 */
public final class Ipv4Forwarding {
    private Ipv4Forwarding() {}

    static final short RTM_SETLINK = 19;
    static final short NLM_F_ACK = 4;
    static final short IFLA_AF_SPEC = 26, IFLA_INET_CONF = 1, NLA_F_NESTED = (short) 0x8000;
    static final short AF_INET = 2;
    static final short IPV4_DEVCONF_FORWARDING = 1;

    /** Forwarding on for {@code name}; a {@link NetSetupException} when the kernel refuses (ENODEV: no such interface). */
    public static void enable(String name) {
        String call = "RTM_SETLINK " + name + " IPv4 forwarding";
        int fd = LinkStats.routeSocket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            MemorySegment request = request(a, name);
            long sent = (long) Libc.WRITE.invokeExact(state, fd, request, request.byteSize());
            if (sent < 0) {
                throw new NetSetupException(call, Libc.errno(state), "");
            }
            MemorySegment answer = a.allocate(4096, 8);
            long n = (long) Libc.READ.invokeExact(state, fd, answer, answer.byteSize());
            if (n < 0) {
                throw new NetSetupException(call, Libc.errno(state), "");
            }
            int error = ackError(answer.asSlice(0, n), call);
            if (error != 0) {
                throw new NetSetupException(call, error, "");
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        } finally {
            Libc.close(fd);
        }
    }

    /** nlmsghdr, ifinfomsg (by name, index 0), IFLA_IFNAME, and the nested forwarding switch. */
    static MemorySegment request(Arena a, String name) {
        byte[] n = LinkStats.interfaceName(name);
        int ifname = LinkStats.RTATTR + n.length + 1;
        int conf = LinkStats.RTATTR + LinkStats.RTATTR + 4;     // IFLA_INET_CONF { FORWARDING: u32 }
        int inet = LinkStats.RTATTR + conf;                       // AF_INET { ... }
        int spec = LinkStats.RTATTR + inet;                       // IFLA_AF_SPEC { ... }
        int length = LinkStats.NLMSG_HDR + LinkStats.IFINFOMSG + LinkStats.align(ifname) + spec;
        MemorySegment m = a.allocate(length, 8);
        m.set(JAVA_INT_UNALIGNED, 0, length);
        m.set(JAVA_SHORT_UNALIGNED, 4, RTM_SETLINK);
        m.set(JAVA_SHORT_UNALIGNED, 6, (short) (LinkStats.NLM_F_REQUEST | NLM_F_ACK));
        m.set(JAVA_INT_UNALIGNED, 8, 1);
        int at = LinkStats.NLMSG_HDR + LinkStats.IFINFOMSG;
        at = attribute(m, at, ifname, LinkStats.IFLA_IFNAME);
        MemorySegment.copy(n, 0, m, JAVA_BYTE, at, n.length);
        at = LinkStats.NLMSG_HDR + LinkStats.IFINFOMSG + LinkStats.align(ifname);
        at = attribute(m, at, spec, (short) (IFLA_AF_SPEC | NLA_F_NESTED));
        at = attribute(m, at, inet, (short) (AF_INET | NLA_F_NESTED));
        at = attribute(m, at, conf, (short) (IFLA_INET_CONF | NLA_F_NESTED));
        at = attribute(m, at, LinkStats.RTATTR + 4, IPV4_DEVCONF_FORWARDING);
        m.set(JAVA_INT_UNALIGNED, at, 1);
        return m;
    }

    /** Writes an attribute header at {@code at}; returns where its payload starts. */
    private static int attribute(MemorySegment m, int at, int length, short type) {
        m.set(JAVA_SHORT_UNALIGNED, at, (short) length);
        m.set(JAVA_SHORT_UNALIGNED, at + 2, type);
        return at + LinkStats.RTATTR;
    }

    /** The errno of the acknowledgement (0: done); throws when the answer is not one. */
    static int ackError(MemorySegment d, String call) {
        if (d.byteSize() < LinkStats.NLMSG_HDR + 4 || d.get(JAVA_SHORT_UNALIGNED, 4) != LinkStats.NLMSG_ERROR) {
            throw new KvmException(call, "the kernel's answer is not an acknowledgement");
        }
        return -d.get(JAVA_INT_UNALIGNED, LinkStats.NLMSG_HDR);
    }
}
