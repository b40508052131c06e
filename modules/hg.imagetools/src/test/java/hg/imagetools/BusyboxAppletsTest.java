package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The applet list comes from busybox's bytes: the given binary is never run. */
class BusyboxAppletsTest {
    @TempDir Path tmp;

    /** The fake has no program headers, so running it fails: only reading its tables can list the applets. */
    @Test
    void appletsAreReadFromTheBinaryWithoutRunningIt() throws Exception {
        Path bin = tmp.resolve("busybox");
        Files.write(bin, FakeBusybox.binary(FakeBusybox.SMALL));
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rw-------"));
        try (FsTree t = Rootfs.treeFromBinary(bin, OptionalLong.of(0))) {
            for (String p : FakeBusybox.paths(FakeBusybox.SMALL)) {
                Node n = t.get(p);
                assertTrue(n instanceof Node.Symlink s && s.target().equals("/bin/busybox"), p + " is " + n);
            }
            assertInstanceOf(Node.File.class, t.get("bin/busybox"));
        }
    }

    @Test
    void aBinaryWithoutAnAppletListIsRefusedInOneLine() throws Exception {
        Path bin = tmp.resolve("busybox");
        byte[] noList = FakeBusybox.binary(java.util.List.of());
        Files.write(bin, noList);
        MainTest.refused(MainTest.run("rootfs", "--busybox", bin.toString(), "--out", tmp.resolve("o.img").toString()), "applet list");
        assertTrue(Files.notExists(tmp.resolve("o.img")));
    }

    @Test
    void aBusyboxOver64MiBIsRefused() throws Exception {
        Path bin = tmp.resolve("busybox");
        try (var f = new java.io.RandomAccessFile(bin.toFile(), "rw")) {
            f.write(FakeBusybox.binary(FakeBusybox.SMALL));
            f.setLength((64L << 20) + 1);
        }
        MainTest.refused(MainTest.run("rootfs", "--busybox", bin.toString(), "--out", tmp.resolve("o.img").toString()), "64 MiB");
    }

    /** Debian's busybox-static, read without running it, lists what it says itself (the test runs the host's own). */
    @Test
    void theMachinesBusyboxListsTheSameAppletsAsItSays() throws Exception {
        Path b = RootfsTest.staticBusybox();
        org.junit.jupiter.api.Assumptions.assumeTrue(b != null, "no static /bin/busybox here");
        ImageCheck.Run r = ImageCheck.run(tmp, b.toString(), "--list-full");
        assertEquals(0, r.exit());
        java.util.List<String> said = r.out().lines().map(String::strip).filter(l -> !l.isEmpty())
                .map(l -> l.replaceFirst("^/+", "")).toList();
        try (FsTree t = Rootfs.treeFromBinary(b, OptionalLong.of(0))) {
            for (String p : said) {
                if (p.equals("bin/busybox")) continue;
                assertTrue(t.get(p) instanceof Node.Symlink, p + " is missing");
            }
        }
    }
}
