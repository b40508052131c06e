package hg.bench;

import hg.vmm.Console;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;
import hg.vmm.VmState;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The huge-page figures, run inside the nest by {@link NestProbe} (copied there beside it): the same guest
 * on hyper-gen, in turns on 4 KiB pages and with {@code --hugepages} (the nest's hugetlbfs pool, grown for
 * it by this probe before and given back after), each timed from create to the boot marker its /init
 * writes, then running {@code hg-memtouch} (memtouch.c) on its console:
 * <pre>
 * hg-bench huge SIDE run=N boot_ms=X first_ms=F random_ms=R touch_ms=T      (SIDE hugepages or pages4k)
 * hg-bench huge SIDE failed: REASON
 * </pre>
 * Runs up to 0 are warm-ups.
 */
final class NestHuge {
    static final Path POOL = Path.of("/proc/sys/vm/nr_hugepages");

    private NestHuge() {}

    static void run(Confined vmmSide, VmManager manager, VmConfig base, Properties conf, long timeoutMs) throws Exception {
        int runs = Integer.parseInt(conf.getProperty("huge_runs"));
        long mib = Long.parseLong(conf.getProperty("huge_mem_mib", "512"));
        String command = conf.getProperty("huge_command");
        VmConfig small = base.withMemory(mib << 20);
        String before = Files.readString(POOL).strip();
        // the pool is the nest's to grow (the confined side may not write /proc/sys)
        Files.writeString(POOL, Long.toString(Long.parseLong(before) + mib / 2));
        try {
            System.out.println("hg-bench huge note: hugetlbfs pool " + Files.readString(POOL).strip() + " pages, "
                    + Files.readString(Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")).strip() + " free");
            for (int run = 0; run <= runs; run++) {
                int r = run;
                vmmSide.run(() -> once(manager, small, "pages4k", command, r, timeoutMs));
                vmmSide.run(() -> once(manager, small.withHugepages(true), "hugepages", command, r, timeoutMs));
            }
        } finally {
            Files.writeString(POOL, before);
        }
    }

    private static void once(VmManager manager, VmConfig config, String side, String command, int run, long timeoutMs) {
        StringBuilder seen = new StringBuilder();
        int id;
        try {
            id = manager.create(config);
        } catch (RuntimeException e) {
            System.out.println("hg-bench huge " + side + " failed: create: " + e.getMessage());
            return;
        }
        Vm vm = manager.require(id);
        Console.Attachment a = vm.console().attach(bytes -> {
            synchronized (seen) {
                seen.append(new String(bytes, StandardCharsets.ISO_8859_1));
                seen.notifyAll();
            }
        });
        try {
            if (side.equals("hugepages") && !vm.hugePages().equals("2M hugetlbfs")) {
                System.out.println("hg-bench huge note: run " + run + " got " + vm.hugePages() + ", not the pool's pages");
            }
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            String out = NestProbe.converse(seen, line -> vm.console().input(line.getBytes(StandardCharsets.US_ASCII)),
                    command, "mem", deadline, () -> vm.state() instanceof VmState.Running);
            List<Map.Entry<Long, java.time.Duration>> marks = vm.bootMarks();
            if (out.startsWith("failed:") || marks.isEmpty()) {
                System.out.println("hg-bench huge " + side + " failed: " + (marks.isEmpty() ? "no boot marker; " : "")
                        + out.replaceAll("[\\r\\n]+", " | "));
                return;
            }
            StringBuilder line = new StringBuilder(String.format(java.util.Locale.ROOT, "hg-bench huge %s run=%d boot_ms=%.1f",
                    side, run, marks.getFirst().getValue().toNanos() / 1e6));
            for (String l : out.split("[\\r\\n]+")) {
                String[] f = l.strip().split(" ");
                if (f.length == 3 && f[0].equals("hg-mem") && f[2].matches("[0-9.]+")) {
                    line.append(' ').append(f[1]).append('=').append(f[2]);
                }
            }
            System.out.println(line);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            a.close();
            manager.destroy(id);
        }
    }
}
