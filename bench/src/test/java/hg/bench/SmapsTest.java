package hg.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SmapsTest {

    private static String mapping(String range, String perms, String path, long sizeKb, long rssKb, String flags) {
        return range + " " + perms + " 00000000 00:00 0" + (path.isEmpty() ? "" : "                          " + path) + "\n"
                + "Size:             " + sizeKb + " kB\n"
                + "Rss:              " + rssKb + " kB\n"
                + "Pss:              " + rssKb + " kB\n"
                + "VmFlags: " + flags + "\n";
    }

    @Test
    void sumsRssAndPicksLargeAnonymousNoReserveMappingsAsGuestCandidates() {
        String smaps = mapping("7f0000000000-7f0010000000", "rw-p", "", 262144, 48, "rd wr mr mw me nr")
                + mapping("7f0010000000-7f0010400000", "rw-p", "", 4096, 4096, "rd wr mr mw me ac")
                + mapping("7f0020000000-7f0021000000", "rw-p", "", 16384, 100, "rd wr mr mw me nr")
                + mapping("7f0030000000-7f0040000000", "r--p", "/usr/lib/libc.so.6", 262144, 1000, "rd mr mw me nr");
        List<Smaps.Mapping> out = new ArrayList<>();
        long rss = Smaps.parse(smaps, 256L << 20, out);
        assertEquals(48 + 4096 + 100 + 1000, rss);
        assertEquals(List.of(new Smaps.Mapping(0x7f0000000000L, 0x7f0010000000L, true),
                new Smaps.Mapping(0x7f0010000000L, 0x7f0010400000L, false),
                new Smaps.Mapping(0x7f0020000000L, 0x7f0021000000L, false),
                new Smaps.Mapping(0x7f0030000000L, 0x7f0040000000L, false)), out);
    }

    @Test
    void aGuestMappingNamedByTheKernelIsStillACandidate() {
        String smaps = mapping("7f0000000000-7f0010000000", "rw-p", "[anon:hg-vm-3-ram]", 262144, 48, "rd wr mr mw me nr hg")
                + mapping("7f0010000000-7f0020000000", "rw-p", "[heap]", 262144, 10, "rd wr mr mw me nr");
        List<Smaps.Mapping> out = new ArrayList<>();
        Smaps.parse(smaps, 256L << 20, out);
        assertEquals(List.of(new Smaps.Mapping(0x7f0000000000L, 0x7f0010000000L, true),
                new Smaps.Mapping(0x7f0010000000L, 0x7f0020000000L, false)), out);
    }

    @Test
    void aGuestMappingSplitByAdviceIsOneCandidate() {
        String smaps = mapping("7f0000000000-7f0000200000", "rw-p", "[anon:hg-vm-1-ram]", 2048, 8, "rd wr mr mw me nr nh")
                + mapping("7f0000200000-7f0010000000", "rw-p", "[anon:hg-vm-1-ram]", 260096, 40, "rd wr mr mw me nr hg")
                + mapping("7f0010000000-7f0010001000", "rw-p", "", 4, 4, "rd wr mr mw me ac");
        List<Smaps.Mapping> out = new ArrayList<>();
        Smaps.parse(smaps, 256L << 20, out);
        assertEquals(List.of(new Smaps.Mapping(0x7f0000000000L, 0x7f0010000000L, true),
                new Smaps.Mapping(0x7f0010000000L, 0x7f0010001000L, false)), out);
    }
}
