package hg.vmm.internal.virtio.ninep;

import hg.ninep.NinepProtocolException;
import hg.ninep.NinepServer;
import hg.ninep.Share;
import hg.vmm.internal.virtio.DescriptorChain;
import hg.vmm.internal.virtio.SingleQueueDevice;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * virtio-9p (virtio 1.2 section 5.11 as Linux's 9pnet_virtio drives it): one queue of requests,
 * each a chain whose device-readable buffers hold a T-message and whose device-writable buffers
 * receive the R-message. Both are taken linearly across their buffers: Linux's zero-copy path
 * puts a small header buffer first and the payload's pages after it, and the message runs on
 * from one to the next. The config space is the mount tag (le16 length, then its bytes, no NUL),
 * offered with VIRTIO_9P_MOUNT_TAG.
 *
 * <p>The file system is {@link NinepServer}'s (confinement and bounds are there). A request the
 * server cannot answer at all (no tag to answer to, no room for even an error) marks the device
 * as needing a reset; anything else the guest gets wrong is an Rlerror.
 */
public final class VirtioNinep extends SingleQueueDevice {

    public static final int DEVICE_ID = 9;
    /**
     * Room for a whole zero-copy chain (a header and one descriptor per payload page: up to
     * 128 with Linux's 9pnet_virtio) in the ring or in an indirect table, which the queue
     * holds to its own size.
     */
    public static final int QUEUE_SIZE = 256;
    /** VIRTIO_9P_MOUNT_TAG: the config space carries the tag. */
    public static final int F_MOUNT_TAG = 0;

    private final NinepServer server;
    private final byte[] config;
    /** One request and one reply at a time: the queue's chains are served in turn. */
    private final ByteBuffer request = ByteBuffer.allocateDirect(NinepServer.MAX_MSIZE);
    private final ByteBuffer response = ByteBuffer.allocateDirect(NinepServer.MAX_MSIZE);

    /** Opens the share's root; {@link #close()} closes it. */
    public VirtioNinep(Share share) throws IOException {
        this.server = NinepServer.open(share);
        byte[] tag = share.tagBytes();
        this.config = new byte[2 + tag.length];
        config[0] = (byte) tag.length;
        config[1] = (byte) (tag.length >>> 8);
        System.arraycopy(tag, 0, config, 2, tag.length);
    }

    public Share share() {
        return server.share();
    }

    @Override
    public int deviceType() {
        return DEVICE_ID;
    }

    @Override
    public long deviceFeatures() {
        // Indirect descriptors: a zero-copy request of msize bytes spans more pages than the queue has slots.
        return Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC) | Virtio.bit(Virtio.F_EVENT_IDX)
                | Virtio.bit(F_MOUNT_TAG);
    }

    @Override
    public List<Integer> queueMaxSizes() {
        return List.of(QUEUE_SIZE);
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            long at = offset + i;
            data[i] = at >= 0 && at < config.length ? config[(int) at] : 0;
        }
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
        // Read-only config space.
    }

    /** The driver starts over: every fid of the old session is clunked and its files closed. */
    @Override
    protected void onReset() {
        server.reset();
    }

    /** Gathers the T-message, serves it, scatters the R-message; returns the bytes written. */
    @Override
    protected int serve(DescriptorChain chain) throws VirtioException {
        gather(chain);
        long writable = chain.writableBytes();
        response.clear().limit((int) Math.min(writable, response.capacity()));
        int n;
        try {
            n = server.serve(request, response);
        } catch (NinepProtocolException e) {
            throw new VirtioException("virtio-9p: " + e.getMessage());
        }
        scatter(chain, n);
        return n;
    }

    /** The readable buffers' bytes, in order, up to the largest msize (a longer message is refused by its size). */
    private void gather(DescriptorChain chain) {
        request.clear();
        MemorySegment into = MemorySegment.ofBuffer(request);
        long at = 0;
        for (DescriptorChain.Buffer b : chain.buffers()) {
            if (b.writable() || at == into.byteSize()) {
                continue;
            }
            long n = Math.min(b.length(), into.byteSize() - at);
            MemorySegment.copy(memory().slice(b.address(), n), 0, into, at, n);
            at += n;
        }
        request.limit((int) at);
    }

    private void scatter(DescriptorChain chain, int length) {
        MemorySegment from = MemorySegment.ofBuffer(response.clear());
        long at = 0;
        for (DescriptorChain.Buffer b : chain.buffers()) {
            if (!b.writable() || at == length) {
                continue;
            }
            long n = Math.min(b.length(), length - at);
            MemorySegment.copy(from, at, memory().slice(b.address(), n), 0, n);
            at += n;
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
