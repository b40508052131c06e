package hg.vmm.internal.virtio.net.vhost;

/**
 * Whether KVM completes a card's InterruptACK write of the used-buffer bit itself, without an exit
 * to the VMM. Turned on only while the host kernel raises the card's interrupt (vhost-net on the
 * irqfd): the transport then reports that bit pending on every InterruptStatus read anyway, so
 * the write it no longer sees changes nothing, and the guest's interrupt handler leaves the guest
 * once per interrupt (its InterruptStatus read) instead of twice. Any other value written, such as
 * the config-change bit, still reaches the transport.
 */
@FunctionalInterface
public interface AckInKernel {
    /** Starts ({@code true}) or stops ({@code false}) completing the write in KVM; repeating a state does nothing. */
    void absorb(boolean on);

    /** For a card whose writes always reach the transport. */
    AckInKernel NEVER = on -> { };
}
