package hg.host;

import java.util.Locale;

/** Memory sizes as the user writes them (512M, 2G, 1024K, a plain number of MiB) and as the shell prints them. */
public final class Sizes {
    public static final long KIB = 1024, MIB = KIB * 1024, GIB = MIB * 1024;

    private Sizes() {}

    /** Parses "512M", "2G", "2GiB", "1048576K", "768" (MiB); throws with the accepted forms named. */
    public static long parseMemory(String text) throws HostException {
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.endsWith("IB")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("B") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) {
            t = t.substring(0, t.length() - 1);
        }
        long unit = MIB;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> unit = KIB;
                case 'M' -> unit = MIB;
                case 'G' -> unit = GIB;
                default -> unit = 0;
            }
            if (unit != 0) {
                t = t.substring(0, t.length() - 1);
            } else {
                unit = MIB;
            }
        }
        if (t.isEmpty() || t.length() > 12 || !t.chars().allMatch(Character::isDigit)) {
            throw new HostException("bad memory size '" + text + "': write it like 512M, 2G or 1048576K");
        }
        long n = Long.parseLong(t);
        long bytes = n * unit;
        if (n == 0 || bytes / unit != n) {
            throw new HostException("bad memory size '" + text + "': it must be more than 0, like 512M or 2G");
        }
        return bytes;
    }

    /** A short human form: "512 MiB", "1.5 GiB", "4.0 KiB", "17 B". */
    public static String human(long bytes) {
        if (bytes < KIB) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%d %s", (long) v, units[u]);
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
