package hg.kvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** This process's /proc/self/smaps, read by the tests of guest memory mappings. */
final class SmapsEntry {
    private static final Pattern RANGE = Pattern.compile("^([0-9a-f]+)-([0-9a-f]+) ");
    private static final Pattern ADVISED_HUGE = Pattern.compile("(?m)^VmFlags:.* hg( |$)");

    private SmapsEntry() {}

    /** The smaps entry of the mapping that holds {@code address}; empty when none does. */
    static String of(long address) throws IOException {
        StringBuilder entry = new StringBuilder();
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            Matcher m = RANGE.matcher(line);
            if (m.find()) {
                in = Long.compareUnsigned(Long.parseUnsignedLong(m.group(1), 16), address) <= 0
                        && Long.compareUnsigned(address, Long.parseUnsignedLong(m.group(2), 16)) < 0;
            }
            if (in) {
                entry.append(line).append('\n');
            }
        }
        return entry.toString();
    }

    /** Whether the mapping that holds {@code address} is advised MADV_HUGEPAGE (VmFlags has "hg"). */
    static boolean advisedHugePages(long address) throws IOException {
        return ADVISED_HUGE.matcher(of(address)).find();
    }
}
