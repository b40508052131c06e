package hg.vmm.internal.cpu;

import hg.kvm.CpuidEntry;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CpuidSetupTest {

    static List<CpuidEntry> supported(int vendorEbx) {
        return List.of(
                new CpuidEntry(0x0, 0, 0, 0x1f, vendorEbx, 0, 0),
                new CpuidEntry(0x1, 0, 0, 0x806f8, 0x00020800, 0x7efa3203, 0x178bfbff),
                new CpuidEntry(0x4, 0, 1, 0x1c004121, 0x01c0003f, 0x3f, 0),
                new CpuidEntry(0x4, 3, 1, 0x1c03c163, 0x03c0003f, 0x3fff, 6),
                new CpuidEntry(0x4, 4, 1, 0, 0, 0, 0),
                new CpuidEntry(0xa, 0, 0, 0x07300402, 0, 0, 0x603),
                new CpuidEntry(0xb, 0, 1, 1, 2, 0x100, 7),
                new CpuidEntry(0xb, 1, 1, 4, 16, 0x201, 7),
                new CpuidEntry(0xb, 2, 1, 0, 0, 2, 7),
                new CpuidEntry(0x1f, 1, 1, 4, 16, 0x201, 7),
                new CpuidEntry(0x40000001, 0, 0, 0x01007afb, 0, 0, 0),
                new CpuidEntry(0x80000001, 0, 0, 0, 0, 0x1, 0),
                new CpuidEntry(0x80000008, 0, 0, 0x3030, 0, 0x1f, 0),
                new CpuidEntry(0x8000001e, 0, 0, 9, 0x101, 3, 0));
    }

    static CpuidEntry find(List<CpuidEntry> entries, int function, int index) {
        return entries.stream().filter(e -> e.function() == function && e.index() == index).findFirst().orElseThrow();
    }

    @Test
    void leafOneCarriesApicIdCountAndTheHypervisorBit() {
        List<CpuidEntry> out = CpuidSetup.forVcpu(supported(CpuidSetup.INTEL_EBX), 2, 4, false);
        CpuidEntry l1 = find(out, 1, 0);
        assertEquals(2, l1.ebx() >>> 24);
        assertEquals(4, (l1.ebx() >>> 16) & 0xff);
        assertEquals(0x08, (l1.ebx() >>> 8) & 0xff);   // CLFLUSH line size kept
        assertEquals(CpuidSetup.ECX_HYPERVISOR, l1.ecx() & CpuidSetup.ECX_HYPERVISOR);
        assertEquals(CpuidSetup.EDX_HTT, l1.edx() & CpuidSetup.EDX_HTT);
        assertEquals(0x806f8, l1.eax());
        List<CpuidEntry> single = CpuidSetup.forVcpu(supported(CpuidSetup.INTEL_EBX), 0, 1, false);
        assertEquals(0, find(single, 1, 0).edx() & CpuidSetup.EDX_HTT);
    }

    @Test
    void theTscDeadlineBitFollowsKvmsCapability() {
        // the sample's supported leaf 1 lacks the bit, as KVM's does
        assertEquals(0, find(supported(CpuidSetup.AMD_EBX), 1, 0).ecx() & CpuidSetup.ECX_TSC_DEADLINE);
        CpuidEntry with = find(CpuidSetup.forVcpu(supported(CpuidSetup.AMD_EBX), 0, 1, true), 1, 0);
        CpuidEntry without = find(CpuidSetup.forVcpu(supported(CpuidSetup.AMD_EBX), 0, 1, false), 1, 0);
        assertEquals(CpuidSetup.ECX_TSC_DEADLINE, with.ecx() & CpuidSetup.ECX_TSC_DEADLINE);
        assertEquals(0, without.ecx() & CpuidSetup.ECX_TSC_DEADLINE);
        assertEquals(without.ecx(), with.ecx() & ~CpuidSetup.ECX_TSC_DEADLINE, "no other bit changes");
    }

    @Test
    void extendedTopologyDescribesOneCorePerVcpu() {
        List<CpuidEntry> out = CpuidSetup.forVcpu(supported(CpuidSetup.INTEL_EBX), 3, 6, false);
        CpuidEntry smt = find(out, 0xb, 0);
        CpuidEntry core = find(out, 0xb, 1);
        CpuidEntry end = find(out, 0xb, 2);
        assertEquals(List.of(0, 1, 0x100, 3), List.of(smt.eax(), smt.ebx(), smt.ecx(), smt.edx()));
        assertEquals(List.of(3, 6, 0x201, 3), List.of(core.eax(), core.ebx(), core.ecx(), core.edx()));
        assertEquals(List.of(0, 0, 2, 3), List.of(end.eax(), end.ebx(), end.ecx(), end.edx()));
        assertEquals(6, find(out, 0x1f, 1).ebx());
        // Intel leaf 4: cores per package - 1 in EAX[31:26]; L3 shared by all, L1 by one core.
        assertEquals(5, find(out, 4, 0).eax() >>> 26);
        assertEquals(0, (find(out, 4, 0).eax() >>> 14) & 0xfff);
        assertEquals(5, (find(out, 4, 3).eax() >>> 14) & 0xfff);
        assertEquals(0, find(out, 4, 4).eax());
        // No performance counters; paravirtual leaves untouched.
        assertEquals(0, find(out, 0xa, 0).eax());
        assertEquals(0x01007afb, find(out, 0x40000001, 0).eax());
    }

    @Test
    void amdLeavesCarryTheCoreCount() {
        List<CpuidEntry> out = CpuidSetup.forVcpu(supported(CpuidSetup.AMD_EBX), 1, 2, false);
        assertEquals(1, find(out, 0x80000008, 0).ecx() & 0xff);
        assertEquals(1, (find(out, 0x80000008, 0).ecx() >>> 12) & 0xf);
        assertEquals(CpuidSetup.AMD_ECX_CMP_LEGACY, find(out, 0x80000001, 0).ecx() & CpuidSetup.AMD_ECX_CMP_LEGACY);
        assertEquals(1, find(out, 0x8000001e, 0).eax());
        assertEquals(0x1c004121, find(out, 4, 0).eax());   // leaf 4 is Intel's
    }

    @Property(tries = 200)
    void everyVcpuGetsItsOwnApicIdAndTheSameCount(@ForAll @IntRange(min = 1, max = 254) int count,
                                                   @ForAll @IntRange(min = 0, max = 253) int apicId) {
        if (apicId >= count) {
            assertThrows(IllegalArgumentException.class, () -> CpuidSetup.forVcpu(supported(CpuidSetup.INTEL_EBX), apicId, count, false));
            return;
        }
        List<CpuidEntry> out = CpuidSetup.forVcpu(supported(CpuidSetup.INTEL_EBX), apicId, count, false);
        assertEquals(apicId, find(out, 1, 0).ebx() >>> 24);
        assertEquals(apicId, find(out, 0xb, 1).edx());
        assertEquals(count, find(out, 0xb, 1).ebx());
        // The core-level shift covers every APIC id.
        assertEquals(true, (1 << find(out, 0xb, 1).eax()) >= count);
        assertEquals(supported(CpuidSetup.INTEL_EBX).size(), out.size());
    }
}
