package hg.imagetools;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Test helper: archives written entry by entry, with what a tree could not hold. */
final class HostileArchives {
    private HostileArchives() {}

    /** One cpio "newc" entry; {@code claimedSize} may differ from the body's length, as a hostile archive's does. */
    static void cpioEntry(ByteArrayOutputStream out, String name, int mode, long claimedSize, byte[] body) {
        byte[] nb = name.getBytes(StandardCharsets.UTF_8);
        String h = String.format("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                out.size() + 1, mode, 0, 0, 1, 0, claimedSize, 0, 0, 0, 0, nb.length + 1, 0);
        out.writeBytes(h.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(nb);
        out.write(0);
        while (out.size() % 4 != 0) out.write(0);
        out.writeBytes(body);
        while (out.size() % 4 != 0) out.write(0);
    }

    static byte[] cpio(String name, int mode, long claimedSize, byte[] body) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        cpioEntry(b, "etc", 040755, 0, new byte[0]);
        cpioEntry(b, name, mode, claimedSize, body);
        cpioEntry(b, "TRAILER!!!", 0, 0, new byte[0]);
        return b.toByteArray();
    }

    /** A tar of entries made by {@code fill}, PAX for long names. */
    static byte[] tar(TarFiller fill) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(b, StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            fill.fill(tar);
        }
        return b.toByteArray();
    }

    @FunctionalInterface
    interface TarFiller {
        void fill(TarArchiveOutputStream tar) throws IOException;
    }

    static void file(TarArchiveOutputStream tar, String name, byte[] body) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(body.length);
        tar.putArchiveEntry(e);
        tar.write(body);
        tar.closeArchiveEntry();
    }

    static void file(TarArchiveOutputStream tar, String name, byte[] body, Map<String, String> pax) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(body.length);
        pax.forEach(e::addPaxHeader);
        tar.putArchiveEntry(e);
        tar.write(body);
        tar.closeArchiveEntry();
    }

    static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
        e.setLinkName(target);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    static void hardlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
        e.setLinkName(target);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }
}
