package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootfsTest {
    @TempDir Path tmp;

    /** The installed busybox when it is the static one (busybox-static puts it in /bin). */
    static Path staticBusybox() {
        Path b = Path.of("/bin/busybox");
        try {
            if (!Files.isRegularFile(b)) return null;
            Rootfs.requireStaticElf(Files.readAllBytes(b), b.toString());
            return b;
        } catch (Exception e) {
            return null;
        }
    }

    /** The default rootfs tree from the cached package, else from the installed static busybox. */
    static FsTree busyboxTree(OptionalLong sde) throws Exception {
        Path d = cachedDeb();
        if (d != null) return Rootfs.tree(d, sde);
        Path b = staticBusybox();
        Assumptions.assumeTrue(b != null, "neither busybox-static's package in the apt cache nor a static /bin/busybox");
        return Rootfs.treeFromBinary(b, sde);
    }

    static Path cachedDeb() throws Exception {
        Path cache = Path.of("/var/cache/apt/archives");
        if (!Files.isDirectory(cache)) return null;
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(p -> p.getFileName().toString().startsWith("busybox-static_")).sorted().reduce((a, b) -> b).orElse(null);
        }
    }

    /** The busybox-static package from the apt cache (the test does not download). */
    static Path deb() throws Exception {
        Path cache = Path.of("/var/cache/apt/archives");
        Assumptions.assumeTrue(Files.isDirectory(cache), "no apt cache here");
        try (Stream<Path> s = Files.list(cache)) {
            Path d = s.filter(p -> p.getFileName().toString().startsWith("busybox-static_")).sorted().reduce((a, b) -> b).orElse(null);
            Assumptions.assumeTrue(d != null, "busybox-static is not in the apt cache");
            return d;
        }
    }

    static String text(FsTree t, String path) throws Exception {
        try (InputStream in = ((Node.File) t.get(path)).content().open()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theAgentIsAddedAndStartedByInit() throws Exception {
        Path busybox = tmp.resolve("busybox");
        Files.write(busybox, FakeBusybox.binary(FakeBusybox.SMALL));
        Path agent = tmp.resolve("hg-agent");
        Files.write(agent, FakeBusybox.elfHeader());
        try (FsTree t = Rootfs.treeFromBinary(busybox, OptionalLong.of(1_700_000_000L))) {
            assertFalse(text(t, "etc/inittab").contains("hg-agent"), "no agent given: init starts none");
            Rootfs.addAgent(t, agent);
            assertEquals(0755, t.get("sbin/hg-agent").meta().permissions());
            assertTrue(text(t, "etc/inittab").contains("::respawn:/sbin/hg-agent"));
            assertTrue(text(t, "etc/inittab").contains("::respawn:/bin/cttyhack /bin/sh"), "the console shell stays");
        }
        Path text = tmp.resolve("agent.sh");
        Files.writeString(text, "#!/bin/sh\n");
        try (FsTree t = Rootfs.treeFromBinary(busybox, OptionalLong.of(1_700_000_000L))) {
            ImageToolsException e = assertThrows(ImageToolsException.class, () -> Rootfs.addAgent(t, text));
            assertTrue(e.getMessage().contains("the agent is not an x86-64 ELF"), e.getMessage());
        }
    }

    @Test
    void defaultRootfsImage() throws Exception {
        try (FsTree t = busyboxTree(OptionalLong.of(1_700_000_000L))) {
            assertInstanceOf(Node.File.class, t.get("bin/busybox"));
            for (String applet : new String[] {"bin/sh", "sbin/init", "sbin/poweroff", "bin/mount", "bin/cttyhack", "sbin/devmem", "init"}) {
                Node n = t.get(applet);
                assertTrue(n instanceof Node.Symlink s && s.target().equals("/bin/busybox"), applet + " is " + n);
            }
            assertTrue(text(t, "etc/inittab").contains("::sysinit:/etc/init.d/rcS"));
            assertTrue(text(t, "etc/inittab").contains("::respawn:/bin/cttyhack /bin/sh"));
            String rcs = text(t, "etc/init.d/rcS");
            assertTrue(rcs.contains("mount -t proc") && rcs.contains("devtmpfs") && rcs.contains("hostname -F") && rcs.contains("devmem"));
            assertEquals(0755, t.get("etc/init.d/rcS").meta().permissions());
            assertEquals(01777, t.get("tmp").meta().permissions());
            // the start-up script is valid shell (checked by the host's sh)
            Path script = tmp.resolve("rcS");
            Files.writeString(script, rcs);
            assertEquals(0, ImageCheck.run(tmp, "sh", "-n", script.toString()).exit());
            ImageCheck.roundTrip(t, new Ext4ImageWriter(), tmp);
        }
    }

    @Test
    void rootfsCommandIsReproducible() throws Exception {
        Path a = tmp.resolve("a.img"), b = tmp.resolve("b.img");
        Path deb = cachedDeb(), bin = deb == null ? staticBusybox() : null;
        Assumptions.assumeTrue(deb != null || bin != null, "no busybox-static package or binary here");
        String flag = deb != null ? "--busybox-deb" : "--busybox", d = (deb != null ? deb : bin).toString();
        assertEquals(0, MainTest.run("rootfs", "--out", a.toString(), flag, d, "--quiet").exit());
        assertEquals(0, MainTest.run("rootfs", "--out", b.toString(), flag, d, "--quiet").exit());
        assertEquals(-1, Files.mismatch(a, b));
        ImageCheck.e2fsckClean(a);
        Path i = tmp.resolve("r.cpio.gz");
        assertEquals(0, MainTest.run("rootfs", "--initramfs", "--out", i.toString(), flag, d, "--quiet").exit());
        ImageCheck.Run l = ImageCheck.run(tmp, "sh", "-c", "zcat r.cpio.gz | cpio -it --quiet | grep -c .");
        assertTrue(Integer.parseInt(l.out().trim()) > 250, l.out());
    }

    /** From the installed static binary, with the spelling the boot image build uses. */
    @Test
    void fromABusyboxBinary() throws Exception {
        Path bin = tmp.resolve("busybox");
        if (cachedDeb() == null) {
            Path installed = staticBusybox();
            Assumptions.assumeTrue(installed != null, "no busybox-static package or binary here");
            Files.copy(installed, bin);
        } else {
            try (FsTree d = Sources.read(cachedDeb()); InputStream in = ((Node.File) d.get("bin/busybox")).content().open()) {
                Files.write(bin, in.readAllBytes());
            }
        }
        Path img = tmp.resolve("b.img");
        MainTest.Result r = MainTest.run("rootfs", "--busybox", bin.toString(), "--output", img.toString());
        assertEquals(0, r.exit(), r.err());
        ImageCheck.e2fsckClean(img);
        try (FsTree t = Rootfs.treeFromBinary(bin, OptionalLong.of(0))) {
            assertInstanceOf(Node.Symlink.class, t.get("sbin/init"));
        }
        // a dynamically linked program is refused with a reason
        Path dynamic = Path.of("/bin/true");
        Assumptions.assumeTrue(Files.isRegularFile(dynamic));
        MainTest.Result bad = MainTest.run("rootfs", "--busybox", dynamic.toString(), "--out", tmp.resolve("x.img").toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("dynamically linked"), bad.err());
    }
}
