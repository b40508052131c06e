package hg.vmm.internal.builder;

import hg.vmm.VmNet;
import hg.vmm.internal.virtio.net.GuestTraffic;
import hg.vmm.internal.virtio.net.VirtioNet;
import hg.vmm.internal.virtio.net.vhost.TapCounters;

import java.util.Optional;

/**
 * A VM's network card and what vm_list says of it; the data path is read live, as a failed vhost
 * set-up moves a card to Java.
 *
 * @param tapCounters for a card made with vhost-net, its TAP's counters; empty when the Java data
 *                    path serves it all its life (the card counts its frames itself then)
 */
public record NetCard(VirtioNet card, String mac, String address, String gateway, String tap,
                      Optional<TapCounters> tapCounters) {
    public VmNet info() {
        return new VmNet(mac, address, gateway, tap, card.dataPath());
    }

    /** The bytes the guest received and sent through this card so far. */
    public GuestTraffic traffic() {
        return tapCounters.map(TapCounters::read).orElseGet(() -> {
            VirtioNet.Stats s = card.stats();
            return new GuestTraffic(s.rxBytes(), s.txBytes());
        });
    }
}
