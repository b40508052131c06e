package hg.bench;

import hg.vmm.Console;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The density figures, run inside the nest by {@link NestProbe} (copied there beside it): COUNT guests of MEM MiB
 * on hyper-gen (all in this JVM), each booted until it answered a command on its console, then left idle; then
 * the same with COUNT QEMU microvm processes. For each, WINDOWS idle windows of SECONDS each, one line per window:
 * <pre>
 * hg-bench density SIDE run=W idle_cpu_ms_s=C own_kib=O guest_kib=G
 * hg-bench density SIDE failed: REASON
 * </pre>
 * idle_cpu_ms_s: CPU ms per second of wall time per VM (user + system + guest, from /proc/PID/stat: all of
 * hyper-gen's JVM, or the sum of the QEMU processes); own_kib: the VMM's own memory per VM, the proportional set
 * size (smaps' Pss, so a library shared by the QEMU processes counts once) less the guest RAM's: hyper-gen's guest
 * RAM is the mappings it names {@code [anon:hg-vm-N-ram]}, QEMU's the one anonymous read-write mapping of exactly
 * the guest's size in each process; guest_kib: the guest RAM's Pss per VM, for the record.
 */
final class NestDensity {
    static final String KIND = "density";

    private NestDensity() {}

    static void run(Confined vmmSide, VmManager manager, VmConfig base, List<String> qemuCmd, Properties conf,
                    long timeoutMs) throws Exception {
        int count = Integer.parseInt(conf.getProperty("density_count"));
        long mib = Long.parseLong(conf.getProperty("density_mem_mib", "64"));
        int windows = Integer.parseInt(conf.getProperty("density_windows", "3"));
        int seconds = Integer.parseInt(conf.getProperty("density_seconds", "10"));
        VmConfig config = base.withMemory(mib << 20);
        List<Integer> ids = new ArrayList<>();
        try {
            long t0 = System.nanoTime();
            String failed = bootHyperGen(vmmSide, manager, config, 0, 1, count, ids, timeoutMs);
            long one = failed == null ? ownKib() : -1;
            if (failed == null) {
                failed = bootHyperGen(vmmSide, manager, config, 1, count, count, ids, timeoutMs);
            }
            if (failed != null) {
                System.out.println("hg-bench density hyper-gen failed: " + failed);
            } else {
                System.out.printf(Locale.ROOT, "hg-bench density note: %d hyper-gen guests of %d MiB answered in %.1f s%n",
                        count, mib, (System.nanoTime() - t0) / 1e9);
                idle("hyper-gen", List.of("self"), count, windows, seconds, NestDensity::isHyperGenRam,
                        " (a kernel without CONFIG_ANON_VMA_NAME names none)");
                // where the VMM's own memory is, to know what to cut: not a figure, a note for whoever reads the log
                System.out.println("hg-bench density note: hyper-gen's largest mappings, Pss kB: " + String.join(", ",
                        largest(Files.readAllLines(Path.of("/proc/self/smaps"), StandardCharsets.ISO_8859_1),
                                NestDensity::isHyperGenRam, 24)));
                System.out.println("hg-bench density note: hyper-gen's threads: " + threadNames(Path.of("/proc/self/task")));
                // what the VMM holds whatever the number of guests, and what each further guest adds: the figure's floor
                long all = ownKib();
                if (one >= 0 && all >= 0) {
                    System.out.printf(Locale.ROOT, "hg-bench density note: hyper-gen's own memory with 1 guest %d KiB"
                            + " (just after it answered), with %d %d KiB: %d KiB for each further guest%n", one, count, all,
                            (all - one) / Math.max(1, count - 1));
                }
                Runtime rt = Runtime.getRuntime();
                long total = rt.totalMemory(), free = rt.freeMemory();
                System.gc(); // after the windows: how much of the heap was live, not what the figure saw
                System.out.printf(Locale.ROOT, "hg-bench density note: hyper-gen's Java heap: %d KiB, %d KiB of it in use;"
                        + " %d KiB live%n", total >> 10, (total - free) >> 10, (rt.totalMemory() - rt.freeMemory()) >> 10);
            }
        } finally {
            vmmSide.run(() -> ids.forEach(manager::destroy));
        }

        List<String> cmd = new ArrayList<>(qemuCmd);
        cmd.set(cmd.indexOf("-m") + 1, Long.toString(mib));
        List<NestQemu> qemus = new ArrayList<>();
        try {
            long t0 = System.nanoTime();
            String failed = null;
            for (int i = 0; i < count && failed == null; i++) {
                StringBuilder seen = new StringBuilder();
                NestQemu q = NestQemu.start(cmd, seen);
                qemus.add(q);
                String why = answer(seen, q.keyboard(), i, q.process()::isAlive, timeoutMs);
                failed = why == null ? null : "guest " + (i + 1) + " of " + count + ": " + why;
            }
            if (failed != null) {
                System.out.println("hg-bench density qemu failed: " + failed);
                return;
            }
            System.out.printf(Locale.ROOT, "hg-bench density note: %d QEMU guests of %d MiB answered in %.1f s%n",
                    count, mib, (System.nanoTime() - t0) / 1e9);
            idle("qemu", qemus.stream().map(q -> Long.toString(q.process().pid())).toList(), count, windows, seconds,
                    l -> isQemuRam(l, mib), "");
        } finally {
            for (NestQemu q : qemus) {
                q.stop();
            }
        }
    }

    /** This JVM's own memory (Pss less its guests' RAM), KiB; -1 without smaps (the idle windows say so). */
    private static long ownKib() {
        try {
            long[] pss = pss("self", NestDensity::isHyperGenRam);
            return pss[0] - pss[1];
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Boots guests {@code from} up to {@code to} on the VMM's side, one after another; null, or why one did not answer. */
    private static String bootHyperGen(Confined vmmSide, VmManager manager, VmConfig config, int from, int to, int count,
                                       List<Integer> ids, long timeoutMs) throws Exception {
        return vmmSide.call(() -> {
            for (int i = from; i < to; i++) {
                String why = bootHyperGen(manager, config, i, ids, timeoutMs);
                if (why != null) {
                    return "guest " + (i + 1) + " of " + count + ": " + why;
                }
            }
            return null;
        });
    }

    /** Creates guest {@code i}, attaches to its console and waits until it answered; null, or why not. */
    private static String bootHyperGen(VmManager manager, VmConfig config, int i, List<Integer> ids,
                                       long timeoutMs) throws InterruptedException {
        int id;
        try {
            id = manager.create(config);
        } catch (RuntimeException e) {
            return "create: " + e.getMessage();
        }
        ids.add(id);
        Vm vm = manager.require(id);
        StringBuilder seen = new StringBuilder();
        Console.Attachment console = vm.console().attach(bytes -> {
            synchronized (seen) {
                seen.append(new String(bytes, StandardCharsets.ISO_8859_1));
                seen.notifyAll();
            }
        });
        try {
            return answer(seen, line -> vm.console().input(line.getBytes(StandardCharsets.US_ASCII)), i,
                    () -> vm.state() instanceof hg.vmm.VmState.Running, timeoutMs);
        } finally {
            // nothing of the console stays with the probe: what this JVM holds for it would count as the VMM's own
            console.close();
        }
    }

    /** Waits for the guest's prompt, types an arithmetic echo and waits for its answer; null, or why not. */
    private static String answer(StringBuilder seen, java.util.function.Consumer<String> type, int i,
                                 java.util.function.BooleanSupplier alive, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        int from;
        synchronized (seen) {
            int ready = NestProbe.waitFor(seen, NestProbe.READY, 0, deadline, alive);
            if (ready < 0 || NestProbe.waitFor(seen, "# ", ready, deadline, alive) < 0) {
                return "no shell prompt on the console; tail: " + NestProbe.tail(seen);
            }
            from = seen.length();
        }
        // typed without the lock: hyper-gen's UART hands output to the listener (which takes it) under its own lock
        type.accept("echo hg-density-$((" + i + " * 7))\n");
        synchronized (seen) {
            if (NestProbe.waitFor(seen, "hg-density-" + i * 7, from, deadline, alive) < 0) {
                return "no answer on the console; tail: " + NestProbe.tail(seen);
            }
        }
        return null;
    }

    /**
     * The idle windows: CPU of {@code pids} over each, then memory, one line each. {@code guestRam} tells the
     * guest RAM's smaps header lines; {@code unnamedHint} follows the line that says too few were found.
     */
    private static void idle(String side, List<String> pids, int count, int windows, int seconds,
                             Predicate<String> guestRam, String unnamedHint) throws Exception {
        Thread.sleep(5_000); // the last boot's tail (the guest's init, the VMM's JIT) settles first
        for (int w = 1; w <= windows; w++) {
            long cpu0 = cpuMs(pids);
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            double wall = (System.nanoTime() - t0) / 1e9;
            double cpu = (cpuMs(pids) - cpu0) / wall / count;
            long own = 0, guest = 0;
            int ramMappings = 0;
            try {
                for (String pid : pids) {
                    long[] pss = pss(pid, guestRam);
                    own += pss[0] - pss[1];
                    guest += pss[1];
                    ramMappings += (int) pss[2];
                }
            } catch (java.io.IOException e) {
                // a kernel without PROC_PAGE_MONITOR has no smaps: the other figures of the run go on
                System.out.println("hg-bench density " + side + " failed: cannot read smaps: " + e);
                return;
            }
            if (ramMappings < count) {
                System.out.println("hg-bench density " + side + " failed: found the RAM of " + ramMappings + " guests in "
                        + "smaps, not " + count + unnamedHint);
                return;
            }
            System.out.printf(Locale.ROOT, "hg-bench density %s run=%d idle_cpu_ms_s=%.3f own_kib=%d guest_kib=%d%n",
                    side, w, cpu, own / count, guest / count);
        }
    }

    /** A hyper-gen guest RAM header line of smaps: the mapping is named [anon:hg-vm-N-ram]. */
    static boolean isHyperGenRam(String header) {
        return header.matches(".*\\[anon:hg-vm-\\d+-ram\\]");
    }

    /** A QEMU guest RAM header line of smaps: anonymous (no path), rw-p, {@code mib} long. */
    static boolean isQemuRam(String header, long mib) {
        String[] f = header.trim().split("\\s+");
        if (f.length != 5 || !f[1].equals("rw-p")) {
            return false;
        }
        return bytes(f[0]) == mib << 20;
    }

    /** The size of an smaps header's address range ("START-END", hexadecimal). */
    private static long bytes(String range) {
        String[] ends = range.split("-");
        return Long.parseUnsignedLong(ends[1], 16) - Long.parseUnsignedLong(ends[0], 16);
    }

    /** Whether an smaps line is one of a mapping's "Key: value" fields rather than a mapping's header. */
    private static boolean isField(String line) {
        int colon = line.indexOf(':');
        return colon > 0 && line.indexOf(' ') > colon;
    }

    /** The kB of a "Pss:" field. */
    private static long pssKb(String line) {
        return Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
    }

    /** {all Pss kB, guest RAM Pss kB, guest RAM mappings} of process {@code pid} from its smaps. */
    static long[] pss(String pid, Predicate<String> guestRam) throws java.io.IOException {
        return pss(Files.readAllLines(Path.of("/proc", pid, "smaps"), StandardCharsets.ISO_8859_1), guestRam);
    }

    /** As above, from the lines of an smaps file; {@code guestRam} is asked of each mapping's header line. */
    static long[] pss(List<String> smaps, Predicate<String> guestRam) {
        long all = 0, guest = 0, mappings = 0;
        boolean inRam = false;
        for (String line : smaps) {
            if (isField(line)) {
                if (line.startsWith("Pss:")) {
                    long kb = pssKb(line);
                    all += kb;
                    if (inRam) {
                        guest += kb;
                    }
                }
                continue;
            }
            inRam = guestRam.test(line);
            if (inRam) {
                mappings++;
            }
        }
        return new long[] {all, guest, mappings};
    }

    /**
     * The {@code n} mappings of an smaps file with the most Pss but those {@code skip} tells by their header line,
     * each as "PSS name PERMISSIONS at START": the file's name, the kernel's name in brackets, or the mapping's size
     * for an unnamed one.
     */
    static List<String> largest(List<String> smaps, Predicate<String> skip, int n) {
        List<Map.Entry<String, Long>> all = new ArrayList<>(); // no record: this class is copied alone into the nest
        String header = null;
        for (String line : smaps) {
            if (isField(line)) {
                if (line.startsWith("Pss:") && header != null) {
                    all.add(Map.entry(header, pssKb(line)));
                }
                continue;
            }
            String[] f = line.trim().split("\\s+", 6);
            if (f.length < 5 || skip.test(line)) {
                header = null;
                continue;
            }
            String name = f.length == 6 ? Path.of(f[5].trim()).getFileName().toString()
                    : "anon " + (bytes(f[0]) >> 10) + " kB";
            header = name + " " + f[1] + " at " + f[0].substring(0, f[0].indexOf('-'));
        }
        return all.stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(n)
                .map(m -> m.getValue() + " " + m.getKey()).toList();
    }

    /** This process's threads by name, digits folded into N, most common first: "vmN-io x50, ...". */
    static String threadNames(Path tasks) throws java.io.IOException {
        Map<String, Integer> names = new TreeMap<>();
        try (var list = Files.list(tasks)) {
            for (Path t : list.toList()) {
                try {
                    names.merge(Files.readString(t.resolve("comm")).trim().replaceAll("\\d+", "N"), 1, Integer::sum);
                } catch (java.io.IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return names.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .map(e -> e.getKey() + " x" + e.getValue()).collect(java.util.stream.Collectors.joining(", "));
    }

    private static long cpuMs(List<String> pids) {
        long sum = 0;
        for (String pid : pids) {
            sum += NestProbe.cpuMs(pid);
        }
        return sum;
    }
}
