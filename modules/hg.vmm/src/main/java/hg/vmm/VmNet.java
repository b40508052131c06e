package hg.vmm;

/**
 * A VM's network card as {@code vm_list} shows it.
 *
 * @param mac      the guest's MAC address, e.g. {@code 02:68:67:00:00:01}
 * @param address  the guest's IPv4 address with its prefix, e.g. {@code 172.30.0.2/16}, or {@code -} on a
 *                 caller's TAP (the caller's to give)
 * @param gateway  the guest's gateway (the bridge), e.g. {@code 172.30.0.1}, or empty on a caller's TAP
 * @param tap      the host's TAP and bridge, e.g. {@code tap hgvm1 on hgbr0}
 * @param dataPath who moves the frames: {@code java} (the VMM's own virtio-net) or {@code vhost-net}
 */
public record VmNet(String mac, String address, String gateway, String tap, String dataPath) {
}
