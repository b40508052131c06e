package hg.ninep;

import hg.ninep.internal.OpenFlags;
import hg.ninep.internal.wire.Qid;
import hg.ninep.internal.wire.Rmessage;
import hg.ninep.internal.wire.Rmessage.*;
import hg.ninep.internal.wire.Tmessage.*;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static hg.ninep.Client.ROOT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nothing outside the share is reachable, whatever names, symlinks and races the guest tries. */
class ConfinementTest {
    static final int ENOENT = 2, ELOOP = 40, ENOTDIR = 20, EINVAL = 22, EOPNOTSUPP = 95;
    static final byte[] SECRET = "SECRET".getBytes();

    @TempDir
    Path tmp;
    Path share;
    Path outside;
    NinepServer server;
    Client c;

    @BeforeEach
    void start() throws IOException {
        share = Files.createDirectory(tmp.resolve("share"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.write(outside.resolve("secret"), SECRET);
        Files.write(share.resolve("inside"), "inside".getBytes());
        server = NinepServer.open(new Share(share, "t", false));
        c = Client.attached(server);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    void outsideUntouched() throws IOException {
        assertArrayEquals(SECRET, Files.readAllBytes(outside.resolve("secret")));
        assertEquals(1, (Integer) Files.getAttribute(outside.resolve("secret"), "unix:nlink"));
        assertEquals(0644, (Integer) Files.getAttribute(outside.resolve("secret"), "unix:mode") & 07777);
        try (var s = Files.list(outside)) {
            assertEquals(List.of(outside.resolve("secret")), s.toList());
        }
    }

    @Test
    void dotDotStaysAtTheRoot() throws IOException {
        Qid root = c.getattr(ROOT).qid();
        assertEquals(List.of(root, root), c.walk(ROOT, 2, "..", ".."));
        assertEquals(List.of(root), c.walk(ROOT, 3, "..", "outside", "secret"), "a partial walk: the root, then nothing");
        assertEquals(9, c.err(new Tclunk(3)), "and no fid");
        assertEquals(EINVAL, c.err(new Twalk(ROOT, 3, List.of("../outside"))));
        assertEquals(EINVAL, c.err(new Twalk(ROOT, 3, List.of("/etc"))));
        assertEquals(EINVAL, c.err(new Tlcreate(ROOT, "../x", 2, 0644, 0)));
        assertEquals(EINVAL, c.err(new Trenameat(ROOT, "inside", ROOT, "../moved")));
        assertEquals(EINVAL, c.err(new Tsymlink(ROOT, "..", "x", 0)));
        outsideUntouched();
    }

    @Test
    void symlinksOutAreNeverFollowed() throws IOException {
        Files.createSymbolicLink(share.resolve("abs"), outside);
        Files.createSymbolicLink(share.resolve("absfile"), outside.resolve("secret"));
        Files.createSymbolicLink(share.resolve("rel"), Path.of("../outside"));
        Files.createSymbolicLink(share.resolve("root"), Path.of("/"));
        Files.createDirectories(share.resolve("a/b"));
        Files.createSymbolicLink(share.resolve("a/b/mid"), Path.of("../../../outside"));
        for (String link : List.of("abs", "rel", "root")) {
            // The link itself is walkable (the guest reads it and resolves it itself) ...
            assertEquals(Qid.QTSYMLINK, c.walk(ROOT, 2, link).getFirst().type());
            // ... but never walked through, opened, or made into a directory to work in.
            Rmessage r = c.rpc(new Twalk(ROOT, 3, List.of(link, "secret")));
            assertTrue(r instanceof Rlerror || ((Rwalk) r).qids().size() == 1, link + ": " + r);
            assertEquals(ELOOP, c.err(new Tlopen(2, 0)));
            assertTrue(c.err(new Tlcreate(2, "x", 2, 0644, 0)) > 0);
            assertTrue(c.err(new Tmkdir(2, "x", 0755, 0)) > 0);
            assertTrue(c.err(new Treaddir(2, 0, 4096)) > 0);
            c.clunk(2);
        }
        assertEquals(3, c.walk(ROOT, 4, "a", "b", "mid", "secret").size(), "stops at the symlink");
        assertEquals(1, c.walk(ROOT, 4, "root", "etc").size());
        c.walk(ROOT, 6, "root");
        assertEquals(ELOOP, c.err(new Twalk(6, 7, List.of("etc"))), "the kernel refuses to go through the symlink");
        // Attributes of a symlink fid change the symlink, never its target.
        c.walk(ROOT, 5, "absfile");
        assertEquals(EOPNOTSUPP, c.err(new Tsetattr(5, Tsetattr.MODE, 0777, 0, 0, 0, 0, 0, 0, 0)));
        assertEquals(EINVAL, c.err(new Tsetattr(5, Tsetattr.SIZE, 0, 0, 0, 0, 0, 0, 0, 0)));
        c.ok(new Tsetattr(5, Tsetattr.UID, 0, 4242, 0, 0, 0, 0, 0, 0), Rsetattr.class);
        assertEquals(4242, (Integer) Files.getAttribute(share.resolve("absfile"), "unix:uid", LinkOption.NOFOLLOW_LINKS));
        assertEquals(0, (Integer) Files.getAttribute(outside.resolve("secret"), "unix:uid"));
        c.ok(new Tsetattr(5, Tsetattr.MTIME | Tsetattr.MTIME_SET, 0, 0, 0, 0, 0, 0, 1000, 0), Rsetattr.class);
        assertNotEquals(1000, Files.getLastModifiedTime(outside.resolve("secret")).toMillis() / 1000);
        assertEquals(ELOOP, c.err(new Tlopen(5, OpenFlags.DOTL_WRONLY | OpenFlags.DOTL_TRUNC)));
        outsideUntouched();
    }

    @Test
    void aHardLinkMadeByTheGuestCannotReachOutside() throws IOException {
        Files.createSymbolicLink(share.resolve("abs"), outside);
        Files.createSymbolicLink(share.resolve("absfile"), outside.resolve("secret"));
        // No fid can name the outside file: a walk through a symlink stops at it and makes no fid.
        assertEquals(1, c.walk(ROOT, 2, "abs", "secret").size());
        assertEquals(9, c.err(new Tlink(ROOT, 2, "hard")), "EBADF: there is no such fid to link");
        // Linking a symlink fid links the symlink itself, not its target.
        c.walk(ROOT, 3, "absfile");
        c.ok(new Tlink(ROOT, 3, "hard"), Rlink.class);
        assertTrue(Files.isSymbolicLink(share.resolve("hard")));
        c.walk(ROOT, 4, "hard");
        assertEquals(ELOOP, c.err(new Tlopen(4, 0)));
        outsideUntouched();
    }

    @Test
    void renamesAndUnlinksStayInside() throws IOException {
        Files.createSymbolicLink(share.resolve("abs"), outside);
        c.walk(ROOT, 2, "abs");
        assertTrue(c.err(new Trenameat(ROOT, "inside", 2, "stolen")) > 0);
        assertTrue(c.err(new Tunlinkat(2, "secret", 0)) > 0);
        c.walk(ROOT, 3, "inside");
        assertTrue(c.err(new Trename(3, 2, "stolen")) > 0);
        assertTrue(c.err(new Tlink(2, 3, "x")) > 0);
        assertTrue(c.err(new Tsymlink(2, "x", "y", 0)) > 0);
        assertTrue(c.err(new Tmknod(2, "x", 010644, 0, 0, 0)) > 0);
        // Removing the symlink removes the symlink.
        c.ok(new Tremove(2), Rremove.class);
        assertFalse(Files.exists(share.resolve("abs"), LinkOption.NOFOLLOW_LINKS));
        outsideUntouched();
    }

    /**
     * One thread swaps a directory and a symlink to / under the same name; another walks through
     * that name, opens and reads, over and over. It reads the share's file or gets an error:
     * never a byte of the host's.
     */
    @Test
    void aSymlinkSwappedInDuringWalksNeverLeadsOut() throws Exception {
        Path real = Files.createDirectories(share.resolve("d_dir/etc"));
        Files.write(real.resolve("hostname"), "inside".getBytes());
        Files.createSymbolicLink(share.resolve("d_link"), Path.of("/"));
        Files.move(share.resolve("d_dir"), share.resolve("d"), StandardCopyOption.ATOMIC_MOVE);
        byte[] host = Files.readAllBytes(Path.of("/etc/hostname"));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger swaps = new AtomicInteger();
        Thread swapper = Thread.ofPlatform().start(() -> {
            try {
                while (!stop.get()) {
                    Files.move(share.resolve("d"), share.resolve("d_dir"), StandardCopyOption.ATOMIC_MOVE);
                    Files.move(share.resolve("d_link"), share.resolve("d"), StandardCopyOption.ATOMIC_MOVE);
                    Thread.onSpinWait();
                    Files.move(share.resolve("d"), share.resolve("d_link"), StandardCopyOption.ATOMIC_MOVE);
                    Files.move(share.resolve("d_dir"), share.resolve("d"), StandardCopyOption.ATOMIC_MOVE);
                    swaps.incrementAndGet();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        int reads = 0;
        try {
            for (int i = 0; i < 4000; i++) {
                int fid = 10 + (i & 1);
                Rmessage w = c.rpc(new Twalk(ROOT, fid, List.of("d", "etc", "hostname")));
                if (w instanceof Rwalk rw && rw.qids().size() == 3) {
                    if (c.rpc(new Tlopen(fid, 0)) instanceof Rlopen) {
                        byte[] got = c.read(fid, 0, 100);
                        assertFalse(java.util.Arrays.equals(host, got), "read the host's /etc/hostname");
                        assertArrayEquals("inside".getBytes(), got);
                        reads++;
                    }
                    c.clunk(fid);
                }
                // A fid walked to "d" before a swap, walked on after it.
                if (c.rpc(new Twalk(ROOT, 12, List.of("d"))) instanceof Rwalk rw2 && rw2.qids().size() == 1) {
                    Rmessage on = c.rpc(new Twalk(12, 13, List.of("etc", "hostname")));
                    if (on instanceof Rwalk rw3 && rw3.qids().size() == 2 && c.rpc(new Tlopen(13, 0)) instanceof Rlopen) {
                        assertArrayEquals("inside".getBytes(), c.read(13, 0, 100));
                    }
                    c.rpc(new Tclunk(13));
                    c.clunk(12);
                }
            }
        } finally {
            stop.set(true);
            swapper.join();
        }
        assertTrue(swaps.get() > 10, "the swapper ran: " + swaps.get());
        assertTrue(reads > 0, "some reads got through");
    }
}
