package hg.kvm;

import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Guest-physical memory: a sorted set of non-overlapping regions, each backed by a host
 * memory segment. Every access is bounds-checked against one region, so nothing a guest or
 * a file says can reach host memory outside the guest.
 */
public final class GuestMemory implements AutoCloseable {

    /** One contiguous guest-physical range and the host memory behind it. */
    public record Region(long guestAddress, MemorySegment host) {
        public long size() {
            return host.byteSize();
        }

        public long end() {
            return guestAddress + host.byteSize();
        }
    }

    /** A guest-physical range to back with memory. */
    public record Range(long guestAddress, long size) {
        public Range {
            if (guestAddress < 0 || size <= 0 || guestAddress + size < guestAddress) {
                throw new IllegalArgumentException("bad guest range " + guestAddress + "+" + size);
            }
        }
    }

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final List<Region> regions;
    private final AutoCloseable release;
    /** Every region is an anonymous mapping whose untouched pages read as zeros (not a file's pages). */
    private volatile boolean anonymous;
    private volatile Backing backing = Backing.PAGES;

    GuestMemory(List<Region> regions, AutoCloseable release) {
        List<Region> sorted = new ArrayList<>(regions);
        sorted.sort(Comparator.comparingLong(Region::guestAddress));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).guestAddress() < sorted.get(i - 1).end()) {
                throw new IllegalArgumentException("overlapping guest memory regions");
            }
        }
        this.regions = List.copyOf(sorted);
        this.release = release;
    }

    /**
     * Guest memory backed by native memory from a confined arena: zeroed, page-aligned,
     * released by {@link #close()}. For tests and tools that need no KVM.
     */
    public static GuestMemory allocate(List<Range> ranges) {
        Arena arena = Arena.ofShared();
        try {
            List<Region> regions = new ArrayList<>();
            for (Range r : ranges) {
                regions.add(new Region(r.guestAddress(), arena.allocate(r.size(), 4096)));
            }
            return new GuestMemory(regions, arena::close);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** What backs guest memory in host memory. */
    public enum Backing {
        /**
         * The host's pages, reserved only as the guest touches them. The mapping sits at the same offset in a
         * 2 MiB page as the guest's addresses and is advised MADV_HUGEPAGE (from {@link #SMALL_PAGES_BELOW} up),
         * as QEMU and Cloud Hypervisor do with guest RAM: where the host's transparent huge pages allow it, the
         * kernel backs it with 2 MiB pages, and KVM maps the guest's 2 MiB frames whole (it can only where host
         * and guest addresses line up).
         */
        PAGES,
        /** Anonymous memory advised MADV_HUGEPAGE, 2 MiB aligned: the kernel backs it with 2 MiB pages where it can. */
        TRANSPARENT_HUGE_PAGES,
        /** 2 MiB pages of the host's hugetlbfs pool, all reserved when the memory is mapped. */
        HUGETLB_2M
    }

    /** A huge page: what hugetlbfs and transparent huge pages back memory with here. */
    public static final long HUGE_PAGE = 2L << 20;

    /**
     * With {@link Backing#PAGES}, guest memory below this stays on 4 KiB pages: the VMM writes its boot
     * tables there (a few KiB, which would fault in and zero a whole 2 MiB page), and a Linux guest keeps its
     * first MiB to itself and allocates from the top of memory down, so little else ever lands there.
     */
    public static final long SMALL_PAGES_BELOW = HUGE_PAGE;

    /**
     * Guest memory in anonymous private mappings, one per range, unmapped by {@link #close()}: with
     * {@link Backing#PAGES} pages are only backed when the guest touches them (MAP_NORESERVE), huge pages
     * advised where the host has them; with {@link Backing#TRANSPARENT_HUGE_PAGES} the same, but the advice
     * must be taken;
     * with {@link Backing#HUGETLB_2M} they take 2 MiB pages from the hugetlbfs pool, reserved at once, and
     * the call fails with ENOMEM when the pool has too few free. Range addresses and sizes must be page
     * aligned, as KVM memory slots need (huge-page aligned for the huge backings).
     */
    @SuppressWarnings("restricted") // native memory and downcalls are what hg.kvm is for
    public static GuestMemory map(List<Range> ranges, Backing backing) {
        long align = backing == Backing.PAGES ? 4096 : HUGE_PAGE;
        Arena arena = Arena.ofShared();
        try {
            List<Region> regions = new ArrayList<>();
            for (Range r : ranges) {
                if ((r.guestAddress() & (align - 1)) != 0 || (r.size() & (align - 1)) != 0) {
                    throw new IllegalArgumentException(String.format(
                            "guest range 0x%x+0x%x is not aligned to 0x%x", r.guestAddress(), r.size(), align));
                }
                long size = r.size();
                long address = switch (backing) {
                    case HUGETLB_2M -> Libc.mmap(0, size, Libc.PROT_READ | Libc.PROT_WRITE,
                            Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_HUGETLB | Libc.MAP_HUGE_2MB, -1, 0,
                            "guest memory in 2 MiB hugetlbfs pages");
                    case PAGES, TRANSPARENT_HUGE_PAGES -> alignedLike(r.guestAddress(), size);
                };
                MemorySegment host = MemorySegment.ofAddress(address)
                        .reinterpret(size, arena, s -> Libc.munmap(address, size));
                if (backing == Backing.TRANSPARENT_HUGE_PAGES) {
                    Libc.madvise(address, size, Libc.MADV_HUGEPAGE, "MADV_HUGEPAGE");
                } else if (backing == Backing.PAGES) {
                    long small = r.guestAddress() < SMALL_PAGES_BELOW ? SMALL_PAGES_BELOW - r.guestAddress() : 0;
                    if (size > small) {
                        adviseHugePages(address + small, size - small);
                    }
                }
                regions.add(new Region(r.guestAddress(), host));
            }
            GuestMemory memory = new GuestMemory(regions, arena::close);
            memory.anonymous = true;
            memory.backing = backing;
            return memory;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * An anonymous mapping of {@code size} whose address lies as far into a 2 MiB page as {@code guestAddress}
     * does: a larger one, its ends given back.
     */
    private static long alignedLike(long guestAddress, long size) {
        long raw = Libc.mmap(0, size + HUGE_PAGE, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0, "guest memory");
        long address = alignLike(raw, guestAddress);
        if (address > raw) {
            Libc.munmap(raw, address - raw);
        }
        long tail = raw + HUGE_PAGE - address;
        if (tail > 0) {
            Libc.munmap(address + size, tail);
        }
        return address;
    }

    /** The lowest address from {@code raw} on that lies as far into a 2 MiB page as {@code guestAddress}. */
    static long alignLike(long raw, long guestAddress) {
        return raw + ((guestAddress - raw) & (HUGE_PAGE - 1));
    }

    /** Advice only: a kernel without transparent huge pages refuses it, and the memory stays on 4 KiB pages. */
    private static void adviseHugePages(long address, long size) {
        try {
            Libc.madvise(address, size, Libc.MADV_HUGEPAGE, "MADV_HUGEPAGE");
        } catch (KvmException e) {
            // EINVAL without CONFIG_TRANSPARENT_HUGEPAGE: nothing to advise
        }
    }

    private static final int PR_SET_VMA = 0x53564d41;
    private static final int PR_SET_VMA_ANON_NAME = 0;
    private static final int EINVAL = 22;
    /** Cleared once the kernel refused to name an anonymous mapping: it never will (no CONFIG_ANON_VMA_NAME). */
    private static volatile boolean kernelNamesMappings = true;

    /**
     * Names this memory's anonymous mappings {@code name} in /proc/PID/maps and smaps ({@code [anon:NAME]}), so
     * that guest RAM can be told from the VMM's own anonymous memory, with which the kernel would otherwise merge
     * it. Best effort: false when the kernel names no mappings (no CONFIG_ANON_VMA_NAME) or this memory is not
     * anonymous 4 KiB pages (a file's, hugetlbfs'). The name is printable ASCII without brackets, backslash,
     * dollar or backquote, up to 79 characters.
     */
    public boolean name(String name) {
        if (name.isEmpty() || name.length() > 79 || !name.chars().allMatch(c -> c > 0x1f && c < 0x7f && "\\`$[]".indexOf(c) < 0)) {
            throw new IllegalArgumentException("not a mapping name: '" + name + "'");
        }
        if (!anonymous || backing == Backing.HUGETLB_2M || !kernelNamesMappings) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(name);
            boolean all = true;
            for (Region r : regions) {
                int rc = Libc.prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, r.host().address(), r.host().byteSize(),
                        cName.address());
                if (rc == -EINVAL) {
                    // Our own anonymous mapping and a valid name: the option itself is unknown to this kernel.
                    kernelNamesMappings = false;
                    return false;
                }
                all &= rc == 0;
            }
            return all;
        }
    }

    /** What backs this memory; {@link Backing#PAGES} for memory from {@link #allocate} or a file. */
    public Backing backing() {
        return backing;
    }

    /**
     * Guest memory whose contents come from {@code file}, the ranges laid out in it one after
     * another: each range is a private mapping of its part of the file, so pages load when the
     * guest first touches them, the guest's writes stay in this process, and every VM that maps
     * one file shares the pages none of them wrote. The file must hold exactly the ranges' total
     * size, and must not be truncated while mapped (an access past its end faults).
     */
    @SuppressWarnings("restricted")
    public static GuestMemory mapFile(List<Range> ranges, java.nio.file.Path file) {
        long total = ranges.stream().mapToLong(Range::size).sum();
        long size;
        try {
            size = java.nio.file.Files.size(file);
        } catch (java.io.IOException e) {
            throw new GuestMemoryException("cannot read memory file " + file + ": " + e.getMessage());
        }
        if (size != total) {
            throw new GuestMemoryException("memory file " + file + " has " + size + " bytes, the guest " + total);
        }
        int fd = Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        Arena arena = Arena.ofShared();
        try {
            List<Region> regions = new ArrayList<>();
            long offset = 0;
            for (Range r : ranges) {
                if ((r.guestAddress() & 0xfff) != 0 || (r.size() & 0xfff) != 0) {
                    throw new IllegalArgumentException(String.format(
                            "guest range 0x%x+0x%x is not page aligned", r.guestAddress(), r.size()));
                }
                long length = r.size();
                long address = Libc.mmap(0, length, Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_NORESERVE, fd, offset, "guest memory from " + file);
                regions.add(new Region(r.guestAddress(), MemorySegment.ofAddress(address)
                        .reinterpret(length, arena, s -> Libc.munmap(address, length))));
                offset += length;
            }
            return new GuestMemory(regions, arena::close);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        } finally {
            // The mappings keep the file; the descriptor is not needed past this point.
            Libc.close(fd);
        }
    }

    /**
     * Puts {@code file} (laid out as {@link #mapFile} expects, holding exactly what this memory
     * holds now) in place of each region's pages, at the same addresses: from here on this
     * memory shares the file's pages with every other mapper of it, copying a page only when it
     * is written. The caller keeps every writer (vCPUs, devices) still meanwhile. KVM and vhost
     * see the new pages through the unchanged addresses.
     */
    @SuppressWarnings("restricted")
    public void remapPrivate(java.nio.file.Path file) {
        long size;
        try {
            size = java.nio.file.Files.size(file);
        } catch (java.io.IOException e) {
            throw new GuestMemoryException("cannot read memory file " + file + ": " + e.getMessage());
        }
        if (size != size()) {
            throw new GuestMemoryException("memory file " + file + " has " + size + " bytes, the guest " + size());
        }
        int fd = Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            anonymous = false;
        backing = Backing.PAGES;
            long offset = 0;
            for (Region r : regions) {
                long address = r.host().address();
                Libc.mmap(address, r.size(), Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_FIXED | Libc.MAP_NORESERVE, fd, offset, "guest memory from " + file);
                offset += r.size();
            }
        } finally {
            Libc.close(fd);
        }
    }

    /**
     * The pages of {@code region} known to hold zeros without reading them: in anonymous memory
     * on a host without swap, the pages that are not resident were never written. Empty where
     * that cannot be known (a file's pages, a host with swap, where a page out of memory may
     * hold data). A snapshot skips them instead of reading hundreds of MiB of zeros.
     */
    public java.util.BitSet knownZeroPages(Region region) {
        java.util.BitSet zero = new java.util.BitSet();
        if (!anonymous || !regions.contains(region) || swapConfigured()) {
            return zero;
        }
        long pages = region.size() / 4096;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment vec = a.allocate(pages);
            Libc.mincore(region.host().address(), region.size(), vec);
            for (long p = 0; p < pages; p++) {
                if ((vec.get(ValueLayout.JAVA_BYTE, p) & 1) == 0) {
                    zero.set((int) p);
                }
            }
        }
        return zero;
    }

    private static boolean swapConfigured() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
                if (line.startsWith("SwapTotal:")) {
                    return !line.replaceAll("[^0-9]", "").matches("0*");
                }
            }
        } catch (java.io.IOException e) {
            return true;
        }
        return true;
    }

    /** {@link #map(List, Backing)} on 4 KiB pages. */
    public static GuestMemory map(List<Range> ranges) {
        return map(ranges, Backing.PAGES);
    }

    public List<Region> regions() {
        return regions;
    }

    /** Sum of the region sizes. */
    public long size() {
        return regions.stream().mapToLong(Region::size).sum();
    }

    /** The highest guest-physical address backed, plus one. */
    public long end() {
        return regions.isEmpty() ? 0 : regions.getLast().end();
    }

    /** Whether [address, address + length) lies inside one region. */
    public boolean contains(long address, long length) {
        return find(address, length) != null;
    }

    /** The host memory behind [address, address + length); the range must lie in one region. */
    public MemorySegment slice(long address, long length) {
        Region r = find(address, length);
        if (r == null) {
            throw new GuestMemoryException(String.format(
                    "guest range 0x%x+0x%x is not backed by guest memory", address, length));
        }
        return r.host().asSlice(address - r.guestAddress(), length);
    }

    /**
     * Told before a loader fills {@code ranges} of fresh memory: with {@link Backing#PAGES}, each 2 MiB page
     * they cover less than an eighth of stays on 4 KiB pages, where the first write would fault in and zero
     * the whole huge page for a few bytes (a small kernel, the last bytes of a large one). A page the load
     * fills more of is one the guest goes on using, so it keeps its huge page. Advice only: the contents do
     * not change, and a kernel without transparent huge pages has nothing to take back.
     */
    public void beforeLoading(List<Range> ranges) {
        if (!anonymous || backing != Backing.PAGES) {
            return;
        }
        // Plain loops, no lambdas: a create is a cold, one-shot run.
        TreeMap<Long, Long> covered = new TreeMap<>();
        for (Range r : ranges) {
            for (long page = r.guestAddress() & -HUGE_PAGE; page < r.guestAddress() + r.size(); page += HUGE_PAGE) {
                long overlap = Math.min(page + HUGE_PAGE, r.guestAddress() + r.size()) - Math.max(page, r.guestAddress());
                covered.put(page, covered.getOrDefault(page, 0L) + overlap);
            }
        }
        for (Map.Entry<Long, Long> e : covered.entrySet()) {
            long page = e.getKey();
            if (e.getValue() >= HUGE_PAGE / 8 || page < SMALL_PAGES_BELOW) {
                continue;
            }
            Region region = find(page, HUGE_PAGE);
            if (region != null) {
                try {
                    Libc.madvise(region.host().address() + page - region.guestAddress(), HUGE_PAGE, Libc.MADV_NOHUGEPAGE,
                            "MADV_NOHUGEPAGE");
                } catch (KvmException ignored) {
                    // EINVAL without CONFIG_TRANSPARENT_HUGEPAGE: the page was never advised
                }
            }
        }
    }

    private Region find(long address, long length) {
        if (address < 0 || length < 0 || address + length < address) {
            return null;
        }
        // Indexed: every guest-memory access of a device comes here, and C1 (the daemon's only JIT) does not
        // remove an iterator's allocation
        for (int i = 0; i < regions.size(); i++) {
            Region r = regions.get(i);
            if (address >= r.guestAddress() && address + length <= r.end()) {
                return r;
            }
        }
        return null;
    }

    public void write(long address, byte[] data) {
        write(address, data, 0, data.length);
    }

    public void write(long address, byte[] data, int offset, int length) {
        MemorySegment.copy(data, offset, slice(address, length), ValueLayout.JAVA_BYTE, 0, length);
    }

    public void read(long address, byte[] into) {
        read(address, into, 0, into.length);
    }

    public void read(long address, byte[] into, int offset, int length) {
        MemorySegment.copy(slice(address, length), ValueLayout.JAVA_BYTE, 0, into, offset, length);
    }

    public byte[] read(long address, int length) {
        byte[] out = new byte[length];
        read(address, out);
        return out;
    }

    public void fill(long address, long length, byte value) {
        slice(address, length).fill(value);
    }

    public int readU8(long address) {
        return Byte.toUnsignedInt(slice(address, 1).get(ValueLayout.JAVA_BYTE, 0));
    }

    public int readU16(long address) {
        return Short.toUnsignedInt(slice(address, 2).get(U16, 0));
    }

    public int readU32(long address) {
        return slice(address, 4).get(U32, 0);
    }

    public long readU64(long address) {
        return slice(address, 8).get(U64, 0);
    }

    public void writeU8(long address, int value) {
        slice(address, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) value);
    }

    public void writeU16(long address, int value) {
        slice(address, 2).set(U16, 0, (short) value);
    }

    public void writeU32(long address, int value) {
        slice(address, 4).set(U32, 0, value);
    }

    public void writeU64(long address, long value) {
        slice(address, 8).set(U64, 0, value);
    }

    /** Unmaps or frees the backing memory; the regions must not be used afterwards. */
    @Override
    public void close() {
        try {
            release.close();
        } catch (Exception e) {
            throw new IllegalStateException("releasing guest memory failed", e);
        }
    }
}
