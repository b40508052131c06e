package hg.vmm.internal.virtio.net;

import java.io.IOException;
import java.net.Inet4Address;

/**
 * The nftables ruleset that keeps guests from sending as anyone else: every frame a guest TAP
 * brings into the bridge must carry that guest's MAC as its Ethernet source and be IPv4 from
 * its own address or ARP whose sender MAC and sender address are its own. Anything else a
 * guest sends (IPv6, VLAN-tagged frames, other EtherTypes, ARP for other hardware) is dropped
 * and counted.
 *
 * <p>It hooks the bridge's prerouting, which sees every frame a port brings in before the
 * bridge learns its source MAC, forwards it or passes it to the host: a dropped frame poisons
 * neither the forwarding database nor the host's neighbour table. Ports that are not guest
 * TAPs pass unchecked.
 *
 * <p>A guest's TAP name, MAC and address all follow from its network slot, so one set holds
 * {@code tap . mac . address} for every slot and the ruleset never changes while VMs come and
 * go: it is loaded once, before the VMM confines itself. The set is one element per slot (the
 * three values cannot be derived from each other inside nftables), one lookup per IPv4 frame,
 * two per ARP frame. The file replaces the table whole in one transaction, so loading it again
 * (a second VMM, a restart) neither duplicates it nor leaves a moment without it.
 */
public final class SpoofFilter {
    private SpoofFilter() {}

    public static final String TABLE = "hyper-gen";
    static final String SET = "guests";
    static final String CHAIN = "guests";
    /** Every TAP the VMM makes is named so ({@link TapNetwork#tapName}). */
    static final String TAP_PREFIX = "hgvm";

    /** The ruleset for every slot of the guest network, as nft reads it (some megabytes: stream it). */
    public static void write(Appendable out) throws IOException {
        write(out, 1, GuestNetConfig.MAX_ID);
    }

    /** The ruleset for every slot as one string (for tests: {@link #write} is what loads it). */
    static String ruleset() {
        return ruleset(1, GuestNetConfig.MAX_ID);
    }

    /** The ruleset for slots {@code first} to {@code last} as one string. */
    static String ruleset(int first, int last) {
        StringBuilder s = new StringBuilder(64 * (last - first + 1) + 1024);
        try {
            write(s, first, last);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // a StringBuilder does not throw
        }
        return s.toString();
    }

    /** Writes the ruleset for slots {@code first} to {@code last}. */
    static void write(Appendable s, int first, int last) throws IOException {
        if (!TapNetwork.tapName(first).startsWith(TAP_PREFIX)) {
            throw new IllegalStateException("guest TAPs are no longer named " + TAP_PREFIX + "N");
        }
        s.append("table bridge ").append(TABLE).append('\n');
        s.append("delete table bridge ").append(TABLE).append('\n');
        s.append("table bridge ").append(TABLE).append(" {\n");
        s.append("  set ").append(SET).append(" {\n");
        s.append("    type ifname . ether_addr . ipv4_addr\n");
        s.append("    flags constant\n");
        s.append("    elements = {\n");
        for (int slot = first; slot <= last; slot++) {
            GuestNetConfig net = GuestNetConfig.forVm(slot);
            s.append("      \"").append(TapNetwork.tapName(slot)).append("\" . ").append(net.macText()).append(" . ");
            appendAddress(s, net.address());
            s.append(slot < last ? ",\n" : "\n");
        }
        s.append("    }\n");
        s.append("  }\n");
        s.append("  chain ").append(CHAIN).append(" {\n");
        s.append("    type filter hook prerouting priority filter; policy accept;\n");
        s.append("    iifname != \"").append(TAP_PREFIX).append("*\" accept\n");
        s.append("    iifname . ether saddr . ip saddr @").append(SET).append(" accept\n");
        // The fixed sender fields are where the check reads them only in Ethernet/IPv4 ARP.
        s.append("    arp htype 1 arp ptype ip arp hlen 6 arp plen 4")
                .append(" iifname . ether saddr . arp saddr ip @").append(SET)
                .append(" iifname . arp saddr ether . arp saddr ip @").append(SET).append(" accept\n");
        s.append("    counter drop\n");
        s.append("  }\n");
        s.append("}\n");
    }

    private static void appendAddress(Appendable s, Inet4Address a) throws IOException {
        byte[] b = a.getAddress();
        s.append(Integer.toString(b[0] & 0xff)).append('.').append(Integer.toString(b[1] & 0xff)).append('.')
                .append(Integer.toString(b[2] & 0xff)).append('.').append(Integer.toString(b[3] & 0xff));
    }
}
