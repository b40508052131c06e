package hg.vmm.internal.builder;

import hg.kvm.GuestMemory;
import hg.kvm.KvmException;
import hg.vmm.VmException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Guest memory on 2 MiB pages, as {@code --hugepages} asks: the host's hugetlbfs pool when it has enough
 * free pages (all reserved at once, so a VM never meets an empty pool later), else transparent huge pages
 * (2 MiB aligned and advised) where the kernel has them on, else one line saying what is missing.
 */
final class HugePages {
    private static final Path POOL = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB");
    private static final Path THP = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
    private static final Pattern CHOSEN = Pattern.compile("\\[(\\w+)]");
    private static final int ENOMEM = 12;

    private HugePages() {}

    static GuestMemory map(List<GuestMemory.Range> ranges, long bytes) {
        try {
            return GuestMemory.map(ranges, GuestMemory.Backing.HUGETLB_2M);
        } catch (KvmException e) {
            if (e.errno() != ENOMEM) {
                throw new VmException("2 MiB hugetlbfs pages: " + e.getMessage(), e);
            }
        }
        String thp = transparentMode(THP);
        if ("always".equals(thp) || "madvise".equals(thp)) {
            return GuestMemory.map(ranges, GuestMemory.Backing.TRANSPARENT_HUGE_PAGES);
        }
        throw new VmException("no huge pages for " + (bytes >> 20) + " MiB: the hugetlbfs pool has "
                + count(POOL.resolve("free_hugepages")) + " free 2 MiB pages of the " + (bytes / GuestMemory.HUGE_PAGE)
                + " needed (raise /proc/sys/vm/nr_hugepages), and transparent huge pages are "
                + (thp == null ? "not in this kernel" : "off (" + thp + ")"));
    }

    /** The mode in brackets in {@code enabled} ({@code always [madvise] never}), or null when there is no such file. */
    static String transparentMode(Path enabled) {
        try {
            Matcher m = CHOSEN.matcher(Files.readString(enabled));
            return m.find() ? m.group(1) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String count(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException | RuntimeException e) {
            return "no";
        }
    }
}
