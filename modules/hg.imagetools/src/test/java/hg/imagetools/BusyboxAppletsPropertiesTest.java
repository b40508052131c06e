package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** The applet tables are found in a busybox file whatever surrounds them, and any other file gives one clear error. */
class BusyboxAppletsPropertiesTest {
    static final List<FakeBusybox.Applet> POOL = List.of(
            new FakeBusybox.Applet("[", 3), new FakeBusybox.Applet("[[", 3), new FakeBusybox.Applet("arp", 2),
            new FakeBusybox.Applet("ash", 1), new FakeBusybox.Applet("cat", 1), new FakeBusybox.Applet("chroot", 4),
            new FakeBusybox.Applet("cp", 1), new FakeBusybox.Applet("devmem", 2), new FakeBusybox.Applet("env", 3),
            new FakeBusybox.Applet("halt", 2), new FakeBusybox.Applet("init", 2), new FakeBusybox.Applet("ip", 2),
            new FakeBusybox.Applet("linuxrc", 0), new FakeBusybox.Applet("ls", 1), new FakeBusybox.Applet("mkfs.ext2", 2),
            new FakeBusybox.Applet("mount", 1), new FakeBusybox.Applet("poweroff", 2), new FakeBusybox.Applet("reboot", 2),
            new FakeBusybox.Applet("run-parts", 1), new FakeBusybox.Applet("sh", 1), new FakeBusybox.Applet("ssl_client", 3),
            new FakeBusybox.Applet("start-stop-daemon", 2), new FakeBusybox.Applet("wc", 3), new FakeBusybox.Applet("zcat", 1));

    /** At least ten of the pool, in order, always with sh, init and mount to vouch for the directory table. */
    @Provide
    Arbitrary<List<FakeBusybox.Applet>> applets() {
        return Arbitraries.integers().between(0, (1 << POOL.size()) - 1).map(mask -> {
            List<FakeBusybox.Applet> l = new ArrayList<>();
            for (int k = 0; k < POOL.size(); k++) {
                String n = POOL.get(k).name();
                if ((mask & (1 << k)) != 0 || n.equals("sh") || n.equals("init") || n.equals("mount")) l.add(POOL.get(k));
            }
            return l;
        }).filter(l -> l.size() >= 10);
    }

    @Property(tries = 100)
    void theTablesAreFoundInAFileWhateverSurroundsThem(@ForAll("applets") List<FakeBusybox.Applet> applets,
            @ForAll @Size(max = 3000) byte[] before, @ForAll @Size(max = 300) byte[] between, @ForAll @Size(max = 3000) byte[] after)
            throws Exception {
        Path dir = Files.createTempDirectory("busybox-prop");
        Path bin = dir.resolve("busybox");
        try {
            // name characters right before the name table would read as part of its first name, as they
            // would in busybox itself; there the table follows a NUL or another byte no name holds
            if (between.length > 0 && nameByte(between[between.length - 1])) between[between.length - 1] = 0;
            Files.write(bin, FakeBusybox.binary(applets, before, between, after));
            assertEquals(FakeBusybox.paths(applets), BusyboxApplets.read(Files.readAllBytes(bin), bin.toString()));
            try (FsTree t = Rootfs.treeFromBinary(bin, OptionalLong.of(0))) {
                for (String p : FakeBusybox.paths(applets)) assertTrue(t.get(p) instanceof Node.Symlink, p);
            }
        } finally {
            Files.deleteIfExists(bin);
            Files.deleteIfExists(dir);
        }
    }

    /** A byte an applet name may hold (BusyboxApplets' own class of them). */
    private static boolean nameByte(byte b) {
        return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-' || b == '[' || b == ']';
    }

    /** Any file at all: a list, or one error that says what is missing; never another exception. */
    @Property(tries = 200)
    void anyFileGivesAListOrAClearError(@ForAll @Size(max = 5000) byte[] junk) {
        byte[] b = new byte[64 + junk.length];
        System.arraycopy(FakeBusybox.elfHeader(), 0, b, 0, 64);
        System.arraycopy(junk, 0, b, 64, junk.length);
        try {
            BusyboxApplets.read(b, "junk");
        } catch (ImageToolsException e) {
            assertTrue(e.getMessage().startsWith("junk: "), e.getMessage());
        }
    }

    /** Debian's busybox-static, read without running it, lists exactly what it says itself (the test runs the host's own). */
    @net.jqwik.api.Example
    void theMachinesBusyboxReadsAsItLists() throws Exception {
        Path b = RootfsTest.staticBusybox();
        if (b == null) return; // no static /bin/busybox here
        Path tmp = Files.createTempDirectory("busybox-list");
        try {
            ImageCheck.Run r = ImageCheck.run(tmp, b.toString(), "--list-full");
            assertEquals(0, r.exit());
            List<String> said = r.out().lines().map(String::strip).filter(l -> !l.isEmpty()).map(l -> l.replaceFirst("^/+", "")).toList();
            assertEquals(said, BusyboxApplets.read(Files.readAllBytes(b), b.toString()));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
