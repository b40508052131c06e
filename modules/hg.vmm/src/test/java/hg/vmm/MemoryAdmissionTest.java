package hg.vmm;

import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The account of guest memory on a modelled host: no KVM needed. */
class MemoryAdmissionTest {
    static final long MiB = 1L << 20, GiB = 1L << 30;

    final MemoryAdmission fourGiB = new MemoryAdmission(() -> OptionalLong.of(4 * GiB), 512 * MiB);

    @Test
    void aSecond3GiBVmOnA4GiBHostIsRefusedWithTheNumbers() {
        MemoryAdmission.Promise first = fourGiB.admit(3 * GiB, false);
        MemoryRefusedException e = assertThrows(MemoryRefusedException.class, () -> fourGiB.admit(3 * GiB, false));
        assertEquals("not enough memory for this VM: 3 GiB asked, 3 GiB promised to running VMs, limit 3.5 GiB "
                + "(the host's 4 GiB less 512 MiB kept for the host and the VMM)", e.getMessage());
        assertEquals(3 * GiB, e.asked());
        assertEquals(3 * GiB, e.promised());
        assertEquals(3584 * MiB, e.limit());
        assertEquals(3 * GiB, fourGiB.promised(), "a refusal promises nothing");
        first.close();
        first.close(); // returned once only
        assertEquals(0, fourGiB.promised());
        fourGiB.admit(3 * GiB, false);
    }

    @Test
    void theLimitIsInclusiveAndCountsEveryVmInFull() {
        fourGiB.admit(1 * GiB, false);
        fourGiB.admit(1 * GiB, false);
        fourGiB.admit(1536 * MiB, false);
        assertEquals(3584 * MiB, fourGiB.promised());
        assertThrows(MemoryRefusedException.class, () -> fourGiB.admit(4096, false));
    }

    @Test
    void overcommitAdmitsAnyAmountButStillCounts() {
        fourGiB.admit(3 * GiB, true);
        fourGiB.admit(3 * GiB, true);
        assertEquals(6 * GiB, fourGiB.promised());
        assertThrows(MemoryRefusedException.class, () -> fourGiB.admit(16 * MiB, false),
                "a manager without overcommit still sees what others promised");
    }

    @Test
    void anUnknownHostAdmitsAndATinyOneRefusesAll() {
        MemoryAdmission unknown = new MemoryAdmission(OptionalLong::empty, 512 * MiB);
        unknown.admit(64 * GiB, false);
        assertEquals(OptionalLong.empty(), unknown.limit());
        MemoryAdmission tiny = new MemoryAdmission(() -> OptionalLong.of(256 * MiB), 512 * MiB);
        assertEquals(OptionalLong.of(0), tiny.limit());
        assertThrows(MemoryRefusedException.class, () -> tiny.admit(16 * MiB, false));
    }

    @Test
    void thisProcessReservesHeapAndAMargin() {
        MemoryAdmission host = MemoryAdmission.forThisProcess();
        assertEquals(MemoryAdmission.HOST_RESERVE + Runtime.getRuntime().maxMemory(), host.reserve());
        assertTrue(host.hostMemory().orElseThrow() > host.reserve());
    }

    @Test
    void hostMemoryIsMemTotal() throws java.io.IOException {
        String line = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemTotal:")).findFirst().orElseThrow();
        long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
        assertEquals(kib * 1024, MemoryAdmission.forThisProcess().hostMemory().orElseThrow());
    }
}
