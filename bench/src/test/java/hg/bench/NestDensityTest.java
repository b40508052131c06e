package hg.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The density probe's reading of smaps and its figures from the probe's lines. */
class NestDensityTest {
    private static final List<String> HYPER_GEN = List.of(
            "7f0000000000-7f0004000000 rw-p 00000000 00:00 0                          [anon:hg-vm-1-ram]",
            "Size:              65536 kB",
            "Rss:               20000 kB",
            "Pss:               20000 kB",
            "VmFlags: rd wr mr mw me nr",
            "7f0004000000-7f0008000000 rw-p 00000000 00:00 0",
            "Size:              65536 kB",
            "Pss:                 300 kB",
            "7f0008000000-7f000c000000 rw-p 00000000 00:00 0                          [anon:hg-vm-12-ram]",
            "Pss:               18000 kB",
            "55d000000000-55d000001000 r--p 00000000 fd:01 1234                       /opt/hyper-gen/lib/libjvm.so",
            "Pss:                1000 kB");

    @Test
    void hyperGenGuestRamIsTheMappingsItNamed() {
        assertArrayEquals(new long[] {39300, 38000, 2}, NestDensity.pss(HYPER_GEN, NestDensity::isHyperGenRam));
        assertFalse(NestDensity.isHyperGenRam("7f00-7f01 rw-p 00000000 00:00 0   [anon:hg-vm-x-ram]"));
    }

    @Test
    void largestMappingsNameTheirFileOrSize() {
        assertEquals(List.of("20000 [anon:hg-vm-1-ram] rw-p at 7f0000000000", "18000 [anon:hg-vm-12-ram] rw-p at 7f0008000000",
                        "1000 libjvm.so r--p at 55d000000000"), NestDensity.largest(HYPER_GEN, l -> false, 3));
        assertEquals(List.of("1000 libjvm.so r--p at 55d000000000", "300 anon 65536 kB rw-p at 7f0004000000"),
                NestDensity.largest(HYPER_GEN, NestDensity::isHyperGenRam, 5), "guest RAM left out");
    }

    @Test
    void qemuGuestRamIsTheAnonymousReadWriteMappingOfTheGuestsSize() {
        assertTrue(NestDensity.isQemuRam("7f0004000000-7f0008000000 rw-p 00000000 00:00 0", 64));
        assertFalse(NestDensity.isQemuRam("7f0004000000-7f0008000000 rw-p 00000000 00:00 0", 128), "another size");
        assertFalse(NestDensity.isQemuRam("7f0004000000-7f0008000000 r--p 00000000 00:00 0", 64), "not writable");
        assertFalse(NestDensity.isQemuRam("7f0004000000-7f0008000000 rw-p 00000000 fd:01 99 /dev/shm/x", 64), "a file");
        assertArrayEquals(new long[] {39300, 300, 1}, NestDensity.pss(HYPER_GEN, l -> NestDensity.isQemuRam(l, 64)));
    }

    @Test
    void densityFiguresCompareTheIdleWindowsOfBothSides() {
        List<String> lines = List.of(
                "hg-bench density note: 50 hyper-gen guests of 64 MiB answered in 150.0 s",
                "hg-bench density hyper-gen run=1 idle_cpu_ms_s=2.000 own_kib=3000 guest_kib=20000",
                "hg-bench density hyper-gen run=2 idle_cpu_ms_s=4.000 own_kib=3100 guest_kib=20000",
                "hg-bench density qemu run=1 idle_cpu_ms_s=3.000 own_kib=30000 guest_kib=21000",
                "hg-bench density qemu run=2 idle_cpu_ms_s=5.000 own_kib=31000 guest_kib=21000");
        Result cpu = ((NestGuest) NestGuest.density().getFirst()).parse(lines, "test");
        assertEquals("idle_cpu_per_vm", cpu.figure());
        assertEquals(2, cpu.runs());
        assertEquals(3.0, cpu.hyperGen(), 1e-9);
        assertEquals(4.0, cpu.peer(), 1e-9);
        Result mem = ((NestGuest) NestGuest.density().get(1)).parse(lines, "test");
        assertEquals("idle_vmm_mem_per_vm", mem.figure());
        assertEquals(3050.0, mem.hyperGen(), 1e-9);
        assertEquals(30500.0, mem.peer(), 1e-9);
        assertEquals("<= 0.1", mem.goal());
    }
}
