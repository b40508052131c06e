package hg.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A figure measured by a benchmark program inside a Linux guest, typed on its console after boot,
 * hyper-gen vs QEMU microvm in the same nest (see {@link Nest} and {@link NestProbe}); the probe
 * prints one "hg-bench KIND SIDE run=N key=value ..." line per VM, and this figure takes its key.
 * <ul>
 * <li>blk_seq_read, blk_seq_write, blk_rand_read, blk_rand_write: direct I/O on the guest's
 * virtio-blk disk vs QEMU's virtio-blk-device, the same image file (in the nest's initramfs, so
 * both back it with the page cache), attached read-write. blkbench.c: 1 MiB requests over a
 * region past the root file system, then 4 KiB requests at random offsets of it, then the same random
 * reads from four processes at once (blk_rand_read_4jobs_iops: up to four requests in flight); writes end
 * with fdatasync inside the timed span. Higher is better.
 * <li>net_tcp_gbps, net_rtt_us: TCP from the guest to a server on the nest (netbench.c on both
 * ends) over the guest's virtio-net card, its TAP and the nest's bridge, vs QEMU's
 * virtio-net-device on a TAP on the same bridge, both with vhost-net when the nest has it (the host
 * kernel builds it in), else both without: one connection's throughput, and the
 * median round trip of one-byte ping-pongs (lower is better).
 * </ul>
 */
