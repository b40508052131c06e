package hg.vmm.internal.virtio.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;

/**
 * A guest's place on the host bridge, derived from its VM id alone (no DHCP): the network
 * 172.30.0.0/16 with the bridge at 172.30.0.1, VM {@code n} at 172.30.0.0 + n + 1, and the
 * locally administered MAC 02:68:67:xx:xx:xx ("hg") with the id in its last three bytes.
 * The guest learns its address from the kernel's {@code ip=} argument.
 */
public record GuestNetConfig(byte[] mac, Inet4Address address, Inet4Address gateway, int prefixLength) {

    public static final String DEFAULT_BRIDGE = "hgbr0";
    public static final int PREFIX_LENGTH = 16;
    private static final int NETWORK = 0xac1e_0000;   // 172.30.0.0
    /** The guests' network in CIDR notation. */
    public static final String SUBNET = "172.30.0.0/" + PREFIX_LENGTH;
    /** Ids beyond this would run into the network's broadcast address. */
    public static final int MAX_ID = (1 << (32 - PREFIX_LENGTH)) - 3;

    public GuestNetConfig {
        mac = mac.clone();
    }

    @Override
    public byte[] mac() {
        return mac.clone();
    }

    /**
     * The bridge's own Ethernet address, fixed so that it stays the guests' gateway's whatever
     * TAPs come and go; outside the guests' range (their fourth byte is 0).
     */
    public static byte[] gatewayMac() {
        return new byte[] {0x02, 0x68, 0x67, (byte) 0xff, 0x00, 0x01};
    }

    /** The addressing of VM {@code id} (1 to {@link #MAX_ID}). */
    public static GuestNetConfig forVm(int id) {
        if (id < 1 || id > MAX_ID) {
            throw new IllegalArgumentException("VM id " + id + " has no address on the guest network (1 to " + MAX_ID + ")");
        }
        byte[] mac = {0x02, 0x68, 0x67, (byte) (id >>> 16), (byte) (id >>> 8), (byte) id};
        return new GuestNetConfig(mac, ipv4(NETWORK + id + 1), ipv4(NETWORK + 1), PREFIX_LENGTH);
    }

    /**
     * A MAC for a card on a TAP the caller made and gave no MAC for: locally administered, outside hyper-gen's own
     * guests' 02:68:67 range, the same for the same TAP name.
     */
    public static byte[] derivedMac(String tapName) {
        int h = tapName.hashCode();
        return new byte[] {0x06, 0x68, 0x67, (byte) (h >>> 16), (byte) (h >>> 8), (byte) h};
    }

    /** The kernel argument that configures eth0 statically: {@code ip=<guest>::<gw>:<mask>::eth0:off}. */
    public String kernelArgument() {
        return "ip=" + address.getHostAddress() + "::" + gateway.getHostAddress() + ":" + netmask().getHostAddress()
                + "::eth0:off";
    }

    public Inet4Address netmask() {
        return ipv4((int) (0xffff_ffffL << (32 - prefixLength)));
    }

    public String macText() {
        return HexFormat.ofDelimiter(":").formatHex(mac);
    }

    private static Inet4Address ipv4(int v) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);   // four bytes are always an address
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GuestNetConfig g && java.util.Arrays.equals(mac, g.mac) && address.equals(g.address)
                && gateway.equals(g.gateway) && prefixLength == g.prefixLength;
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(mac) * 31 + address.hashCode();
    }

    @Override
    public String toString() {
        return macText() + " " + address.getHostAddress() + "/" + prefixLength + " via " + gateway.getHostAddress();
    }
}
