package hg.vmm.internal.virtio.net.vhost;

import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.net.VirtioNet;

/**
 * Which virtio-net features a card can offer when vhost-net serves its queues, and which of the
 * negotiated ones the kernel is told. The split: the ring and buffer layout (VERSION_1,
 * EVENT_IDX, INDIRECT_DESC, MRG_RXBUF) is vhost's to implement, so a bit vhost lacks is not
 * offered; the checksum and segmentation offloads are the TAP's (TUNSETOFFLOAD) and the MAC and
 * link status are config space, so vhost never sees them.
 */
public final class VhostFeatures {
    private VhostFeatures() {}

    /** The bits our device offers that only work if the kernel implements them. */
    static final long VHOST_IMPLEMENTED = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_EVENT_IDX)
            | Virtio.bit(Virtio.F_INDIRECT_DESC) | Virtio.bit(VirtioNet.F_MRG_RXBUF);

    /** A kernel without VERSION_1 cannot serve a virtio 1.x device (the only kind we offer). */
    public static boolean usable(long vhostFeatures) {
        return (vhostFeatures & Virtio.bit(Virtio.F_VERSION_1)) != 0;
    }

    /** What the card offers the driver: its own features less the ring features the kernel lacks. */
    public static long offered(long deviceFeatures, long vhostFeatures) {
        return deviceFeatures & ~(VHOST_IMPLEMENTED & ~vhostFeatures);
    }

    /**
     * What VHOST_SET_FEATURES gets: the negotiated bits the kernel knows (it refuses any other).
     * VHOST_NET_F_VIRTIO_NET_HDR stays off: the TAP reads and writes the header, so vhost passes it through.
     */
    public static long forKernel(long negotiated, long vhostFeatures) {
        return negotiated & vhostFeatures & VHOST_IMPLEMENTED;
    }

    /** The virtio-net header the driver uses: 12 bytes with VERSION_1 or MRG_RXBUF, else the legacy 10. */
    public static int headerSize(long negotiated) {
        return (negotiated & (Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(VirtioNet.F_MRG_RXBUF))) != 0 ? 12 : 10;
    }
}
