package hg.boot;

import hg.kvm.GuestMemory;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.lifecycle.AfterContainer;

import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

/** Any memory size and vCPU count in range gives a valid E820 map and MP table. */
class LayoutPropertyTest {
    static final long MiB = 1 << 20;
    static final GuestMemory SMALL = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 4 * MiB)));
    static final LoadedKernel KERNEL = new LoadedKernel(KernelFormat.VMLINUX, 0x200000, 0x200000, 0x300000,
            OptionalLong.empty(), SetupHeader.forVmlinux());

    @AfterContainer
    static void release() {
        SMALL.close();
    }

    /** 16 MiB .. 64 GiB in whole pages. */
    @Property(tries = 500)
    void e820CoversExactlyTheRam(@ForAll @LongRange(min = 4096, max = 16L << 20) long pages) throws Exception {
        long size = pages * 4096;
        List<GuestMemory.Range> ranges = X86Layout.ramRanges(size);
        assertEquals(size, ranges.stream().mapToLong(GuestMemory.Range::size).sum());
        for (GuestMemory.Range r : ranges) {
            assertFalse(r.guestAddress() < X86Layout.MMIO_HOLE_END
                    && r.guestAddress() + r.size() > X86Layout.MMIO_HOLE_START, "RAM in the MMIO hole");
        }
        List<E820Entry> e820 = X86Layout.e820(ranges);
        GuestChecks.assertE820Covers(e820, ranges);
        assertTrue(e820.size() <= 128);
    }

    @Property(tries = 200)
    void mpTableIsValidForAnyVcpuCount(@ForAll @IntRange(min = 1, max = 254) int vcpus) throws Exception {
        BootSetup s = LinuxBoot.configure(SMALL, KERNEL, new BootConfig("console=ttyS0", vcpus));
        GuestChecks.assertMpTable(SMALL, vcpus);
        assertTrue(s.mpTableAddress() + s.mpTableSize() <= X86Layout.HIMEM_START, "MP table stays in the reserved EBDA area");
        assertEquals(s.e820().size(), SMALL.readU8(X86Layout.ZERO_PAGE_ADDRESS + 0x1e8));
    }

    @Property(tries = 100)
    void mpTableForTheCommonCounts(@ForAll @IntRange(min = 1, max = 64) int vcpus) throws Exception {
        LinuxBoot.configure(SMALL, KERNEL, new BootConfig("", vcpus));
        GuestChecks.assertMpTable(SMALL, vcpus);
    }
}
