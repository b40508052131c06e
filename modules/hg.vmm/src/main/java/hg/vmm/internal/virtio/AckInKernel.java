package hg.vmm.internal.virtio;

/**
 * Whether KVM completes a transport's InterruptACK write of the used-buffer bit itself, without an
 * exit to the VMM. A Linux virtio-mmio driver reads InterruptStatus and writes the same value back
 * on every interrupt, each an exit; with the write completed in KVM, the transport reports the
 * used-buffer bit pending on every read and raises the interrupt for every batch of used buffers,
 * so the guest leaves once per interrupt instead of twice. Any other value written (the
 * config-change bit) still reaches the transport.
 */
@FunctionalInterface
public interface AckInKernel {
    /**
     * Starts ({@code true}) or stops ({@code false}) completing the write in KVM; repeating a state
     * does nothing. Returns whether KVM completes it now: false after a stop, or when KVM refused.
     */
    boolean absorb(boolean on);

    /** For a transport whose writes always reach it (tests, tools). */
    AckInKernel NEVER = on -> false;
}
