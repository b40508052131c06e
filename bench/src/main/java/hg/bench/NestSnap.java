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
 * The snapshot figures, measured in the nest by {@link NestProbe} with the boot_to_init guest
 * (read-only image, no network card, 256 MiB, 1 vCPU); every time runs until the guest answers a
 * command typed on its console ("echo hg-snap $((6*7))"). Snapshots and clones' frozen images go to
 * the nest's /tmp, which is RAM.
 * <ul>
 * <li>restore_vs_boot: {@code VmManager.restore} of a snapshot taken with stop after a cold boot,
 * against that cold boot ({@code VmManager.create}) in the same run.
 * <li>restore_vs_qemu: the same restore against QEMU microvm's: QEMU started with
 * {@code -incoming "exec:cat FILE"}, the file written by QMP's {@code migrate} from a QEMU that
 * booted the guest; its process start included, as hyper-gen's restore includes making the VM.
 * <li>clone_ms: {@code VmManager.clone(parent, 10)} until the last clone answered, / 10, against
 * the parent's cold boot.
 * <li>clone_mem_ratio: the drop of the nest's MemAvailable from before the parent was made, with
 * the parent and its 10 clones running (each answered), against the parent alone.
 * </ul>
 */
record NestSnap(String name, String unit, String peer, String goal, String kind, String key, String peerSide,
                String peerKey, double scale, List<String> extras, String note) implements Figure {
    static final String RESTORE_VS_BOOT = "restore_vs_boot";
    static final String RESTORE_VS_QEMU = "restore_vs_qemu";
    static final String CLONE_MS = "clone_ms";
    static final String CLONE_MEM_RATIO = "clone_mem_ratio";
    static final int CLONES = 10;
    /** In the nest: its /tmp is a tmpfs. */
    static final String SNAP_DIR = "/tmp/hg-bench-snap";

    private static final Pattern LINE = Pattern.compile("hg-bench (\\w+) (hyper-gen|qemu) run=(-?\\d+)((?: \\w+=-?[0-9.]+)+)");
    private static final Pattern SAVED = Pattern.compile("hg-bench snap qemu saved((?: \\w+=-?[0-9.]+)+)");
    private static final Pattern FAILED = Pattern.compile("hg-bench (\\w+) (\\S+) failed: (.*)");

    static List<Figure> figures() {
        String where = "in the nest (boot image under QEMU TCG, emulated SVM): guest vmlinux + default busybox rootfs"
                + " read-only, no network card, 256 MiB, 1 vCPU; every time until the guest answers a console command;"
                + " snapshots in the nest's /tmp (RAM); ";
        return List.of(
                new NestSnap(RESTORE_VS_BOOT, "ms to answer (nest)",
                        "hyper-gen cold boot of the same guest (VmManager.create) in the same nest", "<= 0.1", "snap",
                        "restore_ms", "hyper-gen", "boot_ms", 1, List.of("snapshot_ms", "memory_data_mib"),
                        where + "hyper-gen: VmManager.restore of a snapshot taken with stop right after the cold boot"
                                + " answered, vs that cold boot; both in a running JVM"),
                new NestSnap(RESTORE_VS_QEMU, "ms to answer (nest)",
                        "QEMU microvm -incoming \"exec:cat FILE\" in the same nest", "<= 0.5", "snap", "restore_ms", "qemu",
                        "restore_ms", 1, List.of(),
                        where + "hyper-gen: VmManager.restore in a running JVM; QEMU: process start with -incoming from a"
                                + " file written by QMP migrate \"exec:cat > FILE\" of a booted QEMU (the guest running"
                                + " idle at its prompt), typed to at QMP's RESUME"),
                new NestSnap(CLONE_MS, "ms per clone (nest)",
                        "hyper-gen cold boot of the parent (VmManager.create) in the same nest", "<= 0.05", "clone",
                        "per_clone_ms", "hyper-gen", "boot_ms", 1, List.of("total_ms", "clone_call_ms"),
                        where + "VmManager.clone(parent, " + CLONES + ") from the call until the last of the " + CLONES
                                + " clones answered, / " + CLONES + "; the parent's cold boot to its answer beside it;"
                                + " frozen image in the nest's /tmp"),
                new NestSnap(CLONE_MEM_RATIO, "MiB used (nest)",
                        "the parent VM alone, before cloning", "<= 1.5", "clone", "all_kib", "hyper-gen", "parent_kib",
                        1.0 / 1024, List.of("mem_ratio", "parent_rss_kib", "frozen_shmem_kib", "frozen_mappings",
                        "anon_kib", "shmem_rss_kib", "parent_private_dirty_kib", "clones_private_dirty_kib",
                        "clones_rss_kib"),
                        where + "drop of the nest's MemAvailable from before the parent was made: with the parent and "
                                + CLONES + " clones running (each answered a command) vs the parent alone (it answered);"
                                + " frozen memory file in the nest's /tmp (tmpfs, counted as Shmem); the VMs' manager"
                                + " overcommits (11 x 256 MiB promised in a 3 GiB nest); extra fields: parent_rss_kib,"
                                + " the JVM's VmRSS growth with the parent; frozen_shmem_kib, the nest's Shmem growth"
                                + " (the frozen file); frozen_mappings, the JVM's mappings of it; anon_kib and"
                                + " shmem_rss_kib, the JVM's RssAnon (the VMs' written pages, the JVM's own) and"
                                + " RssShmem (the frozen file's pages, once per mapping) growth from before the parent; *_private_dirty_kib per smaps mapping of the"
                                + " frozen file only where the kernel has smaps (the nest's has no"
                                + " CONFIG_PROC_PAGE_MONITOR)"));
    }

    /** The vsock figures ({@link NestVsock}): one guest with the agent, a network card and a vsock. */
    static List<Figure> vsock() {
        String where = "in the nest (boot image under QEMU TCG, emulated SVM): guest vmlinux + busybox rootfs with hg-agent and"
                + " hg-vsink, read-only, 256 MiB, 1 vCPU; ";
        return List.of(
                new NestSnap("exec_rtt_ms", "ms per command (nest)",
                        "the same program typed on the same guest's console", "<= 0.5", "exec", "exec_ms",
                        "hyper-gen", "console_ms", 1, List.of(),
                        where + "hyper-gen: GuestAgent.exec(/bin/true) over the VM's hybrid vsock, connection included,"
                                + " in a running JVM; peer: '/bin/true; echo MARK' typed on the guest's console until the"
                                + " marker's line is back; median of 50 pairs after 5 warm-ups"),
                new NestSnap("vsock_mbps", "MB/s guest to host (nest)", "TCP over virtio-net from the same guest",
                        ">= 1.0", "vsock", "vsock_mbps", "hyper-gen", "tcp_mbps", 1, List.of(),
                        where + "hg-vsink send in the guest writes 64 MiB over AF_VSOCK (to the listener at the VM's"
                                + " socket_5000) and over TCP to the bridge's address; hg-vsink in the nest times each"
                                + " stream from accept to its end; median of 3 runs after a warm-up"),
                new NestSnap("vsock_vs_qemu_mbps", "MB/s guest to host (nest)", "QEMU microvm vhost-vsock-device",
                        ">= 1.0", "vsock", "vsock_mbps", "qemu", "vsock_mbps", 1, List.of(),
                        where + "the same 64 MiB vsock stream; QEMU's goes through the nest kernel's vhost-vsock to"
                                + " hg-vsink on AF_VSOCK; median of 3 runs after a warm-up"));
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
        Map<String, List<Double>> more = new LinkedHashMap<>();
        Map<String, Object> saved = new LinkedHashMap<>();
        LinkedHashSet<String> failures = new LinkedHashSet<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                if (!m.group(1).equals(kind) || Integer.parseInt(m.group(3)) <= 0) {
                    continue; // another figure's, or a warm-up
                }
                Map<String, Double> values = values(m.group(4));
                boolean hgSide = m.group(2).equals("hyper-gen");
                if (hgSide && values.containsKey(key)) {
                    hg.add(values.get(key) * scale);
                    for (String e : extras) {
                        if (values.containsKey(e)) {
                            more.computeIfAbsent(e, k -> new ArrayList<>()).add(values.get(e));
                        }
                    }
                }
                if (m.group(2).equals(peerSide) && values.containsKey(peerKey)) {
                    other.add(values.get(peerKey) * scale);
                }
                continue;
            }
            Matcher s = SAVED.matcher(line);
            if (s.find() && peerSide.equals("qemu")) {
                values(s.group(1)).forEach((k, v) -> saved.put("qemu_" + k, v));
                continue;
            }
            Matcher f = FAILED.matcher(line);
            if (f.find() && f.group(1).equals(kind) && (f.group(2).equals("hyper-gen") || f.group(2).equals(peerSide))) {
                failures.add(f.group(2) + ": " + f.group(3).strip());
            }
        }
        if (hg.isEmpty() || other.isEmpty()) {
            String why = failures.isEmpty() ? "the nest gave no " + name + " figures (" + where + ")"
                    : String.join("; ", failures);
            return Result.unmeasured(name, unit, peer, goal, why.length() > 900 ? why.substring(0, 900) + "..." : why);
        }
        Stats h = Stats.of(hg.stream().mapToDouble(Double::doubleValue).toArray());
        Stats p = Stats.of(other.stream().mapToDouble(Double::doubleValue).toArray());
        System.err.printf(Locale.ROOT, "bench: %s: %d/%d runs; hyper-gen %.3f (%.3f..%.3f), peer %.3f (%.3f..%.3f) %s%n",
                name, h.runs(), p.runs(), h.median(), h.min(), h.max(), p.median(), p.min(), p.max(), unit);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", p.min());
        extra.put("peer_max", p.max());
        more.forEach((k, v) -> extra.put(k, Stats.of(v.stream().mapToDouble(Double::doubleValue).toArray()).median()));
        extra.putAll(saved);
        if (!failures.isEmpty()) {
            extra.put("failed_runs", String.join("; ", failures));
        }
        extra.put("note", note);
        return Result.measured(name, unit, h, p.median(), peer, goal, extra);
    }

    private static Map<String, Double> values(String pairs) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String kv : pairs.trim().split(" ")) {
            String[] f = kv.split("=");
            out.put(f[0], Double.parseDouble(f[1]));
        }
        return out;
    }
}
