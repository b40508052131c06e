package hg.vmm.internal.virtio.net;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** Ethernet frames as a guest would write them (ARP, IPv4 ICMP echo, IPv6), and their checks. */
final class GuestFrames {
    private GuestFrames() {}

    static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    static final int ETH_IP = 0x0800, ETH_ARP = 0x0806, ETH_IPV6 = 0x86dd;
    static final int ARP_REQUEST = 1, ARP_REPLY = 2;

    static byte[] arp(byte[] ethSrc, byte[] ethDst, int op, byte[] senderMac, byte[] senderIp, byte[] targetMac, byte[] targetIp) {
        ByteBuffer b = ByteBuffer.allocate(42);
        b.put(ethDst).put(ethSrc).putShort((short) ETH_ARP);
        b.putShort((short) 1).putShort((short) ETH_IP).put((byte) 6).put((byte) 4).putShort((short) op);
        b.put(senderMac).put(senderIp).put(targetMac).put(targetIp);
        return b.array();
    }

    /** An ICMP echo request whose id marks it, so a receiver can tell the frames of a test apart. */
    static byte[] echo(byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp, int id) {
        byte[] payload = "hyper-gen spoof test".getBytes();
        int icmpLen = 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + icmpLen);
        b.put(dstMac).put(srcMac).putShort((short) ETH_IP);
        int ip = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + icmpLen)).putShort((short) 0).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 1).putShort((short) 0).put(srcIp).put(dstIp);
        b.putShort(ip + 10, (short) checksum(b.array(), ip, 20));
        int icmp = b.position();
        b.put((byte) 8).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) 1).put(payload);
        b.putShort(icmp + 2, (short) checksum(b.array(), icmp, icmpLen));
        return b.array();
    }

    /** An IPv6 header with no payload (next header 59). */
    static byte[] ipv6(byte[] srcMac, byte[] dstMac) {
        ByteBuffer b = ByteBuffer.allocate(14 + 40);
        b.put(dstMac).put(srcMac).putShort((short) ETH_IPV6);
        b.putInt(0x6000_0000).putShort((short) 0).put((byte) 59).put((byte) 64);
        b.put(new byte[] {(byte) 0xfe, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
        b.put(new byte[] {(byte) 0xfe, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
        return b.array();
    }

    static int checksum(byte[] d, int off, int len) {
        long sum = 0;
        for (int i = 0; i < len; i += 2) {
            sum += ((d[off + i] & 0xff) << 8) | (i + 1 < len ? d[off + i + 1] & 0xff : 0);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    static int etherType(byte[] f) {
        return ((f[12] & 0xff) << 8) | (f[13] & 0xff);
    }

    /** An ICMP echo request or reply with this id. */
    static boolean isEcho(byte[] f, int type, int id) {
        if (f.length < 42 || etherType(f) != ETH_IP || f[23] != 1) {
            return false;
        }
        int icmp = 14 + (f[14] & 0x0f) * 4;
        return f[icmp] == type && (((f[icmp + 4] & 0xff) << 8) | (f[icmp + 5] & 0xff)) == id;
    }

    static boolean isArp(byte[] f, int op, byte[] senderIp) {
        return f.length >= 42 && etherType(f) == ETH_ARP && f[21] == op && Arrays.equals(f, 28, 32, senderIp, 0, 4);
    }

    static byte[] senderMac(byte[] arp) {
        return Arrays.copyOfRange(arp, 22, 28);
    }
}
