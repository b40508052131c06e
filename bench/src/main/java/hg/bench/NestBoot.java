package hg.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * boot_to_init: launch to the guest's init, the same vmlinux and rootfs image, hyper-gen vs
 * QEMU {@code -M microvm -accel kvm}, both on the nest's /dev/kvm (the boot image running under
 * QEMU TCG with an emulated SVM CPU; see {@link Nest}), 256 MiB, one vCPU, the image read-only.
 * hyper-gen: {@code VmManager.create} in the probe's running JVM (two warm-up boots first on
 * both sides); QEMU: launching its process. Endpoint on both sides: the rootfs
 * start-up script's first console line, printed just after its boot marker; hyper-gen's own
 * boot-timer record of the marker is reported beside it ("marker_ms").
 */
final class NestBoot implements Figure {
    static final String NAME = "boot_to_init";
    static final String UNIT = "ms launch to init (nest)";
    static final String PEER = "QEMU -M microvm -accel kvm in the same nest";
    static final String GOAL = "<= 0.8";
    private static final Pattern LINE = Pattern.compile(
            "hg-bench boot (hyper-gen|qemu) run=(-?\\d+) console_ms=([0-9.]+)(?: marker_ms=([0-9.]+|none))?");
    private static final Pattern FAILED = Pattern.compile("hg-bench boot (\\S+) failed: (.*)");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Result measure(Options options) throws Exception {
        Nest.Outcome nest = Nest.run(options);
        if (nest.why() != null) {
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, nest.why());
        }
        List<String> out = nest.lines();
        Path work = nest.work();
        List<Double> hg = new ArrayList<>(), peer = new ArrayList<>(), marker = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (String line : out) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                if (Integer.parseInt(m.group(2)) <= 0) {
                    continue; // warm-up
                }
                double ms = Double.parseDouble(m.group(3));
                if (m.group(1).equals("qemu")) {
                    peer.add(ms);
                } else {
                    hg.add(ms);
                    if (m.group(4) != null && !m.group(4).equals("none")) {
                        marker.add(Double.parseDouble(m.group(4)));
                    }
                }
                continue;
            }
            Matcher f = FAILED.matcher(line);
            if (f.find()) {
                failures.add(f.group(1) + ": " + f.group(2).strip());
            }
        }
        if (hg.isEmpty() || peer.isEmpty()) {
            String why = failures.isEmpty()
                    ? "the nest gave no boot times (serial log: " + work.resolve("nest-serial.log") + "; last lines: "
                            + String.join(" | ", out.subList(Math.max(0, out.size() - 8), out.size())) + ")"
                    : String.join("; ", new LinkedHashSet<>(failures));
            if (why.length() > 700) {
                why = why.substring(0, 700) + "...";
            }
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, why);
        }
        Stats h = Stats.of(hg.stream().mapToDouble(Double::doubleValue).toArray());
        Stats p = Stats.of(peer.stream().mapToDouble(Double::doubleValue).toArray());
        System.err.printf(Locale.ROOT, "bench: %s: %d/%d runs; hyper-gen %.1f ms (%.1f..%.1f), QEMU %.1f ms (%.1f..%.1f)%n",
                NAME, h.runs(), p.runs(), h.median(), h.min(), h.max(), p.median(), p.min(), p.max());
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", p.min());
        extra.put("peer_max", p.max());
        if (!marker.isEmpty()) {
            extra.put("marker_ms", Stats.of(marker.stream().mapToDouble(Double::doubleValue).toArray()).median());
        }
        extra.put("note", "in the nest (boot image under QEMU TCG, emulated SVM): guest vmlinux + default busybox"
                + " rootfs read-only, 256 MiB, 1 vCPU; hyper-gen: VmManager.create in a running JVM; QEMU: process"
                + " launch; both until the rootfs script's console line after its boot marker");
        return Result.measured(NAME, UNIT, h, p.median(), PEER, GOAL, extra);
    }
}
