package hg.vmm.internal.virtio.net;

import hg.kvm.KvmException;
import hg.kvm.net.HostNetwork;
import hg.kvm.net.Ipv4Forwarding;
import hg.kvm.net.Nft;

import java.util.regex.Pattern;

/**
 * Guests beyond the host: what they send out of the bridge to the uplink interface leaves with
 * the uplink's address (nftables masquerade), and only the answers come back. Nothing else is
 * routed: IPv4 forwarding is turned on for the bridge and the uplink alone (a Linux interface
 * forwards what it receives only with its own {@code forwarding} on), and the table's forward
 * chain lets through guests to the uplink and the uplink's answers to them, and drops whatever
 * else would cross the bridge or come in by the uplink to go elsewhere. So a host with the
 * uplink reaches the guests' network no more than one without it, and the guests reach the
 * host's other networks no more than before.
 *
 * <p>Loaded with nft like {@link SpoofFilter} (one transaction, replacing the table whole), and
 * before the VMM confines itself; the forwarding switches are set over rtnetlink, which a
 * Landlock-confined VMM may still use where it could not write /proc/sys. All of it lands in the
 * calling thread's network namespace.
 */
public final class Uplink {
    private Uplink() {}

    public static final String TABLE = "hyper-gen-uplink";
    /** What Linux takes as an interface name, and nothing that could end a quoted nft string. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,15}");

    /** The ruleset that lets {@code bridge}'s guests out through {@code uplink}. */
    public static String ruleset(String bridge, String uplink) {
        requireName(bridge);
        requireName(uplink);
        String b = '"' + bridge + '"', u = '"' + uplink + '"';
        return "table ip " + TABLE + "\n"
                + "delete table ip " + TABLE + "\n"
                + "table ip " + TABLE + " {\n"
                + "  chain forward {\n"
                + "    type filter hook forward priority filter; policy accept;\n"
                + "    iifname " + b + " oifname " + u + " ip saddr " + GuestNetConfig.SUBNET + " accept\n"
                + "    iifname " + u + " oifname " + b + " ct state established,related accept\n"
                + "    iifname " + b + " counter drop\n"
                + "    oifname " + b + " counter drop\n"
                + "    iifname " + u + " counter drop\n"
                + "  }\n"
                + "  chain postrouting {\n"
                + "    type nat hook postrouting priority srcnat; policy accept;\n"
                + "    oifname " + u + " ip saddr " + GuestNetConfig.SUBNET + " masquerade\n"
                + "  }\n"
                + "}\n";
    }

    /**
     * Opens the way out through {@code uplink}; returns the line that says what came of it (a
     * "warning:" line when the guests stay on the host).
     */
    public static String enable(String bridge, String uplink) {
        if (!NAME.matcher(uplink).matches()) {
            return "warning: network: no uplink: '" + uplink + "' is not an interface name";
        }
        try (HostNetwork host = HostNetwork.open()) {
            if (!host.exists(uplink)) {
                return "warning: network: no uplink: this host has no interface " + uplink + "; guests reach the host and each other only";
            }
        }
        String refused = switch (Nft.load(ruleset(bridge, uplink))) {
            case Nft.Outcome.Loaded l -> null;
            case Nft.Outcome.Missing m -> "nft (nftables) is not installed";
            case Nft.Outcome.Failed f -> "the NAT table was not loaded (" + f.why() + ")";
        };
        if (refused != null) {
            return "warning: network: no uplink through " + uplink + ": " + refused + "; guests reach the host and each other only";
        }
        try {
            Ipv4Forwarding.enable(bridge);
            Ipv4Forwarding.enable(uplink);
        } catch (KvmException e) {
            return "warning: network: no uplink through " + uplink + ": cannot turn on forwarding (" + e.getMessage()
                    + "); guests reach the host and each other only";
        }
        return "network: guests reach beyond this host through " + uplink + " (NAT: nftables table ip " + TABLE + ")";
    }

    private static void requireName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not an interface name: '" + name + "'");
        }
    }
}
