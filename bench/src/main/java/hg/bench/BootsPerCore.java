package hg.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * boots_per_core_s: how many guests one core boots to init per second, from the CPU one boot
 * costs: 1000 / (CPU ms of the whole VMM process, guest time included, from create/launch to
 * the guest's init line). Same boots as boot_to_init in the nest; hyper-gen: the JVM's CPU
 * time growth during the boot (all its threads, JIT and GC included); QEMU: its process's CPU
 * time at that moment. /proc/PID/stat ticks (10 ms). Derived from CPU per boot, not from many
 * boots run at once on a pinned core.
 */
final class BootsPerCore implements Figure {
    static final String NAME = "boots_per_core_s";
    static final String UNIT = "boots / core s (nest)";
    static final String PEER = "QEMU -M microvm -accel kvm in the same nest";
    static final String GOAL = ">= 1.3";
    private static final Pattern LINE = Pattern.compile("hg-bench boot (hyper-gen|qemu) run=(-?\\d+) .*cpu_ms=(\\d+)");

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
        List<Double> hg = new ArrayList<>(), peer = new ArrayList<>();
        for (String line : nest.lines()) {
            Matcher m = LINE.matcher(line);
            if (m.find() && Integer.parseInt(m.group(2)) > 0 && Long.parseLong(m.group(3)) > 0) {
                (m.group(1).equals("qemu") ? peer : hg).add(1000.0 / Long.parseLong(m.group(3)));
            }
        }
        if (hg.isEmpty() || peer.isEmpty()) {
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, "the nest gave no CPU times per boot (see boot_to_init)");
        }
        Stats h = Stats.of(hg.stream().mapToDouble(Double::doubleValue).toArray());
        Stats p = Stats.of(peer.stream().mapToDouble(Double::doubleValue).toArray());
        System.err.printf(Locale.ROOT, "bench: %s: hyper-gen %.3f (%.3f..%.3f), QEMU %.3f (%.3f..%.3f) boots per core s%n",
                NAME, h.median(), h.min(), h.max(), p.median(), p.min(), p.max());
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", p.min());
        extra.put("peer_max", p.max());
        extra.put("note", "1000 / CPU ms per boot to init (whole VMM process incl. guest time; hyper-gen's JVM incl."
                + " JIT/GC) in the nest under QEMU TCG; not a concurrent-boot test");
        return Result.measured(NAME, UNIT, h, p.median(), PEER, GOAL, extra);
    }
}
