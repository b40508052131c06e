package hg.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe's console-benchmark lines turned into figures: the right kind and key, warm-ups left out. */
class NestGuestTest {

    static final List<String> LINES = List.of(
            "[    3.1] some kernel line",
            "hg-bench boot hyper-gen run=1 console_ms=900.0 marker_ms=800.0 cpu_ms=10",
            "hg-bench blk hyper-gen run=1 seq_write=138.5 seq_read=157.0 rand_write=373 rand_read=737 rand_read_4jobs=1210",
            "hg-bench blk qemu run=1 seq_write=372.0 seq_read=424.7 rand_write=723 rand_read=861 rand_read_4jobs=1100",
            "hg-bench net hyper-gen run=0 gbps=0.0848 rtt_us=7720.8 rtt_mean_us=7692.1",
            "hg-bench net qemu run=0 gbps=0.7404 rtt_us=3651.8 rtt_mean_us=3692.9",
            "hg-bench net hyper-gen run=1 gbps=0.2 rtt_us=2830.4 rtt_mean_us=5097.9",
            "hg-bench net qemu run=1 gbps=0.6 rtt_us=5425.1 rtt_mean_us=6069.7",
            "hg-bench net hyper-gen failed: the guest's net benchmark did not finish; tail: x",
            "hg-bench net hyper-gen run=3 gbps=0.4 rtt_us=2077.6 rtt_mean_us=3595.2",
            "hg-bench net qemu run=2 gbps=0.5 rtt_us=4462.4 rtt_mean_us=5518.6",
            "hg-bench net qemu run=3 gbps=0.7 rtt_us=4000.0 rtt_mean_us=5518.6");

    static NestGuest figure(String name) {
        return (NestGuest) java.util.stream.Stream.concat(NestGuest.blk().stream(), NestGuest.net().stream())
                .filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void netThroughputTakesItsKeyAndSkipsWarmUps() {
        Result r = figure("net_tcp_gbps").parse(LINES, "test");
        assertEquals(2, r.runs());
        assertEquals(0.3, r.hyperGen(), 1e-9);
        assertEquals(0.2, r.min(), 1e-9);
        assertEquals(0.4, r.max(), 1e-9);
        assertEquals(0.6, r.peer(), 1e-9);
        assertEquals(">= 1.0", r.goal());
        assertTrue(((String) r.extra().get("failed_runs")).startsWith("hyper-gen: the guest's net benchmark"));
    }

    @Test
    void hugePagesAreMeasuredAgainstTheSameVmOnSmallPages() {
        List<String> lines = List.of(
                "hg-bench huge pages4k run=0 boot_ms=9000.0 first_ms=1 random_ms=2 touch_ms=3",
                "hg-bench huge hugepages run=0 boot_ms=8000.0 first_ms=1 random_ms=2 touch_ms=3",
                "hg-bench huge pages4k run=1 boot_ms=4000.0 first_ms=300.0 random_ms=700.0 touch_ms=1000.0",
                "hg-bench huge hugepages run=1 boot_ms=3600.0 first_ms=100.0 random_ms=500.0 touch_ms=600.0",
                "hg-bench boot hyper-gen run=1 console_ms=900.0 marker_ms=800.0 cpu_ms=10");
        NestGuest boot = (NestGuest) NestGuest.huge().getFirst();
        Result r = boot.parse(lines, "test");
        assertEquals("boot_to_init_hugepages", r.figure());
        assertEquals(1, r.runs());
        assertEquals(3600.0, r.hyperGen(), 1e-9);
        assertEquals(4000.0, r.peer(), 1e-9);
        Result t = ((NestGuest) NestGuest.huge().get(1)).parse(lines, "test");
        assertEquals(600.0, t.hyperGen(), 1e-9);
        assertEquals(1000.0, t.peer(), 1e-9);
        assertNull(figure("net_tcp_gbps").parse(lines, "test").hyperGen(), "no other kind's lines taken");
    }

    @Test
    void roundTripIsNotTheMeanKey() {
        Result r = figure("net_rtt_us").parse(LINES, "test");
        assertEquals((2830.4 + 2077.6) / 2, r.hyperGen(), 1e-9);
        assertEquals(4462.4, r.peer(), 1e-9);
        assertEquals("<= 1.0", r.goal());
    }

    @Test
    void blkFiguresIgnoreNetLines() {
        Result r = figure("blk_seq_read").parse(LINES, "test");
        assertEquals(1, r.runs());
        assertEquals(157.0, r.hyperGen(), 1e-9);
        assertEquals(424.7, r.peer(), 1e-9);
        assertNull(r.extra().get("failed_runs"));
        Result jobs = figure("blk_rand_read_4jobs_iops").parse(LINES, "test");
        assertEquals(1210, jobs.hyperGen(), 1e-9);
        assertEquals(1100, jobs.peer(), 1e-9);
    }

    @Test
    void noFiguresGiveNullWithTheFailures() {
        Result r = figure("net_rtt_us").parse(List.of("hg-bench net setup failed: bridge hgbr0: EPERM",
                "hg-bench blk qemu failed: not this one"), "test");
        assertNull(r.hyperGen());
        assertEquals("setup: bridge hgbr0: EPERM", r.why());
        r = figure("net_rtt_us").parse(List.of(), "serial log: x");
        assertEquals("the nest gave no net_rtt_us figures (serial log: x)", r.why());
    }

    @Test
    void sharedFolderFiguresTakeTheirKeysPerSide() {
        List<String> lines = List.of(
                "hg-bench share hyper-gen run=0 write_mbps=1.0 read_mbps=1.0 meta_ops=1.0",
                "hg-bench share qemu run=0 write_mbps=1.0 read_mbps=1.0 meta_ops=1.0",
                "hg-bench share hyper-gen run=1 write_mbps=120.0 read_mbps=300.0 meta_ops=400.0",
                "hg-bench share qemu run=1 write_mbps=100.0 read_mbps=200.0 meta_ops=800.0");
        NestGuest read = (NestGuest) NestGuest.share().stream().filter(f -> f.name().equals("9p_seq_read_mbps")).findFirst()
                .orElseThrow();
        assertEquals(1.5, read.parse(lines, "t").ratio(), 1e-9);
        NestGuest meta = (NestGuest) NestGuest.share().stream().filter(f -> f.name().equals("9p_meta_ops")).findFirst()
                .orElseThrow();
        assertEquals(0.5, meta.parse(lines, "t").ratio(), 1e-9);
    }
}
