package hg.kvm.net;

import java.nio.ByteBuffer;

/** Ethernet frames for network tests: ARP requests and ICMP echo requests, and their checks. */
final class Frames {
    private Frames() {}

    static final int ETH_ARP = 0x0806, ETH_IP = 0x0800;

    static byte[] arpRequest(byte[] mac, byte[] ip, byte[] targetIp) {
        ByteBuffer b = ByteBuffer.allocate(42);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(mac).putShort((short) ETH_ARP);
        b.putShort((short) 1).putShort((short) ETH_IP).put((byte) 6).put((byte) 4).putShort((short) 1);
        b.put(mac).put(ip).put(new byte[6]).put(targetIp);
        return b.array();
    }

    static byte[] icmpEcho(byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp, int id, int seq, byte[] payload) {
        int icmpLen = 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + icmpLen);
        b.put(dstMac).put(srcMac).putShort((short) ETH_IP);
        int ip = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + icmpLen)).putShort((short) 0).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 1).putShort((short) 0).put(srcIp).put(dstIp);
        b.putShort(ip + 10, (short) checksum(b.array(), ip, 20));
        int icmp = b.position();
        b.put((byte) 8).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) seq).put(payload);
        b.putShort(icmp + 2, (short) checksum(b.array(), icmp, icmpLen));
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

    /** Whether {@code f} is an ARP reply telling {@code targetMac} where {@code senderIp} is. */
    static boolean isArpReply(byte[] f, byte[] senderIp, byte[] targetMac) {
        return f.length >= 42 && etherType(f) == ETH_ARP && f[20] == 0 && f[21] == 2
                && java.util.Arrays.equals(f, 28, 32, senderIp, 0, 4)
                && java.util.Arrays.equals(f, 32, 38, targetMac, 0, 6);
    }

    /** Whether {@code f} is an ICMP echo reply from {@code fromIp} with id/seq and an intact IP checksum. */
    static boolean isEchoReply(byte[] f, byte[] fromIp, int id, int seq) {
        if (f.length < 42 || etherType(f) != ETH_IP || f[23] != 1) {
            return false;
        }
        int ihl = (f[14] & 0x0f) * 4;
        int icmp = 14 + ihl;
        return java.util.Arrays.equals(f, 26, 30, fromIp, 0, 4) && checksum(f, 14, ihl) == 0
                && f[icmp] == 0 && (((f[icmp + 4] & 0xff) << 8) | (f[icmp + 5] & 0xff)) == id
                && (((f[icmp + 6] & 0xff) << 8) | (f[icmp + 7] & 0xff)) == seq;
    }
}
