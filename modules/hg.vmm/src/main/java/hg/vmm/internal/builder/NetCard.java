package hg.vmm.internal.builder;

import hg.vmm.VmNet;
import hg.vmm.internal.virtio.net.VirtioNet;

/** A VM's network card and what vm_list says of it; the data path is read live, as a failed vhost set-up moves a card to Java. */
public record NetCard(VirtioNet card, String mac, String address, String tap) {
    public VmNet info() {
        return new VmNet(mac, address, tap, card.dataPath());
    }
}
