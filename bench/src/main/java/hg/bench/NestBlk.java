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
 * blk_seq_read, blk_seq_write, blk_rand_read, blk_rand_write: direct I/O inside a Linux guest
 * on its virtio-blk disk, hyper-gen vs QEMU microvm's virtio-blk-device, in the same nest, the
 * same image file (in the nest's initramfs, so both back it with the page cache), attached
 * read-write. The guest runs blkbench.c on its console after boot: 1 MiB requests over a region
 * past the root file system, then 4 KiB requests at random offsets of it; writes end with
 * fdatasync inside the timed span. Higher is better, so the goal is a ratio >= 1.
 */
record NestBlk(String key, String unit) implements Figure {
    static final String PEER = "QEMU microvm virtio-blk-device in the same nest";
    static final String GOAL = ">= 1.0";
    private static final Pattern LINE = Pattern.compile("hg-bench blk (hyper-gen|qemu) run=(\\d+)((?: \\w+=[0-9.]+)+)");
    private static final Pattern FAILED = Pattern.compile("hg-bench blk (\\S+) failed: (.*)");

    static List<Figure> figures() {
        return List.of(new NestBlk("seq_read", "MB/s (1 MiB direct)"), new NestBlk("seq_write", "MB/s (1 MiB direct)"),
                new NestBlk("rand_read", "IOPS (4 KiB direct)"), new NestBlk("rand_write", "IOPS (4 KiB direct)"));
    }

    @Override
    public String name() {
        return "blk_" + key;
    }

    @Override
    public Result measure(Options options) throws Exception {
        Nest.Outcome nest = Nest.run(options);
        if (nest.why() != null) {
            return Result.unmeasured(name(), unit, PEER, GOAL, nest.why());
        }
        List<Double> hg = new ArrayList<>(), peer = new ArrayList<>();
        Set failures = new Set();
        for (String line : nest.lines()) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                for (String kv : m.group(3).trim().split(" ")) {
                    String[] f = kv.split("=");
                    if (f[0].equals(key)) {
                        (m.group(1).equals("qemu") ? peer : hg).add(Double.parseDouble(f[1]));
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
            String why = failures.isEmpty() ? "the nest gave no " + name() + " figures (serial log: "
                    + nest.work().resolve("nest-serial.log") + ")" : failures.text();
            return Result.unmeasured(name(), unit, PEER, GOAL, why);
        }
        Stats h = Stats.of(hg.stream().mapToDouble(Double::doubleValue).toArray());
        Stats p = Stats.of(peer.stream().mapToDouble(Double::doubleValue).toArray());
        System.err.printf(Locale.ROOT, "bench: %s: %d/%d runs; hyper-gen %.1f (%.1f..%.1f), QEMU %.1f (%.1f..%.1f) %s%n",
                name(), h.runs(), p.runs(), h.median(), h.min(), h.max(), p.median(), p.min(), p.max(), unit);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", p.min());
        extra.put("peer_max", p.max());
        extra.put("note", "guest direct I/O on /dev/vda past the root fs (blkbench.c), in the nest under QEMU TCG;"
                + " the image file lives in the nest's initramfs (page cache) for both VMMs");
        return Result.measured(name(), unit, h, p.median(), PEER, GOAL, extra);
    }

    /** Distinct failure reasons, kept short. */
    private static final class Set {
        private final LinkedHashSet<String> items = new LinkedHashSet<>();

        void add(String s) {
            items.add(s);
        }

        boolean isEmpty() {
            return items.isEmpty();
        }

        String text() {
            String s = String.join("; ", items);
            return s.length() > 700 ? s.substring(0, 700) + "..." : s;
        }
    }
}
