package hg.vmm;

import hg.kvm.KvmException;
import hg.kvm.net.HostNetwork;
import hg.vmm.internal.virtio.net.GuestNetConfig;
import hg.vmm.internal.virtio.net.SpoofFilterLoad;
import hg.vmm.internal.virtio.net.Uplink;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The host side of the guest network, set up ahead of the first VM: the bridge, the nftables
 * ruleset that holds every guest to its own MAC and IPv4 address, and when asked the uplink
 * (NAT) that lets guests reach beyond the host. Loading rulesets runs a program, so a VMM that
 * confines itself calls this first; one that does not gets the filter loaded before its first TAP.
 */
public final class GuestNetwork {
    private GuestNetwork() {}

    /** The interface guests reach beyond the host through, once one was set up. */
    private static volatile String uplink;

    /** Sets it up without an uplink in the calling thread's network namespace; one line per thing done or missing. */
    public static List<String> setUp() {
        return setUp(Optional.empty());
    }

    /** Sets it up, with guests let out through {@code uplinkInterface} when given; one line per thing done or missing. */
    public static List<String> setUp(Optional<String> uplinkInterface) {
        List<String> lines = new ArrayList<>();
        GuestNetConfig any = GuestNetConfig.forVm(1);
        boolean bridge = false;
        try (HostNetwork host = HostNetwork.open()) {
            host.ensureBridge(GuestNetConfig.DEFAULT_BRIDGE, GuestNetConfig.gatewayMac(), any.gateway(), any.prefixLength());
            bridge = true;
        } catch (KvmException e) {
            lines.add("warning: network: no bridge " + GuestNetConfig.DEFAULT_BRIDGE + " yet: " + e.getMessage());
        }
        SpoofFilterLoad.ensure().ifPresent(lines::add);
        if (uplinkInterface.isPresent() && bridge) {
            String line = Uplink.enable(GuestNetConfig.DEFAULT_BRIDGE, uplinkInterface.get());
            if (!line.startsWith("warning:")) {
                uplink = uplinkInterface.get();
            }
            lines.add(line);
        }
        return lines;
    }

    /** The interface guests reach beyond this host through, or empty: they reach the host and each other only. */
    public static Optional<String> uplink() {
        return Optional.ofNullable(uplink);
    }

    /** One line for users: where guests' network reaches. */
    public static String reach() {
        return uplink().map(u -> "guests on the bridge reach beyond this host through " + u + " (NAT)")
                .orElse("guests on the bridge reach this host and each other only (no uplink)");
    }
}
