package hg.vmm.internal.cpu;

import hg.kvm.CpuidEntry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

class CpuidTablesTest {
    private static final List<CpuidEntry> SUPPORTED = List.of(
            new CpuidEntry(0x0, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65),
            new CpuidEntry(0x1, 0, 0, 0x00a00f11, 0, 0, 0),
            new CpuidEntry(0xb, 0, 1, 0, 0, 0, 0),
            new CpuidEntry(0xb, 1, 1, 0, 0, 0, 0));

    @Test
    void aShapeIsMadeOnceAndIsWhatCpuidSetupSays() {
        var first = CpuidTables.forVcpu(SUPPORTED, 1, 2, true);
        assertSame(first, CpuidTables.forVcpu(SUPPORTED, 1, 2, true));
        assertEquals(CpuidSetup.forVcpu(SUPPORTED, 1, 2, true), first.entries());
        assertNotSame(first, CpuidTables.forVcpu(SUPPORTED, 0, 2, true), "another APIC id");
        assertEquals(CpuidSetup.forVcpu(SUPPORTED, 1, 2, false), CpuidTables.forVcpu(SUPPORTED, 1, 2, false).entries(),
                "without the TSC-deadline timer");
    }

    @Test
    void anotherSupportedSetIsNotAnsweredFromTheFirst() {
        List<CpuidEntry> other = List.of(new CpuidEntry(0x0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
                new CpuidEntry(0x1, 0, 0, 0x000906ea, 0, 0, 0));
        CpuidTables.forVcpu(SUPPORTED, 0, 1, true);
        assertEquals(CpuidSetup.forVcpu(other, 0, 1, true), CpuidTables.forVcpu(other, 0, 1, true).entries());
    }
}
