package hg.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe's snapshot lines turned into the four figures: each its own key and peer, warm-ups left out. */
class NestSnapTest {

    static final List<String> LINES = List.of(
            "hg-bench boot hyper-gen run=1 console_ms=900.0 marker_ms=800.0 cpu_ms=10",
            "hg-bench snap qemu saved boot_ms=6000.0 save_ms=300.0 file_mib=18.5",
            "hg-bench snap hyper-gen run=0 boot_ms=9000.0 restore_ms=900.0 snapshot_ms=80.0 memory_data_mib=30.0",
            "hg-bench snap qemu run=0 restore_ms=2000.0 resumed_ms=1500.0",
            "hg-bench snap hyper-gen run=1 boot_ms=6000.0 restore_ms=100.0 snapshot_ms=50.0 memory_data_mib=30.0",
            "hg-bench snap qemu run=1 restore_ms=1000.0 resumed_ms=800.0",
            "hg-bench snap hyper-gen run=2 boot_ms=5000.0 restore_ms=300.0 snapshot_ms=70.0 memory_data_mib=30.0",
            "hg-bench snap qemu failed: restored guest: no 'hg-snap 42' after the command",
            "hg-bench clone hyper-gen run=0 per_clone_ms=90.0 total_ms=900.0 clone_call_ms=500.0 boot_ms=8000.0"
                    + " parent_kib=40000 all_kib=60000 mem_ratio=1.5 parent_rss_kib=41000 frozen_shmem_kib=30000"
                    + " frozen_mappings=11 parent_private_dirty_kib=100 clones_private_dirty_kib=5000 clones_rss_kib=9000",
            "hg-bench clone hyper-gen run=1 per_clone_ms=50.0 total_ms=500.0 clone_call_ms=300.0 boot_ms=6000.0"
                    + " parent_kib=40960 all_kib=51200 mem_ratio=1.25 parent_rss_kib=41000 frozen_shmem_kib=30000"
                    + " frozen_mappings=11 parent_private_dirty_kib=100 clones_private_dirty_kib=5000 clones_rss_kib=9000");

    static NestSnap figure(String name) {
        return (NestSnap) NestSnap.figures().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void restoreAgainstTheColdBootOfTheSameRuns() {
        Result r = figure("restore_vs_boot").parse(LINES, "test");
        assertEquals(2, r.runs());
        assertEquals(200.0, r.hyperGen(), 1e-9);
        assertEquals(5500.0, r.peer(), 1e-9);
        assertEquals(60.0, (Double) r.extra().get("snapshot_ms"), 1e-9);
        assertNull(r.extra().get("failed_runs"), "QEMU's failures are not this figure's");
    }

    @Test
    void restoreAgainstQemuKeepsItsSaveAndFailures() {
        Result r = figure("restore_vs_qemu").parse(LINES, "test");
        assertEquals(1000.0, r.peer(), 1e-9);
        assertEquals(300.0, (Double) r.extra().get("qemu_save_ms"), 1e-9);
        assertTrue(((String) r.extra().get("failed_runs")).startsWith("qemu: restored guest"));
    }

    @Test
    void clonesInMiBAndPerClone() {
        Result time = figure("clone_ms").parse(LINES, "test");
        assertEquals(1, time.runs());
        assertEquals(50.0, time.hyperGen(), 1e-9);
        assertEquals(6000.0, time.peer(), 1e-9);
        Result mem = figure("clone_mem_ratio").parse(LINES, "test");
        assertEquals(50.0, mem.hyperGen(), 1e-9);
        assertEquals(40.0, mem.peer(), 1e-9);
        assertEquals(1.25, mem.ratio(), 1e-9);
        assertEquals(5000.0, (Double) mem.extra().get("clones_private_dirty_kib"), 1e-9);
    }

    @Test
    void noLinesSayWhy() {
        Result r = figure("clone_ms").parse(List.of("hg-bench clone hyper-gen failed: clone: hg.vmm.VmException: x"), "t");
        assertNull(r.hyperGen());
        assertEquals("hyper-gen: clone: hg.vmm.VmException: x", r.why());
    }

    static NestSnap vsockFigure(String name) {
        return (NestSnap) NestSnap.vsock().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void theVsockFiguresTakeTheirKeysFromTheSameLines() {
        List<String> lines = List.of(
                "hg-bench exec hyper-gen run=0 exec_ms=90.0 console_ms=10.0",
                "hg-bench exec hyper-gen run=1 exec_ms=4.0 console_ms=10.0",
                "hg-bench exec hyper-gen run=2 exec_ms=6.0 console_ms=12.0",
                "hg-bench vsock hyper-gen run=0 vsock_mbps=10.0 tcp_mbps=10.0",
                "hg-bench vsock hyper-gen run=1 vsock_mbps=200.0 tcp_mbps=100.0",
                "hg-bench vsock qemu run=1 vsock_mbps=400.0");
        Result exec = vsockFigure("exec_rtt_ms").parse(lines, "t");
        assertEquals(5.0, exec.hyperGen(), 1e-9);
        assertEquals(11.0, exec.peer(), 1e-9);
        Result vsock = vsockFigure("vsock_mbps").parse(lines, "t");
        assertEquals(2.0, vsock.ratio(), 1e-9);
        Result qemu = vsockFigure("vsock_vs_qemu_mbps").parse(lines, "t");
        assertEquals(0.5, qemu.ratio(), 1e-9);
        Result none = vsockFigure("vsock_vs_qemu_mbps").parse(List.of(
                "hg-bench vsock qemu failed: no /dev/vhost-vsock in the nest (its kernel has no VHOST_VSOCK)"), "t");
        assertNull(none.hyperGen());
        assertTrue(none.why().contains("no /dev/vhost-vsock"), none.why());
    }
}
