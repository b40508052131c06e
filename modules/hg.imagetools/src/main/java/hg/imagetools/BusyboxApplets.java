package hg.imagetools;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The applets a busybox binary provides and where each is installed, read from the binary's bytes:
 * the binary is an input like any other and is never run. (Running it would run anything: a file
 * the kernel will not execute, the JDK hands to /bin/sh as a script.) busybox keeps two generated tables in its
 * read-only data (applet_tables.c): {@code applet_names}, every name followed by a NUL, sorted,
 * closed by one more NUL; and {@code applet_install_loc}, one 4-bit directory number per applet,
 * two a byte with the first in the low nibble (0 /, 1 /bin, 2 /sbin, 3 /usr/bin, 4 /usr/sbin).
 * The name table is the longest sorted run of applet-like names; the directory table is the run of
 * nibbles of the right length that puts a handful of applets busybox always installs in the same
 * place (sh in /bin, init in /sbin, ...) where they belong.
 */
final class BusyboxApplets {
    private BusyboxApplets() {}

    private static final String[] DIRS = {"", "bin/", "sbin/", "usr/bin/", "usr/sbin/"};

    /** Where busybox's own source installs these applets, whatever the configuration. */
    private static final Map<String, Integer> KNOWN = Map.ofEntries(
            Map.entry("sh", 1), Map.entry("ash", 1), Map.entry("ls", 1), Map.entry("cat", 1), Map.entry("cp", 1),
            Map.entry("mount", 1), Map.entry("mkdir", 1), Map.entry("rm", 1), Map.entry("echo", 1),
            Map.entry("init", 2), Map.entry("reboot", 2), Map.entry("poweroff", 2), Map.entry("halt", 2),
            Map.entry("ifconfig", 2), Map.entry("env", 3), Map.entry("wc", 3), Map.entry("head", 3), Map.entry("chroot", 4));

    /** Fewer known applets than this cannot vouch for a directory table. */
    private static final int MIN_KNOWN = 3;
    private static final int MIN_APPLETS = 10;
    private static final int MAX_NAME = 64;

    /** The applets' install paths ("bin/sh", "sbin/init", "linuxrc"), in busybox's order. */
    static List<String> read(byte[] binary, String what) {
        List<String> names = names(binary);
        if (names.size() < MIN_APPLETS)
            throw new ImageToolsException.BadSource(what + ": cannot find busybox's applet list in the binary (is it busybox?)");
        byte[] dirs = installDirs(binary, names, what);
        List<String> out = new ArrayList<>(names.size());
        for (int k = 0; k < names.size(); k++) out.add(DIRS[dirs[k]] + names.get(k));
        return out;
    }

    private static boolean firstByte(int b) { return b >= 'a' && b <= 'z' || b == '['; }

    private static boolean nameByte(int b) {
        return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-' || b == '[' || b == ']';
    }

    /** The longest run of NUL-ended, strictly ascending applet-like names closed by an extra NUL. */
    static List<String> names(byte[] b) {
        List<String> best = List.of(), run = new ArrayList<>();
        String prev = null;
        int k = 0;
        while (k < b.length) {
            int start = k;
            while (k < b.length && nameByte(b[k] & 0xff)) k++;
            boolean nulEnded = k < b.length && b[k] == 0;
            // Every applet name starts with a letter or '['; the table's first name may follow other
            // data with no NUL between, so bytes that cannot start a name are dropped from the front.
            int first = start;
            while (first < k && !firstByte(b[first] & 0xff)) first++;
            String name = k > first && k - first <= MAX_NAME && nulEnded ? new String(b, first, k - first, StandardCharsets.US_ASCII) : null;
            if (name != null) {
                if (first == start && prev != null && prev.compareTo(name) < 0) {
                    run.add(name);
                } else {
                    run = new ArrayList<>(List.of(name)); // not ascending, or glued to what was before: a new run
                }
                prev = name;
                k++;
                if (k < b.length && b[k] == 0 && run.size() > best.size()) best = List.copyOf(run); // the closing NUL
                continue;
            }
            run = new ArrayList<>();
            prev = null;
            k = Math.max(k + 1, start + 1);
        }
        return best;
    }

    /** The directory number of each applet, from the one table the known applets agree with. */
    private static byte[] installDirs(byte[] b, List<String> names, String what) {
        int n = names.size(), len = (n + 1) / 2;
        List<int[]> anchors = new ArrayList<>(); // {applet index, directory}
        for (int k = 0; k < n; k++) {
            Integer d = KNOWN.get(names.get(k));
            if (d != null) anchors.add(new int[] {k, d});
        }
        if (anchors.size() < MIN_KNOWN)
            throw new ImageToolsException.BadSource(what + ": busybox's applet list lacks the usual applets (sh, init, mount, ...)");
        byte[] found = null;
        for (int p = 0; p + len <= b.length; p++) {
            if (!agrees(b, p, anchors) || !allDirs(b, p, n)) continue;
            byte[] t = java.util.Arrays.copyOfRange(b, p, p + len);
            if (found != null && !java.util.Arrays.equals(found, t))
                throw new ImageToolsException.BadSource(what + ": more than one candidate for busybox's applet directory table");
            found = t;
        }
        if (found == null) throw new ImageToolsException.BadSource(what + ": cannot find busybox's applet directory table in the binary");
        byte[] dirs = new byte[n];
        for (int k = 0; k < n; k++) dirs[k] = (byte) nibble(found, 0, k);
        return dirs;
    }

    private static int nibble(byte[] b, int p, int k) { return (b[p + k / 2] >> (k % 2 == 0 ? 0 : 4)) & 0xf; }

    private static boolean agrees(byte[] b, int p, List<int[]> anchors) {
        for (int[] a : anchors) if (nibble(b, p, a[0]) != a[1]) return false;
        return true;
    }

    /** Every nibble a directory number, and an odd count's unused last nibble zero. */
    private static boolean allDirs(byte[] b, int p, int n) {
        for (int k = 0; k < n; k++) if (nibble(b, p, k) >= DIRS.length) return false;
        return n % 2 == 0 || nibble(b, p, n) == 0;
    }
}
