package hg.vmm.internal.virtio;

import java.util.List;

/**
 * A validated descriptor chain: every buffer lies inside guest memory, device-readable
 * buffers come before device-writable ones, and the totals fit in 32 bits.
 *
 * @param head the head index to return in the used ring
 */
public record DescriptorChain(int head, List<Buffer> buffers) {

    /** One guest buffer of the chain. */
    public record Buffer(long address, long length, boolean writable) {
    }

    public DescriptorChain {
        buffers = List.copyOf(buffers);
    }

    public long readableBytes() {
        return buffers.stream().filter(b -> !b.writable()).mapToLong(Buffer::length).sum();
    }

    public long writableBytes() {
        return buffers.stream().filter(Buffer::writable).mapToLong(Buffer::length).sum();
    }
}
