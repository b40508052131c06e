package hg.imagetools;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Test helper: bytes that look like a static x86-64 busybox to a reader (an ELF header without
 * program headers, busybox's applet install-directory table and its applet name table, with noise
 * around them) but that no kernel would run.
 */
final class FakeBusybox {
    private FakeBusybox() {}

    /** An applet and its install directory as busybox numbers them: 0 /, 1 /bin, 2 /sbin, 3 /usr/bin, 4 /usr/sbin. */
    record Applet(String name, int dir) {}

    static final List<Applet> SMALL = List.of(
            new Applet("[", 3), new Applet("ash", 1), new Applet("cat", 1), new Applet("chroot", 4),
            new Applet("cp", 1), new Applet("env", 3), new Applet("halt", 2), new Applet("init", 2),
            new Applet("linuxrc", 0), new Applet("ls", 1), new Applet("mount", 1), new Applet("poweroff", 2),
            new Applet("reboot", 2), new Applet("sh", 1), new Applet("wc", 3));

    static byte[] elfHeader() {
        ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0, 0x464c457f);
        h.put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        h.putShort(0x10, (short) 2).putShort(0x12, (short) 0x3e);
        h.putShort(0x36, (short) 56).putShort(0x38, (short) 0); // no program headers: nothing to run
        return h.array();
    }

    /** The install-directory table: two applets a byte, the first in the low nibble. */
    static byte[] installTable(List<Applet> applets) {
        byte[] t = new byte[(applets.size() + 1) / 2];
        for (int k = 0; k < applets.size(); k++) t[k / 2] |= (byte) (applets.get(k).dir() << (k % 2 == 0 ? 0 : 4));
        return t;
    }

    /** The name table: each name and a NUL, then one more NUL. */
    static byte[] nameTable(List<Applet> applets) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Applet a : applets) {
            b.writeBytes(a.name().getBytes(StandardCharsets.US_ASCII));
            b.write(0);
        }
        b.write(0);
        return b.toByteArray();
    }

    static byte[] binary(List<Applet> applets, byte[] before, byte[] between, byte[] after) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(elfHeader());
        b.writeBytes(before);
        b.writeBytes(installTable(applets));
        b.writeBytes(between);
        b.writeBytes(nameTable(applets));
        b.writeBytes(after);
        return b.toByteArray();
    }

    static byte[] binary(List<Applet> applets) {
        byte[] noise = "\u00ff\u00fe binary noise \u00fd".getBytes(StandardCharsets.ISO_8859_1);
        return binary(applets, noise, noise, noise);
    }

    /** The paths the rootfs should link: "bin/sh", "sbin/init", "linuxrc". */
    static List<String> paths(List<Applet> applets) {
        String[] dirs = {"", "bin/", "sbin/", "usr/bin/", "usr/sbin/"};
        return applets.stream().map(a -> dirs[a.dir()] + a.name()).toList();
    }
}
