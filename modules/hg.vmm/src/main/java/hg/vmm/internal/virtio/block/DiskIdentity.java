package hg.vmm.internal.virtio.block;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a disk image was when a snapshot was taken, to tell at restore whether it changed since.
 * The ctime catches what the mtime misses: a write whose mtime was put back (touch -d), and any
 * chmod, chown or rename, since the kernel sets it on each and no one can set it back. So take
 * the identity after the last rename or link of the image, not before.
 *
 * @param device and {@code inode} name the file itself, so a file put in its place is noticed
 */
public record DiskIdentity(long size, long mtimeNanos, long ctimeNanos, long device, long inode) {

    private static final String ATTRIBUTES = "unix:size,lastModifiedTime,ctime,dev,ino";

    /** The identity of {@code path} now (a symbolic link is followed). */
    public static DiskIdentity of(Path path) throws IOException {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(path, ATTRIBUTES);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            throw new IOException("cannot identify disk image " + path + ": its file system gives no inode numbers", e);
        } catch (IOException e) {
            throw new IOException("cannot identify disk image " + path + ": " + e.getMessage(), e);
        }
        return new DiskIdentity((Long) a.get("size"), nanos((FileTime) a.get("lastModifiedTime")),
                nanos((FileTime) a.get("ctime")), (Long) a.get("dev"), (Long) a.get("ino"));
    }

    private static long nanos(FileTime t) {
        return t.to(TimeUnit.NANOSECONDS);
    }

    /**
     * Empty when this identity (now) is {@code before}'s; otherwise one line saying how the
     * image changed, most telling difference first, to follow "disk image X changed since the snapshot: ".
     */
    public String differenceFrom(DiskIdentity before) {
        if (device != before.device || inode != before.inode) {
            return "another file is in its place (inode " + inode + " on device " + device
                    + ", the snapshot saw inode " + before.inode + " on device " + before.device + ")";
        }
        if (size != before.size) {
            return "its size changed from " + before.size + " to " + size + " bytes";
        }
        if (mtimeNanos != before.mtimeNanos) {
            return "it was modified after the snapshot (at " + time(mtimeNanos) + ", the snapshot saw " + time(before.mtimeNanos) + ")";
        }
        if (ctimeNanos != before.ctimeNanos) {
            return "its inode changed after the snapshot (at " + time(ctimeNanos)
                    + "): written with its time put back, or its mode, owner or name changed";
        }
        return "";
    }

    private static String time(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L)).toString();
    }
}
