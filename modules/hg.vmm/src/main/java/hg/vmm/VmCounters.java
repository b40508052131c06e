package hg.vmm;

/**
 * What a VM has done since it was made, for metrics. A restored VM (and a clone) counts from 0:
 * its vCPU loops, devices and TAP are new, and a snapshot keeps no counts.
 *
 * @param vcpuExits      exits from KVM_RUN the VMM handled, of every kind, summed over the vCPUs
 * @param diskReadBytes  data bytes the guest read through its virtio-blk disks, all of them
 * @param diskWriteBytes data bytes the guest wrote through them
 * @param netRxBytes     bytes of the Ethernet frames the guest received (0 without a network card)
 * @param netTxBytes     bytes of the Ethernet frames the guest sent
 */
public record VmCounters(long vcpuExits, long diskReadBytes, long diskWriteBytes, long netRxBytes, long netTxBytes) {
    public static final VmCounters NONE = new VmCounters(0, 0, 0, 0, 0);
}
