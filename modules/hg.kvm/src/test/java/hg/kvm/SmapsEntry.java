package hg.kvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** This process's /proc/self/smaps, read by the tests of guest memory mappings. */
final class SmapsEntry {
    private static final Pattern ADVISED_HUGE = Pattern.compile("(?m)^VmFlags:.* hg( |$)");

    private SmapsEntry() {}

    /** The smaps entry of the mapping that starts at {@code address}. */
    static String of(long address) throws IOException {
        String start = Long.toHexString(address) + "-";
        StringBuilder entry = new StringBuilder();
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.startsWith(start);
            }
            if (in) {
                entry.append(line).append('\n');
            }
        }
        return entry.toString();
    }

    /** Whether the mapping that starts at {@code address} is advised MADV_HUGEPAGE (VmFlags has "hg"). */
    static boolean advisedHugePages(long address) throws IOException {
        return ADVISED_HUGE.matcher(of(address)).find();
    }
}
