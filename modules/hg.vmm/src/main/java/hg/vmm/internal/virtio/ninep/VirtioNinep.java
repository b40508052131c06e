package hg.vmm.internal.virtio.ninep;

import hg.ninep.NinepProtocolException;
import hg.ninep.NinepServer;
import hg.ninep.Reply;
import hg.ninep.Share;
import hg.vmm.internal.virtio.DescriptorChain;
import hg.vmm.internal.virtio.SingleQueueDevice;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
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

    /** Below this a write's or read's data is copied with its message: a tail would cost more than the copy. */
    static final int BULK = 4096;

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

    /**
     * Gathers the T-message, serves it, scatters the R-message; returns the bytes written. A large
     * Twrite's data and a Tread's reply data stay in the guest's pages: the server moves them between
     * the file and there itself, with no copy of ours (Linux's zero-copy requests put them in pages of
     * their own, but this reads the chain as one stream whatever the layout).
     */
    @Override
    protected int serve(DescriptorChain chain) throws VirtioException {
        long readable = chain.readableBytes();
        long writable = chain.writableBytes();
        int type = readableByte(chain, 4);
        boolean bulkWrite = type == NinepServer.TWRITE && readable > NinepServer.TWRITE_HEADER + BULK;
        boolean bulkRead = type == NinepServer.TREAD && writable > NinepServer.RREAD_HEADER + BULK;
        gather(chain, bulkWrite ? NinepServer.TWRITE_HEADER : request.capacity());
        List<MemorySegment> requestTail = bulkWrite
                ? stream(chain, false, NinepServer.TWRITE_HEADER, NinepServer.MAX_MSIZE) : List.of();
        List<MemorySegment> responseTail = bulkRead
                ? stream(chain, true, NinepServer.RREAD_HEADER, NinepServer.MAX_MSIZE) : List.of();
        response.clear().limit((int) Math.min(bulkRead ? NinepServer.RREAD_HEADER : writable, response.capacity()));
        Reply reply;
        try {
            reply = server.serve(request, requestTail, response, responseTail);
        } catch (NinepProtocolException e) {
            throw new VirtioException("virtio-9p: " + e.getMessage());
        }
        scatter(chain, reply.inResponse());
        return reply.size();
    }

    /** Byte {@code at} of the chain's readable stream, or -1 when it is shorter. */
    private int readableByte(DescriptorChain chain, long at) {
        long skip = at;
        for (DescriptorChain.Buffer b : chain.buffers()) {
            if (b.writable()) {
                continue;
            }
            if (skip < b.length()) {
                return memory().readU8(b.address() + skip);
            }
            skip -= b.length();
        }
        return -1;
    }

    /** The chain's readable (or writable) stream from byte {@code from}, at most {@code max} bytes of it, as guest memory. */
    private List<MemorySegment> stream(DescriptorChain chain, boolean writable, long from, long max) {
        List<MemorySegment> out = new ArrayList<>();
        long skip = from;
        long left = max;
        for (DescriptorChain.Buffer b : chain.buffers()) {
            if (b.writable() != writable || left == 0) {
                continue;
            }
            if (skip >= b.length()) {
                skip -= b.length();
                continue;
            }
            long n = Math.min(b.length() - skip, left);
            out.add(memory().slice(b.address() + skip, n));
            left -= n;
            skip = 0;
        }
        return out;
    }

    /** The readable buffers' first {@code max} bytes, in order (a longer message is refused by its size). */
    private void gather(DescriptorChain chain, int max) {
        request.clear();
        MemorySegment into = MemorySegment.ofBuffer(request).asSlice(0, Math.min(max, request.capacity()));
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
