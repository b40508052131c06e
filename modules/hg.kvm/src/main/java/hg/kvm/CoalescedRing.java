package hg.kvm;

import hg.kvm.internal.Layouts;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * KVM's ring of coalesced writes: one per VM, seen through a page of a vCPU's kvm_run mapping. A guest's
 * writes to a zone registered with {@link VmFd#registerCoalescedPio} land here instead of exiting; KVM
 * exits as usual when the ring is full. The VMM replays them, in order, before it handles any exit, so
 * that every access it sees comes after the writes the guest made before it. KVM writes the entries and
 * {@code last}; only {@link #drain} moves {@code first}.
 */
public final class CoalescedRing implements AutoCloseable {
    /** The ring's page in a vCPU's mmap on x86 (KVM_COALESCED_MMIO_PAGE_OFFSET). */
    public static final int PAGE_OFFSET = 2;
    static final int PAGE = 4096;
    static final long HEADER = Layouts.KVM_COALESCED_MMIO_RING.byteSize();
    static final long ENTRY = Layouts.KVM_COALESCED_MMIO.byteSize();
    /** KVM_COALESCED_MMIO_MAX: the entries that fit in the page after the header. */
    public static final int CAPACITY = (int) ((PAGE - HEADER) / ENTRY);

    private static final long FIRST = Layouts.offset(Layouts.KVM_COALESCED_MMIO_RING, "first");
    private static final long LAST = Layouts.offset(Layouts.KVM_COALESCED_MMIO_RING, "last");
    private static final long PHYS_ADDR = Layouts.offset(Layouts.KVM_COALESCED_MMIO, "phys_addr");
    private static final long LEN = Layouts.offset(Layouts.KVM_COALESCED_MMIO, "len");
    private static final long PIO = Layouts.offset(Layouts.KVM_COALESCED_MMIO, "pio");
    private static final long DATA = Layouts.offset(Layouts.KVM_COALESCED_MMIO, "data");
    private static final VarHandle INT = JAVA_INT.varHandle();

    /** Where a replayed write goes: {@code length} (1 to 8) bytes of {@code data}, little-endian. */
    @FunctionalInterface
    public interface Writes {
        void write(boolean pio, long address, long data, int length);
    }

    private final MemorySegment page;
    private boolean closed;

    /** Puts the low {@code into.length} bytes of a replayed write's {@code data} into {@code into}, as the guest wrote them. */
    public static byte[] unpack(long data, byte[] into) {
        for (int i = 0; i < into.length; i++) {
            into[i] = (byte) (data >>> 8 * i);
        }
        return into;
    }

    /** Over {@code page}: the ring's page of a vCPU mapping (or, in tests, any page laid out as KVM does). */
    public CoalescedRing(MemorySegment page) {
        if (page.byteSize() < PAGE) {
            throw new IllegalArgumentException("the ring is a page of " + PAGE + " bytes, not " + page.byteSize());
        }
        this.page = page.asSlice(0, PAGE);
    }

    /** Replays every write in the ring, oldest first, and frees its entries; returns how many there were. */
    public synchronized int drain(Writes to) {
        if (closed) {
            return 0;
        }
        int first = (int) INT.getVolatile(page, FIRST);
        // Acquire: the entries KVM wrote before it moved last are visible once last is.
        int last = (int) INT.getAcquire(page, LAST);
        if (first < 0 || first >= CAPACITY || last < 0 || last >= CAPACITY) {
            return 0;   // not a ring KVM keeps: nothing to trust in it
        }
        int n = 0;
        while (first != last) {
            long at = HEADER + first * ENTRY;
            int length = Math.min(8, Math.max(0, page.get(JAVA_INT, at + LEN)));
            long data = 0;
            for (int i = length - 1; i >= 0; i--) {
                data = data << 8 | Byte.toUnsignedLong(page.get(JAVA_BYTE, at + DATA + i));
            }
            boolean pio = page.get(JAVA_INT, at + PIO) != 0;
            long address = page.get(JAVA_LONG, at + PHYS_ADDR);
            first = (first + 1) % CAPACITY;
            // Release: KVM may reuse the entry only after it has been read.
            INT.setRelease(page, FIRST, first);
            to.write(pio, address, data, length);
            n++;
        }
        return n;
    }

    /**
     * Ends all use of the page: a drain under way finishes first, later ones do nothing. Call before the
     * vCPU whose mapping the ring is seen through is closed.
     */
    @Override
    public synchronized void close() {
        closed = true;
    }
}