record NestGuest(String kind, String key, String name, String unit, String peer, String goal, String note,
                 String side, String peerSide) implements Figure {
    private static final Pattern LINE = Pattern.compile("hg-bench (\\w+) ([\\w-]+) run=(-?\\d+)((?: \\w+=[0-9.]+)+)");

    /** hyper-gen against QEMU. */
    NestGuest(String kind, String key, String name, String unit, String peer, String goal, String note) {
        this(kind, key, name, unit, peer, goal, note, "hyper-gen", "qemu");
    }
    private static final Pattern FAILED = Pattern.compile("hg-bench (\\w+) (\\S+) failed: (.*)");

    static List<Figure> blk() {
        String peer = "QEMU microvm virtio-blk-device in the same nest";
        String note = "guest direct I/O on /dev/vda past the root fs (blkbench.c), in the nest under QEMU TCG;"
                + " the image file lives in the nest's initramfs (page cache) for both VMMs";
        List<Figure> all = new ArrayList<>();
        for (String key : List.of("seq_read", "seq_write", "rand_read", "rand_write", "rand_read_4jobs")) {
            String unit = key.startsWith("seq") ? "MB/s (1 MiB direct)"
                    : key.endsWith("4jobs") ? "IOPS (4 KiB direct, 4 processes)" : "IOPS (4 KiB direct)";
            all.add(new NestGuest("blk", key, "blk_" + key + (key.endsWith("4jobs") ? "_iops" : ""), unit, peer, ">= 1.1",
                    note));
        }
        return all;
    }

    static List<Figure> net() {
        String peer = "QEMU microvm virtio-net-device, TAP with vhost-net (as hyper-gen's card), in the same nest";
        String note = "guest to nest host over virtio-net, TAP and bridge hgbr0 (netbench.c both ends), in the nest"
                + " under QEMU TCG; ";
        return List.of(
                new NestGuest("net", "gbps", "net_tcp_gbps", "Gbit/s guest to host", peer, ">= 1.0",
                        note + "one TCP connection, guest sends, timed until the server's byte count is back"),
                new NestGuest("net", "rtt_us", "net_rtt_us", "us TCP round trip", peer, "<= 1.0",
                        note + "median of one-byte TCP ping-pongs (TCP_NODELAY) on one connection"));
    }

    static List<Figure> share() {
        String peer = "QEMU microvm virtio-9p-device (-fsdev local, security_model=none) in the same nest";
        String note = "the guest's /mnt/bench over virtio-9p (9P2000.L, msize 512 KiB on both), a directory of the nest's"
                + " tmpfs, emptied before each VM; typed on the console, timed from the typing to the command's marker;"
                + " in the nest under QEMU TCG; ";
        return List.of(
                new NestGuest("share", "read_mbps", "9p_seq_read_mbps", "MB/s", peer, ">= 1.0",
                        note + "dd of a 64 MiB file in 1 MiB blocks"),
                new NestGuest("share", "write_mbps", "9p_seq_write_mbps", "MB/s", peer, ">= 1.0",
                        note + "dd of 64 MiB in 1 MiB blocks with conv=fsync"),
                new NestGuest("share", "meta_ops", "9p_meta_ops", "files/s (create+stat+unlink)", peer, ">= 1.0",
                        note + "1,000 times: create, stat and unlink of one file, by the guest's busybox sh"));
    }

    /**
     * boot_to_init_hugepages, guest_memtouch_hugepages: the same guest on hyper-gen with --hugepages against
     * itself without it (its default memory: the host's pages, transparent huge pages advised) (NestHuge).
     */
    static List<Figure> huge() {
        String peer = "the same VM without --hugepages (THP advised), in turns in the same nest";
        String note = "512 MiB guest; hugepages: 2 MiB pages from the nest's hugetlbfs pool (grown for the runs); in the"
                + " nest under QEMU TCG with its KVM on shadow paging; ";
        return List.of(
                new NestGuest("huge", "boot_ms", "boot_to_init_hugepages", "ms create to /init", peer, "< 1.0 (report)",
                        note + "from VmManager.create to the boot marker the rootfs' /init writes", "hugepages", "pages4k"),
                new NestGuest("huge", "touch_ms", "guest_memtouch_hugepages", "ms (256 MiB touched)", peer, "< 1.0 (report)",
                        note + "memtouch.c: each 4 KiB page of 256 MiB once, then 4,000,000 random 8-byte reads and writes",
                        "hugepages", "pages4k"));
    }

    /**
     * idle_cpu_per_vm, idle_vmm_mem_per_vm: {@value Nest#DENSITY_VMS} idle guests of 64 MiB on hyper-gen (one
     * process) against as many QEMU microvm processes, in the same nest (NestDensity); a run is one idle window.
     */
    static List<Figure> density() {
        String peer = "as many QEMU microvm processes (" + Nest.DENSITY_VMS + ", 10 with --quick), the same guest and image,"
                + " in the same nest";
        String note = Nest.DENSITY_VMS + " guests of 64 MiB (the default kernel and busybox image), each booted until it"
                + " answered an echo on its console, then idle; in the nest under QEMU TCG; ";
        return List.of(
                new NestGuest("density", "idle_cpu_ms_s", "idle_cpu_per_vm", "CPU ms per s per idle VM", peer, "<= 1.0",
                        note + "user + system + guest time of the VMM processes (/proc/PID/stat) over 10 s windows"),
                new NestGuest("density", "own_kib", "idle_vmm_mem_per_vm", "KiB of the VMM's own memory per VM", peer,
                        "<= 0.1", note + "Pss of the VMM processes less their guest RAM's Pss (hyper-gen names it"
                        + " [anon:hg-vm-N-ram]; QEMU's is its one anonymous mapping of the guest's size), per VM"));
    }

    @Override
    public Result measure(Options options) throws Exception {
        Nest.Outcome nest = Nest.run(options);
        if (nest.why() != null) {
            return Result.unmeasured(name, unit, peer, goal, nest.why());
        }
        return parse(nest.lines(), "serial log: " + nest.work().resolve("nest-serial.log"));
    }

    /** This figure from the probe's lines; {@code where} says where they are kept, for a "why". */
    Result parse(List<String> lines, String where) {
        List<Double> hg = new ArrayList<>(), other = new ArrayList<>();
        LinkedHashSet<String> failures = new LinkedHashSet<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                boolean ours = m.group(2).equals(side);
                if (!m.group(1).equals(kind) || Integer.parseInt(m.group(3)) <= 0 || !ours && !m.group(2).equals(peerSide)) {
                    continue; // another figure's, or a warm-up
                }
                for (String kv : m.group(4).trim().split(" ")) {
                    String[] f = kv.split("=");
                    if (f[0].equals(key)) {
                        (ours ? hg : other).add(Double.parseDouble(f[1]));
                    }
                }
                continue;
            }
            Matcher f = FAILED.matcher(line);
            if (f.find() && f.group(1).equals(kind)) {
                failures.add(f.group(2) + ": " + f.group(3).strip());
            }
        }
        if (hg.isEmpty() || other.isEmpty()) {
            String why = failures.isEmpty() ? "the nest gave no " + name + " figures (" + where + ")"
                    : String.join("; ", failures);
            return Result.unmeasured(name, unit, peer, goal, why.length() > 700 ? why.substring(0, 700) + "..." : why);
        }
        Stats h = Stats.of(hg.stream().mapToDouble(Double::doubleValue).toArray());
        Stats p = Stats.of(other.stream().mapToDouble(Double::doubleValue).toArray());
        System.err.printf(Locale.ROOT, "bench: %s: %d/%d runs; %s %.3f (%.3f..%.3f), %s %.3f (%.3f..%.3f) %s%n",
                name, h.runs(), p.runs(), side, h.median(), h.min(), h.max(), peerSide, p.median(), p.min(), p.max(), unit);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", p.min());
        extra.put("peer_max", p.max());
        if (!failures.isEmpty()) {
            extra.put("failed_runs", String.join("; ", failures));
        }
        extra.put("note", note);
        return Result.measured(name, unit, h, p.median(), peer, goal, extra);
    }
}
