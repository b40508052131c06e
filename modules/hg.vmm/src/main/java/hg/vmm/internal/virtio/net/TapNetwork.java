package hg.vmm.internal.virtio.net;

import hg.kvm.net.HostNetwork;
import hg.kvm.net.Tap;

/**
 * The host side of a VM's network card: a TAP named after the VM, plugged into the bridge
 * (made when missing, with the guest network's gateway address) behind the filter that holds
 * each guest to its own addresses ({@link SpoofFilter}). Closing the backend removes the TAP
 * (it is not persistent), and with it the bridge port. Everything happens in the calling
 * thread's network namespace.
 */
public final class TapNetwork {
    private TapNetwork() {}

    private static final System.Logger LOG = System.getLogger("hg.vmm.net");

    /** The TAP's name for VM {@code id}: {@code hgvm<id>}. */
    public static String tapName(int id) {
        return "hgvm" + id;
    }

    /**
     * Makes VM {@code id}'s TAP on {@code bridge}. Throws {@link hg.kvm.net.NetSetupException}
     * (one line naming the call and what the host lacks) and leaves nothing behind when the
     * host cannot do it.
     */
    public static TapBackend attach(String bridge, int id, GuestNetConfig net) {
        // The TAP first: a host without TUN/TAP or CAP_NET_ADMIN fails before the bridge is touched.
        Tap tap = Tap.create(tapName(id));
        // Before the TAP is up, so no frame of the guest's passes unfiltered; done once, usually at start-up.
        SpoofFilterLoad.ensure().ifPresent(line -> LOG.log(SpoofFilterLoad.filtered(line)
                ? System.Logger.Level.INFO : System.Logger.Level.WARNING, line));
        try (HostNetwork host = HostNetwork.open()) {
            host.ensureBridge(bridge, GuestNetConfig.gatewayMac(), net.gateway(), net.prefixLength());
            host.attach(bridge, tap.name());
            host.setUp(tap.name(), true);
            return new TapBackend(tap, "tap " + tap.name() + " on " + bridge);
        } catch (RuntimeException e) {
            tap.close();
            throw e;
        }
    }
}
