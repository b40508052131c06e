package hg.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * This process's resident memory, split into guest RAM and the rest (the VMM's own).
 *
 * <p>The guest RAM mappings cannot be told apart by their smaps entry alone: hg.kvm maps guest
 * RAM private, anonymous, read-write and MAP_NORESERVE, which is what glibc does for its malloc
 * arenas too, and the kernel merges such neighbours into one entry. So each guest is found by
 * its content: the loader put {@code guestCode} at guest-physical {@code codeAddress} and the
 * page-table root (PDPT address | present | writable) at {@code pml4Address}; a resident page of
 * a candidate mapping holding that code, with the page-table root where it belongs, marks the
 * start of one guest's RAM, whose resident pages are then counted in /proc/self/pagemap.
 *
 * @param rssKb        resident kB of every mapping (sum of smaps' Rss)
 * @param guestRssKb   resident kB of the guests' RAM (pages the guest or the loader touched)
 * @param guests       how many guest RAM ranges were found
 */
record Smaps(long rssKb, long guestRssKb, int guests) {

    /** What identifies a guest's RAM: its size, a code page and the page-table root the loader wrote. */
    record GuestSignature(long ramBytes, long codeAddress, byte[] code, long pml4Address, long pml4Entry) {}

    record Mapping(long start, long end, boolean candidate) {}

    private static final long PAGE = 4096;
    private static final long ACCESSED_DIRTY = 0x60;

    /** Reads this process's memory; guests are recognised by {@code signature}. */
    static Smaps read(GuestSignature signature) throws IOException {
        List<Mapping> mappings = new ArrayList<>();
        long rss = parse(Files.readString(Path.of("/proc/self/smaps")), signature.ramBytes(), mappings);
        long guestPages = 0;
        int guests = 0;
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ);
             FileChannel mem = FileChannel.open(Path.of("/proc/self/mem"), StandardOpenOption.READ)) {
            for (Mapping m : mappings) {
                if (!m.candidate()) {
                    continue;
                }
                boolean[] present = present(pagemap, m.start(), m.end());
                for (int i = 0; i < present.length; i++) {
                    long base = m.start() + i * PAGE - signature.codeAddress();
                    if (!present[i] || base < m.start() || base + signature.ramBytes() > m.end()) {
                        continue;
                    }
                    if (isGuest(mem, base, signature)) {
                        guests++;
                        int first = (int) ((base - m.start()) / PAGE);
                        int pages = (int) (signature.ramBytes() / PAGE);
                        for (int p = first; p < first + pages; p++) {
                            guestPages += present[p] ? 1 : 0;
                        }
                    }
                }
            }
        }
        return new Smaps(rss, guestPages * PAGE / 1024, guests);
    }

    /** The VMM's own resident memory: all of it but the guests' touched pages. */
    long vmmRssKb() {
        return rssKb - guestRssKb;
    }

    /**
     * Sums Rss over all mappings; lists the mappings that may hold guest RAM. Neighbouring anonymous no-reserve
     * entries count as one: advice on part of a guest's RAM (huge pages or not) splits its mapping into several.
     */
    static long parse(String smaps, long guestBytes, List<Mapping> out) {
        long rss = 0;
        long start = 0, end = 0;
        boolean anonymousRw = false;
        long runStart = -1, runEnd = -1;
        for (String line : smaps.split("\n")) {
            if (isHeader(line)) {
                String[] f = line.trim().split("\\s+");
                start = Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16);
                end = Long.parseUnsignedLong(f[0].substring(f[0].indexOf('-') + 1), 16);
                // address perms offset dev inode [path]: anonymous when the inode is 0 and no path follows, or only
                // the name a kernel with anonymous VMA names shows ([anon:hg-vm-N-ram])
                anonymousRw = f[1].equals("rw-p") && f[4].equals("0") && (f.length == 5 || f[5].startsWith("[anon:"));
            } else if (line.startsWith("Rss:")) {
                rss += Long.parseLong(line.trim().split("\\s+")[1]);
            } else if (line.startsWith("VmFlags:")) {
                boolean joinable = anonymousRw && (" " + line.substring(8).trim() + " ").contains(" nr ");
                if (joinable && start == runEnd) {
                    runEnd = end;
                    continue;
                }
                if (runStart >= 0) {
                    out.add(new Mapping(runStart, runEnd, runEnd - runStart >= guestBytes));
                    runStart = runEnd = -1;
                }
                if (joinable) {
                    runStart = start;
                    runEnd = end;
                } else {
                    out.add(new Mapping(start, end, false));
                }
            }
        }
        if (runStart >= 0) {
            out.add(new Mapping(runStart, runEnd, runEnd - runStart >= guestBytes));
        }
        return rss;
    }

    private static boolean isHeader(String line) {
        int dash = line.indexOf('-');
        int space = line.indexOf(' ');
        return dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    /** Present (or swapped) bit of each page of [start, end) from pagemap's 64-bit entries. */
    private static boolean[] present(FileChannel pagemap, long start, long end) throws IOException {
        int pages = (int) ((end - start) / PAGE);
        boolean[] out = new boolean[pages];
        ByteBuffer buf = ByteBuffer.allocate(8 * 8192).order(ByteOrder.LITTLE_ENDIAN);
        int done = 0;
        while (done < pages) {
            int n = Math.min(8192, pages - done);
            buf.clear().limit(n * 8);
            long pos = (start / PAGE + done) * 8;
            while (buf.hasRemaining()) {
                if (pagemap.read(buf, pos + buf.position()) < 0) {
                    throw new IOException("short read of /proc/self/pagemap");
                }
            }
            buf.flip();
            for (int i = 0; i < n; i++) {
                long e = buf.getLong();
                out[done + i] = (e & (3L << 62)) != 0;
            }
            done += n;
        }
        return out;
    }

    private static boolean isGuest(FileChannel mem, long base, GuestSignature s) throws IOException {
        byte[] code = read(mem, base + s.codeAddress(), s.code().length);
        if (!Arrays.equals(code, s.code())) {
            return false;
        }
        long pml4 = ByteBuffer.wrap(read(mem, base + s.pml4Address(), 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return (pml4 & ~ACCESSED_DIRTY) == s.pml4Entry(); // the guest's CPU sets A (and D) as it walks
    }

    private static byte[] read(FileChannel mem, long address, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (mem.read(b, address + b.position()) <= 0) {
                throw new IOException("cannot read this process's memory at 0x" + Long.toHexString(address));
            }
        }
        return b.array();
    }
}
