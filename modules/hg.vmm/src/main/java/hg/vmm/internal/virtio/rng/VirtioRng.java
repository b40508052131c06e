package hg.vmm.internal.virtio.rng;

import hg.vmm.internal.log.RateLimitedLog;
import hg.vmm.internal.virtio.DescriptorChain;
import hg.vmm.internal.virtio.SingleQueueDevice;
import hg.vmm.internal.virtio.Virtio;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * virtio-rng (virtio 1.2 section 5.4): one queue of device-writable buffers that the device
 * fills with random bytes from the host ({@code /dev/urandom}), straight into guest memory.
 * So guests do not stall waiting for entropy at boot.
 */
public final class VirtioRng extends SingleQueueDevice {

    public static final int DEVICE_ID = 4;
    public static final int QUEUE_SIZE = 64;
    /** Most bytes one request gets: a driver asking for gigabytes gets a sane part of it. */
    public static final int MAX_PER_REQUEST = 64 * 1024;

    private static final System.Logger LOG = System.getLogger("hg.vmm.virtio");

    private final ReadableByteChannel source;
    private final boolean ownsSource;
    private final RateLimitedLog warnings;

    /** Fed from {@code source}, which {@link #close()} closes. */
    public VirtioRng(ReadableByteChannel source) {
        this(source, RateLimitedLog.to(LOG));
    }

    /** @param warnings where failed reads are logged: the VM's */
    public VirtioRng(ReadableByteChannel source, RateLimitedLog warnings) {
        this(source, true, warnings);
    }

    private VirtioRng(ReadableByteChannel source, boolean ownsSource, RateLimitedLog warnings) {
        this.source = source;
        this.ownsSource = ownsSource;
        this.warnings = warnings;
    }

    /**
     * Fed from the host's {@code /dev/urandom}, through one channel that every VM of the
     * process shares (FileChannel reads are thread safe): no open per VM, nothing to close.
     */
    public static VirtioRng fromUrandom() throws IOException {
        return fromUrandom(RateLimitedLog.to(LOG));
    }

    /** {@link #fromUrandom()} with the VM's warnings. */
    public static VirtioRng fromUrandom(RateLimitedLog warnings) throws IOException {
        return new VirtioRng(Urandom.channel(), false, warnings);
    }

    /** The process's one channel on /dev/urandom, opened on first use. */
    private static final class Urandom {
        private static FileChannel channel;

        static synchronized FileChannel channel() throws IOException {
            if (channel == null || !channel.isOpen()) {
                channel = FileChannel.open(Path.of("/dev/urandom"), StandardOpenOption.READ);
            }
            return channel;
        }
    }

    @Override
    public int deviceType() {
        return DEVICE_ID;
    }

    @Override
    public long deviceFeatures() {
        return Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_EVENT_IDX);
    }

    @Override
    public List<Integer> queueMaxSizes() {
        return List.of(QUEUE_SIZE);
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0);   // no config space
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
    }

    /** Fills the chain's writable buffers (readable ones are skipped); returns the bytes written. */
    @Override
    protected int serve(DescriptorChain chain) {
        int written = 0;
        try {
            for (DescriptorChain.Buffer b : chain.buffers()) {
                if (!b.writable() || written == MAX_PER_REQUEST) {
                    continue;
                }
                long n = Math.min(b.length(), MAX_PER_REQUEST - written);
                ByteBuffer into = memory().slice(b.address(), n).asByteBuffer();
                while (into.hasRemaining()) {
                    if (source.read(into) < 0) {
                        return written + into.position();
                    }
                }
                written += (int) n;
            }
        } catch (IOException e) {
            // The guest gets what was read; an empty answer makes it ask again later.
            // Once per request the guest makes: limited, or a guest asking in a loop floods the console.
            warnings.log("virtio-rng reads", System.Logger.Level.WARNING, "virtio-rng: reading host entropy failed: " + e);
        }
        return written;
    }

    @Override
    public void close() {
        if (!ownsSource) {
            return;
        }
        try {
            source.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "virtio-rng: closing the entropy source failed: " + e);
        }
    }
}
