package hg.vmm;

import hg.kvm.KvmException;
import hg.kvm.net.HostNetwork;
import hg.vmm.internal.virtio.net.GuestNetConfig;
import hg.vmm.internal.virtio.net.SpoofFilterLoad;

import java.util.ArrayList;
import java.util.List;

/**
 * The host side of the guest network, set up ahead of the first VM: the bridge, and the
 * nftables ruleset that holds every guest to its own MAC and IPv4 address. Loading the ruleset
 * runs a program, so a VMM that confines itself calls this first; one that does not gets the
 * same done before its first TAP.
 */
public final class GuestNetwork {
    private GuestNetwork() {}

    /** Sets it up in the calling thread's network namespace; returns one line per thing done or missing. */
    public static List<String> setUp() {
        List<String> lines = new ArrayList<>();
        GuestNetConfig any = GuestNetConfig.forVm(1);
        try (HostNetwork host = HostNetwork.open()) {
            host.ensureBridge(GuestNetConfig.DEFAULT_BRIDGE, GuestNetConfig.gatewayMac(), any.gateway(), any.prefixLength());
        } catch (KvmException e) {
            lines.add("warning: network: no bridge " + GuestNetConfig.DEFAULT_BRIDGE + " yet: " + e.getMessage());
        }
        SpoofFilterLoad.ensure().ifPresent(lines::add);
        return lines;
    }
}
