package hg.imagetools;

import java.util.Map;
import java.util.TreeMap;

/**
 * Ownership, permissions, modification time and extended attributes of one inode.
 *
 * @param permissions the low 12 mode bits (rwx for user/group/other plus setuid, setgid, sticky)
 * @param uid owner
 * @param gid group
 * @param mtimeSeconds modification time, seconds since the epoch (may be negative)
 * @param mtimeNanos nanoseconds part of the modification time, 0..999_999_999
 * @param xattrs extended attributes by full name ("user.x", "security.capability"), sorted
 */
public record Meta(int permissions, int uid, int gid, long mtimeSeconds, int mtimeNanos, Map<String, byte[]> xattrs) {
    public Meta {
        if ((permissions & ~07777) != 0) throw new IllegalArgumentException("permissions beyond 07777: " + Integer.toOctalString(permissions));
        if (mtimeNanos < 0 || mtimeNanos > 999_999_999) throw new IllegalArgumentException("nanoseconds out of range: " + mtimeNanos);
        xattrs = xattrs.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(xattrs));
    }

    public Meta(int permissions, int uid, int gid, long mtimeSeconds) {
        this(permissions, uid, gid, mtimeSeconds, 0, Map.of());
    }

    public Meta withPermissions(int p) { return new Meta(p, uid, gid, mtimeSeconds, mtimeNanos, xattrs); }

    public Meta withOwner(int u, int g) { return new Meta(permissions, u, g, mtimeSeconds, mtimeNanos, xattrs); }

    public Meta withMtime(long seconds, int nanos) { return new Meta(permissions, uid, gid, seconds, nanos, xattrs); }

    public Meta withXattrs(Map<String, byte[]> x) { return new Meta(permissions, uid, gid, mtimeSeconds, mtimeNanos, x); }
}
