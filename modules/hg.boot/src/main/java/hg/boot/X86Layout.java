package hg.boot;

import hg.kvm.GuestMemory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Where things live in an x86 guest's physical address space: which ranges are RAM, the MMIO
 * hole below 4 GiB where the VMM puts its devices, and the fixed addresses of the boot
 * structures (all below 1 MiB, under the EBDA, so they never meet a kernel loaded at 1 MiB or above).
 */
public final class X86Layout {

    public static final long KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

    /** Start of the MMIO hole: guest RAM stops here and resumes at {@link #MMIO_HOLE_END}. */
    public static final long MMIO_HOLE_START = 3 * GiB;
    /** End (exclusive) of the MMIO hole; the IOAPIC (0xfec00000) and LAPIC (0xfee00000) sit at its top. */
    public static final long MMIO_HOLE_END = 4 * GiB;
    /** The IOAPIC's registers (top of the MMIO hole; the MP table names it): keep devices off this page. */
    public static final long IOAPIC_ADDRESS = 0xfec00000L;
    /** The local APICs' registers: keep devices off this page. */
    public static final long LAPIC_ADDRESS = 0xfee00000L;
    /** Smallest guest memory the layout accepts. */
    public static final long MIN_MEMORY_SIZE = 2 * MiB;
    /** Largest guest memory the layout accepts. */
    public static final long MAX_MEMORY_SIZE = 1024 * GiB;
    /** Guest memory sizes are whole pages. */
    public static final long PAGE_SIZE = 4096;

    /** Start of the extended BIOS data area: RAM below it is usable, [EBDA, 1 MiB) is reserved. */
    public static final long EBDA_START = 0x9fc00;
    /** First byte above the legacy ISA hole; kernels load at or above it. */
    public static final long HIMEM_START = 0x100000;

    /** GDT: null, 32-bit code (0x08, PVH), 64-bit code (0x10), data (0x18), 64-bit TSS (0x20, 16 bytes). */
    public static final long GDT_ADDRESS = 0x500;
    public static final long IDT_ADDRESS = 0x540;
    /** hvm_start_info, its memory map and module list for the PVH entry. */
    public static final long PVH_INFO_ADDRESS = 0x6000;
    /** boot_params, "the zero page". */
    public static final long ZERO_PAGE_ADDRESS = 0x7000;
    /** Initial stack pointer: the stack grows down into the page above the zero page. */
    public static final long BOOT_STACK_POINTER = 0x8ff0;
    public static final long PML4_ADDRESS = 0x9000;
    public static final long PDPT_ADDRESS = 0xa000;
    /** Four page directories of 2 MiB pages: the identity map covers the first 4 GiB. */
    public static final long PD_ADDRESS = 0xb000;
    public static final long IDENTITY_MAPPED = 4 * GiB;
    public static final long CMDLINE_ADDRESS = 0x20000;
    /** Room for the command line and its NUL, up to the EBDA. */
    public static final long CMDLINE_MAX_SIZE = EBDA_START - CMDLINE_ADDRESS;
    /** MP floating pointer and configuration table, in the first KiB of the EBDA where Linux scans. */
    public static final long MPTABLE_ADDRESS = EBDA_START;
    /** The most vCPUs the MP table describes (APIC ids 0..253, the IOAPIC takes the next id). */
    public static final int MAX_VCPUS = 254;

    private X86Layout() {
    }

    /**
     * The guest-physical RAM ranges for {@code memSize} bytes of guest memory: one range from 0
     * up to the MMIO hole, and the rest (if any) from 4 GiB up.
     */
    public static List<GuestMemory.Range> ramRanges(long memSize) throws GuestLayoutException {
        if (memSize < MIN_MEMORY_SIZE || memSize > MAX_MEMORY_SIZE) {
            throw new GuestLayoutException(String.format("guest memory size %d bytes is outside %d MiB .. %d GiB",
                    memSize, MIN_MEMORY_SIZE / MiB, MAX_MEMORY_SIZE / GiB));
        }
        if (memSize % PAGE_SIZE != 0) {
            throw new GuestLayoutException("guest memory size " + memSize + " is not a multiple of 4 KiB");
        }
        if (memSize <= MMIO_HOLE_START) {
            return List.of(new GuestMemory.Range(0, memSize));
        }
        return List.of(new GuestMemory.Range(0, MMIO_HOLE_START),
                new GuestMemory.Range(MMIO_HOLE_END, memSize - MMIO_HOLE_START));
    }

    /**
     * The E820 map for guest RAM made of {@code ranges}: the entries are sorted, do not overlap,
     * and together cover exactly the given ranges. The range at 0 is split into usable low RAM,
     * the reserved EBDA/VGA/BIOS area [0x9fc00, 1 MiB) (which holds the MP table) and RAM above 1 MiB;
     * the MMIO hole, being no RAM, does not appear.
     */
    public static List<E820Entry> e820(List<GuestMemory.Range> ranges) throws GuestLayoutException {
        List<GuestMemory.Range> sorted = new ArrayList<>(ranges);
        sorted.sort(new Comparator<>() {
            @Override
            public int compare(GuestMemory.Range a, GuestMemory.Range b) {
                return Long.compare(a.guestAddress(), b.guestAddress());
            }
        });
        if (sorted.isEmpty() || sorted.getFirst().guestAddress() != 0
                || sorted.getFirst().size() <= HIMEM_START) {
            throw new GuestLayoutException("guest RAM must start at 0 and extend above 1 MiB");
        }
        List<E820Entry> map = new ArrayList<>();
        GuestMemory.Range low = sorted.getFirst();
        map.add(new E820Entry(0, EBDA_START, E820Entry.RAM));
        map.add(new E820Entry(EBDA_START, HIMEM_START - EBDA_START, E820Entry.RESERVED));
        map.add(new E820Entry(HIMEM_START, low.size() - HIMEM_START, E820Entry.RAM));
        long previousEnd = low.size();
        for (GuestMemory.Range r : sorted.subList(1, sorted.size())) {
            if (r.guestAddress() < previousEnd) {
                throw new GuestLayoutException(String.format("guest RAM ranges overlap at 0x%x", r.guestAddress()));
            }
            map.add(new E820Entry(r.guestAddress(), r.size(), E820Entry.RAM));
            previousEnd = r.guestAddress() + r.size();
        }
        return List.copyOf(map);
    }

    /** The ranges a guest memory is made of. */
    static List<GuestMemory.Range> rangesOf(GuestMemory memory) {
        List<GuestMemory.Range> ranges = new ArrayList<>();
        for (GuestMemory.Region r : memory.regions()) {
            ranges.add(new GuestMemory.Range(r.guestAddress(), r.size()));
        }
        return ranges;
    }
}
