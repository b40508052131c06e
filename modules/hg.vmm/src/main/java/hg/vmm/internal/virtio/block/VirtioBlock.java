package hg.vmm.internal.virtio.block;

import hg.kvm.GuestMemory;
import hg.vmm.internal.virtio.DescriptorChain;
import hg.vmm.internal.virtio.SingleQueueDevice;
import hg.vmm.internal.virtio.VirtioException;
import hg.vmm.internal.virtio.Virtio;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * virtio-blk (virtio 1.2 section 5.2) on a {@link BlockBackend}: a raw image, or a copy-on-write
 * overlay over a frozen one. Requests: read, write, flush (fdatasync of whatever file takes the
 * writes) and get-id. Data moves straight between the files and guest memory, with no copy in between.
 *
 * <p>A read whose data the page cache holds, and a write (into the page cache), are served on the
 * VM's I/O thread; a read that would wait for the device under the image, and a flush, go to
 * {@link DiskThreads}, up to {@link #MAX_IN_FLIGHT} requests at once, and are returned as each
 * finishes: a guest with several requests out has those that wait served together, as from a real
 * disk, and the I/O thread goes on meanwhile, while what is cached costs no hand-over (handing the
 * cached ones to the threads as well was measured slower in the nest: a wake-up costs more there
 * than a copy from the page cache). The Linux block layer orders what must be ordered (a
 * flush waits for the writes it covers), so the device keeps no order of its own.
 *
 * <p>A request beyond the advertised limits (a data segment over {@link #SIZE_MAX}, more than
 * {@link #SEG_MAX} of them) gets an I/O error, as a malformed header does: a Linux driver keeps
 * to both, so whatever exceeds them is a guest that should not get more than an error for it.
 */
public final class VirtioBlock extends SingleQueueDevice {

    public static final int SECTOR_SIZE = 512;
    /**
     * Room for a 1 MiB request of 4 KiB pages in one chain (256 data segments with the header and status):
     * with 256 entries a driver splits such a request in two, 254 pages and 2, each with its own turn.
     */
    public static final int QUEUE_SIZE = 512;
    /** Largest segment a request may carry, and most segments per request (minus header and status). */
    public static final int SIZE_MAX = 1 << 20;
    public static final int SEG_MAX = QUEUE_SIZE - 2;
    public static final int ID_BYTES = 20;
    /**
     * What one disk may have out at once; each request that waits holds a disk thread, so one guest
     * holds at most this many of them (the rest wait their turn in the ring).
     */
    public static final int MAX_IN_FLIGHT = Math.min(16, DiskThreads.COUNT);

    static final int F_SIZE_MAX = 1, F_SEG_MAX = 2, F_RO = 5, F_FLUSH = 9;
    static final int T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8;
    static final int S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
    static final int HEADER_SIZE = 16;
    static final int CONFIG_SIZE = 24;

    /** Swapped by {@link #replace} while the I/O thread is held; read by it without a lock. */
    private volatile BlockBackend disk;
    private final byte[] id;
    private volatile long capacitySectors;
    private final byte[] config = new byte[CONFIG_SIZE];
    /** Data bytes the guest read and wrote, counted per segment that moved (for the VM's counters). */
    private final AtomicLong readBytes = new AtomicLong(), writtenBytes = new AtomicLong();

    /**
     * A device on a raw image; closing the device closes the image.
     *
     * @param id the serial the guest reads (get-id), at most 20 bytes are used
     */
    public VirtioBlock(DiskImage image, String id) throws IOException {
        this(ImageBackend.of(image), id);
    }

    /**
     * A device on any back end; closing the device closes it.
     *
     * @param id the serial the guest reads (get-id), at most 20 bytes are used
     */
    public VirtioBlock(BlockBackend disk, String id) {
        super(DiskThreads.SHARED, MAX_IN_FLIGHT);
        this.disk = disk;
        this.id = Arrays.copyOf(id.getBytes(StandardCharsets.US_ASCII), Math.min(ID_BYTES, id.length()));
        this.capacitySectors = disk.size() / SECTOR_SIZE;
        ByteBuffer c = ByteBuffer.wrap(config).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        c.putLong(0, capacitySectors);
        c.putInt(8, SIZE_MAX);
        c.putInt(12, SEG_MAX);
        c.putInt(20, SECTOR_SIZE);   // blk_size (only read with VIRTIO_BLK_F_BLK_SIZE, not offered)
    }

    public BlockBackend backend() {
        return disk;
    }

    public long capacitySectors() {
        return capacitySectors;
    }

    /** Data moved for the guest since the device was made: bytes read into and written from its memory. */
    public record Transferred(long readBytes, long writtenBytes) {
    }

    /** Safe from any thread; a request under way may be counted in part. */
    public Transferred transferred() {
        return new Transferred(readBytes.get(), writtenBytes.get());
    }

    @Override
    public int deviceType() {
        return Virtio.DEVICE_ID_BLOCK;
    }

    @Override
    public long deviceFeatures() {
        long f = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC) | Virtio.bit(Virtio.F_EVENT_IDX)
                | Virtio.bit(F_SIZE_MAX) | Virtio.bit(F_SEG_MAX) | Virtio.bit(F_FLUSH);
        if (disk.readOnly()) {
            f |= Virtio.bit(F_RO);
        }
        return f;
    }

    @Override
    public List<Integer> queueMaxSizes() {
        return List.of(QUEUE_SIZE);
    }

    /**
     * Puts the device on {@code next} (same read-only mode) and returns the backend it was on, which the
     * caller closes: the requests under way finish on it first. Call with the VM's I/O thread held, then
     * tell the driver through the transport; the guest sees the new capacity when it reads the
     * configuration again.
     */
    public synchronized BlockBackend replace(BlockBackend next) {
        if (next.readOnly() != disk.readOnly()) {
            throw new IllegalArgumentException("a disk's read-only mode is fixed when the driver starts");
        }
        quiesce();
        try {
            BlockBackend old = disk;
            disk = next;
            capacitySectors = next.size() / SECTOR_SIZE;
            ByteBuffer.wrap(config).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, capacitySectors);
            return old;
        } finally {
            resume();
        }
    }

    @Override
    public synchronized void readConfig(long offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            long o = offset + i;
            data[i] = o >= 0 && o < CONFIG_SIZE ? config[(int) o] : 0;
        }
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
        // Every field we offer is read-only (no writeback-cache toggle).
    }

    /** Serves one request; returns the number of bytes written into the chain's writable buffers. */
    @Override
    protected int serve(DescriptorChain chain) throws VirtioException {
        return serve(chain, true);
    }

    /** A read from the page cache, a write or a get-id; {@link #WOULD_WAIT} for a read from the device or a flush. */
    @Override
    protected int serveWithoutWaiting(DescriptorChain chain) throws VirtioException {
        return serve(chain, false);
    }

    private int serve(DescriptorChain chain, boolean mayWait) throws VirtioException {
        List<DescriptorChain.Buffer> buffers = chain.buffers();
        DescriptorChain.Buffer last = buffers.isEmpty() ? null : buffers.getLast();
        if (last == null || !last.writable() || last.length() < 1) {
            throw new VirtioException("block request without a status byte");
        }
        long statusAddress = last.address() + last.length() - 1;
        Request r = Request.split(buffers, memory());
        if (r == null) {
            return finish(statusAddress, S_IOERR, 0);
        }
        return switch (r.type()) {
            case T_IN -> {
                int status = r.readable().isEmpty()
                        ? transfer(r.sector(), r.writable(), r.writableBytes(), true, mayWait) : S_IOERR;
                yield status == WOULD_WAIT ? WOULD_WAIT
                        : finish(statusAddress, status, status == S_OK ? r.writableBytes() : 0);
            }
            case T_OUT -> !r.writable().isEmpty() ? finish(statusAddress, S_IOERR, 0)
                    : disk.readOnly() ? finish(statusAddress, S_IOERR, 0)
                    : finish(statusAddress, transfer(r.sector(), r.readable(), r.readableBytes(), false, true), 0);
            case T_FLUSH -> mayWait || disk.readOnly() ? finish(statusAddress, flush(), 0) : WOULD_WAIT;
            case T_GET_ID -> getId(statusAddress, r.writable());
            default -> finish(statusAddress, S_UNSUPP, 0);
        };
    }

    /**
     * A request's header and its data as slices of guest memory (the chain's buffers were checked to lie in
     * it), readable and writable apart, the final status byte left out. Plain loops and no stream: a 1 MiB
     * request has 254 segments, and under C1 each stream stage and each intermediate object costs a call
     * and an allocation per segment.
     */
    private record Request(int type, long sector, List<MemorySegment> readable, long readableBytes,
                           List<MemorySegment> writable, long writableBytes) {

        /** Null when the header is incomplete or the data is beyond the advertised limits. */
        static Request split(List<DescriptorChain.Buffer> buffers, GuestMemory memory) {
            byte[] header = new byte[HEADER_SIZE];
            int headerDone = 0;
            List<MemorySegment> readable = new ArrayList<>();
            List<MemorySegment> writable = new ArrayList<>();
            long readableBytes = 0;
            long writableBytes = 0;
            for (int i = 0; i < buffers.size(); i++) {
                DescriptorChain.Buffer b = buffers.get(i);
                long address = b.address();
                long length = b.length();
                if (i == buffers.size() - 1) {
                    length--;   // the status byte
                }
                if (!b.writable() && headerDone < HEADER_SIZE) {
                    int n = (int) Math.min(length, HEADER_SIZE - headerDone);
                    memory.read(address, header, headerDone, n);
                    headerDone += n;
                    address += n;
                    length -= n;
                }
                if (length > 0) {
                    if (length > SIZE_MAX) {
                        return null;
                    }
                    if (b.writable()) {
                        writable.add(memory.slice(address, length));
                        writableBytes += length;
                    } else {
                        readable.add(memory.slice(address, length));
                        readableBytes += length;
                    }
                }
            }
            if (headerDone != HEADER_SIZE || readable.size() > SEG_MAX || writable.size() > SEG_MAX) {
                return null;
            }
            ByteBuffer h = ByteBuffer.wrap(header).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            return new Request(h.getInt(0), h.getLong(8), readable, readableBytes, writable, writableBytes);
        }
    }

    /** A status, or {@link #WOULD_WAIT} for a read that may not wait and would. */
    private int transfer(long sector, List<MemorySegment> pieces, long bytes, boolean read, boolean mayWait) {
        if (bytes % SECTOR_SIZE != 0 || sector < 0 || sector > capacitySectors
                || bytes / SECTOR_SIZE > capacitySectors - sector) {
            return S_IOERR;
        }
        long position = sector * SECTOR_SIZE;
        try {
            // The whole request in one call where the back end can (a raw image: preadv/pwritev).
            if (read) {
                long placed = mayWait ? disk.read(pieces, position) : disk.readIfCached(pieces, position);
                if (placed == hg.kvm.sys.VectoredIo.NOT_CACHED) {
                    return WOULD_WAIT;
                }
                if (placed < bytes) {
                    zeroFrom(pieces, placed);   // the file shrank under us: the rest reads as zeros
                }
                readBytes.addAndGet(bytes);
            } else {
                disk.write(pieces, position);
                writtenBytes.addAndGet(bytes);
            }
            return S_OK;
        } catch (IOException e) {
            return S_IOERR;
        }
    }

    private static void zeroFrom(List<MemorySegment> pieces, long from) {
        long skip = from;
        for (MemorySegment p : pieces) {
            if (skip >= p.byteSize()) {
                skip -= p.byteSize();
                continue;
            }
            p.asSlice(skip).fill((byte) 0);
            skip = 0;
        }
    }

    private int flush() {
        if (disk.readOnly()) {
            return S_OK;
        }
        try {
            disk.flush();
            return S_OK;
        } catch (IOException e) {
            return S_IOERR;
        }
    }

    private int getId(long statusAddress, List<MemorySegment> writable) {
        // The id is up to 20 bytes, NUL-padded when shorter than the buffer.
        byte[] padded = Arrays.copyOf(id, ID_BYTES);
        int done = 0;
        for (MemorySegment s : writable) {
            if (done == ID_BYTES) {
                break;
            }
            int n = (int) Math.min(s.byteSize(), ID_BYTES - done);
            MemorySegment.copy(padded, done, s, ValueLayout.JAVA_BYTE, 0, n);
            done += n;
        }
        return finish(statusAddress, S_OK, done);
    }

    private int finish(long statusAddress, int status, long dataWritten) {
        memory().writeU8(statusAddress, status);
        return (int) Math.min(dataWritten + 1, Integer.MAX_VALUE);
    }

    /** Waits for the requests under way, which use the file and guest memory, then closes the back end. */
    @Override
    public void close() {
        quiesce();
        disk.close();
    }
}
