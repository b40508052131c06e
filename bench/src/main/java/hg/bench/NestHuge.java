package hg.bench;

import hg.vmm.VmConfig;
import hg.vmm.VmManager;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The huge-page figures, run inside the nest by {@link NestProbe} (copied there beside it): the same guest
 * on hyper-gen, in turns without and with {@code --hugepages} (the nest's hugetlbfs pool, grown for
 * it by this probe before and given back after), each timed from create to the boot marker its /init
 * writes, then running {@code hg-memtouch} (memtouch.c) on its console ({@link NestProbe#guestHyperGen}):
 * <pre>
 * hg-bench huge SIDE run=N boot_ms=X first_ms=F random_ms=R touch_ms=T      (SIDE hugepages or pages4k)
 * hg-bench huge SIDE failed: REASON
 * hg-bench huge hugepages memory on 2M hugetlbfs                            (or THP, when the pool was short)
 * </pre>
 * Runs up to 0 are warm-ups.
 */
final class NestHuge {
    static final Path POOL = Path.of("/proc/sys/vm/nr_hugepages");
    static final String KIND = "huge";

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
            Path sizes = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB");
            System.out.println("hg-bench huge note: hugetlbfs pool " + Files.readString(sizes.resolve("nr_hugepages")).strip()
                    + " pages, " + Files.readString(sizes.resolve("free_hugepages")).strip() + " free");
            for (int run = 0; run <= runs; run++) {
                int r = run;
                vmmSide.run(() -> NestProbe.guestHyperGen(KIND, "pages4k", manager, small, command, r, timeoutMs));
                vmmSide.run(() -> NestProbe.guestHyperGen(KIND, "hugepages", manager, small.withHugepages(true), command, r,
                        timeoutMs));
            }
        } finally {
            Files.writeString(POOL, before);
        }
    }
}
