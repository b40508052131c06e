package hg.ninep;

import hg.ninep.internal.OpenFlags;
import hg.ninep.internal.wire.Qid;
import hg.ninep.internal.wire.Rmessage.*;
import hg.ninep.internal.wire.Tmessage.*;
import hg.ninep.internal.wire.Wire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static hg.ninep.Client.ROOT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every request Linux's v9fs sends, on a plain directory. */
class NinepServerTest {
    static final int EBADF = 9, ENOENT = 2, EPERM = 1, EOPNOTSUPP = 95, EINVAL = 22, EEXIST = 17, ENOTDIR = 20, EPROTO = 71;
    static final int RDONLY = OpenFlags.DOTL_RDONLY, WRONLY = OpenFlags.DOTL_WRONLY, RDWR = OpenFlags.DOTL_RDWR;

    @TempDir
    Path dir;
    NinepServer server;
    Client c;

    @BeforeEach
    void start() throws IOException {
        server = NinepServer.open(new Share(dir, "share", false));
        c = Client.attached(server);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** As QEMU answers: the guest's large reads and writes come in pieces of whole blocks of the share's file system. */
    @Test
    void opensAnswerAnIounitOfWholeBlocks() throws IOException {
        Files.writeString(dir.resolve("f"), "x");
        long block = Files.getFileStore(dir).getBlockSize();
        c.walk(ROOT, 2, "f");
        int iounit = c.ok(new Tlopen(2, RDONLY), Rlopen.class).iounit();
        assertTrue(iounit > 0 && iounit % block == 0, "iounit " + iounit + ", block " + block);
        assertTrue(iounit <= Client.MSIZE - 24 && iounit > Client.MSIZE - 24 - block, "iounit " + iounit);
        c.walk(ROOT, 3);
        assertEquals(iounit, c.ok(new Tlcreate(3, "g", RDWR, 0644, 0), Rlcreate.class).iounit());
    }

    /**
     * A device's messages are in native memory: writes go to the file straight from the request and reads
     * land straight in the reply. The bytes must be the same as through heap buffers, at any offset.
     */
    @Test
    void nativeBuffersReadAndWriteTheSameBytes() throws IOException {
        byte[] data = new byte[100_000];
        new java.util.Random(7).nextBytes(data);
        try (NinepServer direct = NinepServer.open(new Share(dir, "share", false))) {
            Client d = Client.attached(direct, true);
            d.walk(ROOT, 2);
            d.ok(new Tlcreate(2, "f", RDWR, 0644, 0), Rlcreate.class);
            assertEquals(data.length, d.write(2, 3, data));
            byte[] back = d.read(2, 3, data.length + 10);
            assertArrayEquals(data, back);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 50_000, 50_100), d.read(2, 50_003, 100));
            assertEquals(0, d.read(2, 1_000_000, 100).length);
        }
        byte[] onDisk = Files.readAllBytes(dir.resolve("f"));
        assertArrayEquals(data, java.util.Arrays.copyOfRange(onDisk, 3, onDisk.length));
        int f = c.open(3, RDONLY, "f");
        assertArrayEquals(java.util.Arrays.copyOfRange(onDisk, 0, 1000), c.read(f, 0, 1000));
    }

    static int uid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    static int gid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void versionNegotiatesAndRequestsBeforeItAreRefused() {
        server.reset();
        Client fresh = new Client(server);
        assertEquals(EPROTO, fresh.err(new Tattach(5, Wire.NOFID, "", "", 0)));
        assertEquals(new Rversion(8192, "9P2000.L"), fresh.rpc(new Tversion(8192, "9P2000.L")));
        assertEquals("unknown", fresh.ok(new Tversion(8192, "9P2000.u"), Rversion.class).version());
        assertEquals(EINVAL, fresh.err(new Tversion(100, "9P2000.L")));
    }

    @Test
    void aNewVersionClunksEveryFid() {
        c.walk(ROOT, 2);
        assertEquals(2, server.fidCount());
        c.rpc(new Tversion(Client.MSIZE, "9P2000.L"));
        assertEquals(0, server.fidCount());
    }

    @Test
    void attachGivesTheRootAndRefusesAuthAndBusyFids() {
        Rattach a = c.ok(new Tattach(7, Wire.NOFID, "u", "", 1000), Rattach.class);
        assertEquals(Qid.QTDIR, a.qid().type());
        assertEquals(EBADF, c.err(new Tattach(7, Wire.NOFID, "u", "", 1000)));
        assertEquals(EINVAL, c.err(new Tattach(8, 3, "u", "", 1000)));
        assertEquals(EOPNOTSUPP, c.err(new Tauth(3, "u", "", 1000)));
    }

    @Test
    void walkFollowsNamesAndDotDotStopsAtTheRoot() throws IOException {
        Files.createDirectories(dir.resolve("a/b"));
        Files.writeString(dir.resolve("a/b/f"), "x");
        List<Qid> q = c.walk(ROOT, 2, "a", "b", "f");
        assertEquals(List.of(Qid.QTDIR, Qid.QTDIR, Qid.QTFILE), q.stream().map(Qid::type).toList());
        List<Qid> up = c.walk(ROOT, 3, "a", "..", "..", "..", "a");
        assertEquals(q.get(0), up.get(4));
        assertEquals(c.ok(new Tattach(9, Wire.NOFID, "", "", 0), Rattach.class).qid(), up.get(1));
        // A clone (no names), and walking a fid onto itself.
        assertEquals(List.of(), c.walk(2, 4));
        c.walk(3, 3, "b");
        assertEquals(q.get(1), c.getattr(3).qid());
        // A partial walk answers the qids it got and makes no fid.
        assertEquals(2, c.walk(ROOT, 5, "a", "b", "nope").size());
        assertEquals(EBADF, c.err(new Tclunk(5)));
        assertEquals(ENOENT, c.err(new Twalk(ROOT, 5, List.of("nope"))));
        assertEquals(EINVAL, c.err(new Twalk(ROOT, 5, List.of("a/b"))));
        assertEquals(EINVAL, c.err(new Twalk(ROOT, 5, List.of("."))));
        assertEquals(EBADF, c.err(new Twalk(ROOT, 2, List.of("a"))), "newfid in use");
    }

    @Test
    void lopenReadWriteClunk() throws IOException {
        Files.writeString(dir.resolve("f"), "hello world");
        int f = c.open(2, RDWR, "f");
        assertArrayEquals("world".getBytes(), c.read(f, 6, 100));
        assertEquals(3, c.write(f, 0, "HEL".getBytes()));
        assertEquals("HELlo world", Files.readString(dir.resolve("f")));
        assertArrayEquals(new byte[0], c.read(f, 1000, 10));
        c.clunk(f);
        assertEquals(EBADF, c.err(new Tread(f, 0, 10)));
        int r = c.open(3, RDONLY, "f");
        assertEquals(EBADF, c.err(new Twrite(r, 0, java.nio.ByteBuffer.wrap(new byte[1]))));
        int t = c.open(4, WRONLY | OpenFlags.DOTL_TRUNC, "f");
        assertEquals(EBADF, c.err(new Tread(t, 0, 1)));
        assertEquals(0, Files.size(dir.resolve("f")));
        assertEquals(2, server.openFiles());
        c.walk(ROOT, 5, "f");
        assertEquals(ENOTDIR, c.err(new Tlopen(5, OpenFlags.DOTL_DIRECTORY)));
        c.walk(ROOT, 6);
        assertEquals(21, c.err(new Tlopen(6, WRONLY)), "EISDIR");
        c.ok(new Tlopen(6, OpenFlags.DOTL_DIRECTORY), Rlopen.class);
    }

    @Test
    void aLargeReadIsCappedByMsize() throws IOException {
        byte[] big = new byte[400_000];
        new java.util.Random(1).nextBytes(big);
        Files.write(dir.resolve("big"), big);
        int f = c.open(2, RDONLY, "big");
        byte[] got = c.read(f, 0, Integer.MAX_VALUE);
        assertEquals(Client.MSIZE - 11, got.length);
        assertArrayEquals(java.util.Arrays.copyOf(big, got.length), got);
    }

    @Test
    void lcreateMakesTheFileOwnedAsAskedWithoutSetIdBits() throws IOException {
        c.walk(ROOT, 2);
        Rlcreate r = c.ok(new Tlcreate(2, "new", RDWR, 0100000 | 06755, 1234), Rlcreate.class);
        assertEquals(Qid.QTFILE, r.qid().type());
        assertEquals(5, c.write(2, 0, "12345".getBytes()));
        assertEquals("12345", Files.readString(dir.resolve("new")));
        assertEquals(0755, mode(dir.resolve("new")) & 07777);
        assertEquals(1234, gid(dir.resolve("new")));
        assertEquals(0, uid(dir.resolve("new")));
        c.walk(ROOT, 3);
        assertEquals(EEXIST, c.err(new Tlcreate(3, "new", RDWR | OpenFlags.DOTL_EXCL, 0644, 0)));
        // Without O_EXCL an existing file is opened.
        c.ok(new Tlcreate(3, "new", RDONLY, 0644, 0), Rlcreate.class);
        assertArrayEquals("12345".getBytes(), c.read(3, 0, 10));
    }

    @Test
    void filesAreOwnedByTheAttachingUid() throws IOException {
        c.ok(new Tattach(10, Wire.NOFID, "u", "", 4321), Rattach.class);
        c.ok(new Tlcreate(10, "mine", RDWR, 0600, 99), Rlcreate.class);
        assertEquals(4321, uid(dir.resolve("mine")));
        assertEquals(99, gid(dir.resolve("mine")));
        assertEquals(0600, mode(dir.resolve("mine")) & 07777, "the guest's mode, not the process umask's");
    }

    @Test
    void removeDeletesAndClunks() throws IOException {
        Files.writeString(dir.resolve("f"), "x");
        Files.createDirectory(dir.resolve("d"));
        c.walk(ROOT, 2, "f");
        c.ok(new Tremove(2), Rremove.class);
        assertFalse(Files.exists(dir.resolve("f")));
        assertEquals(EBADF, c.err(new Tclunk(2)));
        c.walk(ROOT, 3, "d");
        c.ok(new Tremove(3), Rremove.class);
        assertFalse(Files.exists(dir.resolve("d")));
        c.walk(ROOT, 4);
        assertEquals(16, c.err(new Tremove(4)), "the root stays: EBUSY");
        assertEquals(EBADF, c.err(new Tclunk(4)), "and the fid went all the same");
    }

    @Test
    void getattrSaysWhatStatSays() throws IOException {
        Files.writeString(dir.resolve("f"), "12345");
        c.walk(ROOT, 2, "f");
        Rgetattr a = c.getattr(2);
        assertEquals(5, a.size());
        assertEquals(0100000, a.mode() & 0170000);
        assertEquals(Files.getAttribute(dir.resolve("f"), "unix:ino"), a.qid().path());
        assertEquals(1, a.nlink());
        assertEquals(Files.getLastModifiedTime(dir.resolve("f")).toInstant().getEpochSecond(), a.mtimeSec());
        assertEquals(0x7ffL, a.valid() & 0x7ff);
        assertEquals(040000, c.getattr(ROOT).mode() & 0170000);
    }

    @Test
    void setattrTruncatesChmodsChownsAndSetsTimes() throws IOException {
        Path f = dir.resolve("f");
        Files.writeString(f, "1234567890");
        c.walk(ROOT, 2, "f");
        c.ok(new Tsetattr(2, Tsetattr.SIZE, 0, 0, 0, 4, 0, 0, 0, 0), Rsetattr.class);
        assertEquals("1234", Files.readString(f));
        c.ok(new Tsetattr(2, Tsetattr.MODE, 04750 | 02000, 0, 0, 0, 0, 0, 0, 0), Rsetattr.class);
        assertEquals(0750, mode(f) & 07777, "set-uid and set-gid stripped");
        c.ok(new Tsetattr(2, Tsetattr.UID | Tsetattr.GID, 0, 555, 666, 0, 0, 0, 0, 0), Rsetattr.class);
        assertEquals(555, uid(f));
        assertEquals(666, gid(f));
        c.ok(new Tsetattr(2, Tsetattr.ATIME | Tsetattr.ATIME_SET | Tsetattr.MTIME | Tsetattr.MTIME_SET, 0, 0, 0, 0,
                1_000_000, 5, 2_000_000, 7), Rsetattr.class);
        assertEquals(FileTime.fromMillis(2_000_000_000L).toInstant().getEpochSecond(),
                Files.getLastModifiedTime(f).toInstant().getEpochSecond());
        assertEquals(2_000_000, c.getattr(2).mtimeSec());
        assertEquals(1_000_000, c.getattr(2).atimeSec());
        c.ok(new Tsetattr(2, Tsetattr.MTIME, 0, 0, 0, 0, 0, 0, 0, 0), Rsetattr.class);
        assertTrue(c.getattr(2).mtimeSec() > 1_700_000_000L, "MTIME without MTIME_SET is now");
        // Truncating a directory is refused.
        assertEquals(21, c.err(new Tsetattr(ROOT, Tsetattr.SIZE, 0, 0, 0, 0, 0, 0, 0, 0)));
    }

    @Test
    void setattrOnAnOpenUnlinkedFileUsesItsFd() throws IOException {
        Files.writeString(dir.resolve("f"), "abcdef");
        int f = c.open(2, RDWR, "f");
        Files.delete(dir.resolve("f"));
        c.ok(new Tsetattr(f, Tsetattr.SIZE, 0, 0, 0, 2, 0, 0, 0, 0), Rsetattr.class);
        assertEquals(2, c.getattr(f).size());
        assertArrayEquals("ab".getBytes(), c.read(f, 0, 10));
    }

    /** On tmpfs when there is one (5,000 creations on a journalled disk take seconds), offsets as indexes. */
    @Test
    void readdirOfFiveThousandEntriesInSeveralCalls() throws IOException {
        Path shm = Path.of("/dev/shm");
        Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "ninep") : dir;
        try (NinepServer s = NinepServer.open(new Share(base, "big", false))) {
            readsEveryEntryOnce(base, Client.attached(s), 5000, 8192);
        } finally {
            if (base != dir) {
                try (var all = Files.list(base)) {
                    for (Path p : all.toList()) {
                        Files.delete(p);
                    }
                }
                Files.delete(base);
            }
        }
    }

    /** On the temp dir's file system (ext4 here): offsets as hash cookies. */
    @Test
    void readdirResumesAtHashCookies() throws IOException {
        readsEveryEntryOnce(dir, c, 300, 1024);
    }

    static void readsEveryEntryOnce(Path base, Client c, int entries, int count) throws IOException {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < entries; i++) {
            String n = "entry-" + i;
            Files.createFile(base.resolve(n));
            names.add(n);
        }
        Files.createDirectory(base.resolve("sub"));
        Files.createSymbolicLink(base.resolve("ln"), Path.of("sub"));
        names.add("sub");
        names.add("ln");
        int d = c.open(2, RDONLY, new String[0]);
        List<Client.Entry> all = new java.util.ArrayList<>();
        long offset = 0;
        int calls = 0;
        while (true) {
            List<Client.Entry> part = c.readdir(d, offset, count);
            if (part.isEmpty()) {
                break;
            }
            calls++;
            all.addAll(part);
            offset = part.getLast().offset();
        }
        assertTrue(calls > 5, "several calls: " + calls);
        Set<String> got = all.stream().map(Client.Entry::name).filter(n -> !n.equals(".") && !n.equals(".."))
                .collect(Collectors.toSet());
        assertEquals(names, got);
        assertEquals(all.size(), all.stream().map(Client.Entry::name).collect(Collectors.toSet()).size(), "no repeats");
        Client.Entry sub = all.stream().filter(e -> e.name().equals("sub")).findFirst().orElseThrow();
        assertEquals(Qid.QTDIR, sub.qid().type());
        assertEquals(Qid.QTSYMLINK, all.stream().filter(e -> e.name().equals("ln")).findFirst().orElseThrow().qid().type());
        // Reading again from an earlier entry's offset gives the entries after it.
        assertEquals(all.subList(1, 3).stream().map(Client.Entry::name).toList(),
                c.readdir(d, all.get(0).offset(), count).subList(0, 2).stream().map(Client.Entry::name).toList());
        c.clunk(d);
    }

    @Test
    void readdirNeedsAnOpenDirectory() throws IOException {
        Files.writeString(dir.resolve("f"), "x");
        c.walk(ROOT, 2);
        assertEquals(EBADF, c.err(new Treaddir(2, 0, 4096)));
        int f = c.open(3, RDONLY, "f");
        assertEquals(ENOTDIR, c.err(new Treaddir(f, 0, 4096)));
    }

    @Test
    void statfsDescribesTheFileSystem() {
        Rstatfs s = c.ok(new Tstatfs(ROOT), Rstatfs.class);
        assertTrue(s.bsize() > 0);
        assertTrue(s.namelen() >= 255);
    }

    @Test
    void mkdirSymlinkLinkMknod() throws IOException {
        Rmkdir m = c.ok(new Tmkdir(ROOT, "d", 040000 | 02775, 77), Rmkdir.class);
        assertEquals(Qid.QTDIR, m.qid().type());
        assertEquals(0775, mode(dir.resolve("d")) & 07777);
        assertEquals(77, gid(dir.resolve("d")));
        Rsymlink s = c.ok(new Tsymlink(ROOT, "s", "/etc/passwd", 55), Rsymlink.class);
        assertEquals(Qid.QTSYMLINK, s.qid().type());
        assertEquals("/etc/passwd", Files.readSymbolicLink(dir.resolve("s")).toString());
        assertEquals(55, gid(dir.resolve("s")));
        Files.writeString(dir.resolve("f"), "x");
        c.walk(ROOT, 2, "f");
        c.walk(ROOT, 3, "d");
        c.ok(new Tlink(3, 2, "hard"), Rlink.class);
        assertEquals(2, (Integer) Files.getAttribute(dir.resolve("f"), "unix:nlink"));
        assertEquals(Files.getAttribute(dir.resolve("f"), "unix:ino"), Files.getAttribute(dir.resolve("d/hard"), "unix:ino"));
        Rmknod n = c.ok(new Tmknod(ROOT, "fifo", 010000 | 06644, 0, 0, 3), Rmknod.class);
        assertEquals(Qid.QTFILE, n.qid().type());
        assertEquals(0644, mode(dir.resolve("fifo")) & 07777);
        assertTrue((mode(dir.resolve("fifo")) & 0170000) == 010000);
        assertEquals(EEXIST, c.err(new Tmkdir(ROOT, "d", 0755, 0)));
        assertEquals(EINVAL, c.err(new Tmkdir(ROOT, "..", 0755, 0)));
        assertEquals(EINVAL, c.err(new Tmkdir(ROOT, "x/y", 0755, 0)));
    }

    @Test
    void deviceNodesAreNeitherMadeNorOpened() throws Exception {
        assertEquals(EPERM, c.err(new Tmknod(ROOT, "null", 020000 | 0666, 1, 3, 0)));
        assertEquals(EPERM, c.err(new Tmknod(ROOT, "sda", 060000 | 0666, 8, 0, 0)));
        assertFalse(Files.exists(dir.resolve("null"), LinkOption.NOFOLLOW_LINKS));
        // One the host put there: visible, never opened.
        Process p = new ProcessBuilder("mknod", dir.resolve("zero").toString(), "c", "1", "5").start();
        assertEquals(0, p.waitFor());
        c.walk(ROOT, 2, "zero");
        assertEquals(EPERM, c.err(new Tlopen(2, RDONLY)));
        assertEquals(EPERM, c.err(new Tlcreate(ROOT, "zero", RDONLY, 0644, 0)));
        assertEquals(020000, c.getattr(2).mode() & 0170000);
    }

    @Test
    void fifosOpenWithoutBlockingTheServer() {
        c.ok(new Tmknod(ROOT, "fifo", 010000 | 0644, 0, 0, 0), Rmknod.class);
        int f = c.open(2, RDONLY, "fifo");
        // Linux's v9fs never reads a fifo through the share (its own kernel serves special files), but a
        // guest that tries gets an error (ESPIPE: no positioned reads on a pipe), not a device thread stuck.
        assertEquals(29, c.err(new Tread(f, 0, 10)));
    }

    @Test
    void renameAndRenameatMoveFilesAndTheFidsFollow() throws IOException {
        Files.createDirectories(dir.resolve("a"));
        Files.createDirectories(dir.resolve("b"));
        Files.writeString(dir.resolve("a/f"), "data");
        c.walk(ROOT, 2, "a", "f");
        c.walk(ROOT, 3, "b");
        c.ok(new Trename(2, 3, "g"), Rrename.class);
        assertEquals("data", Files.readString(dir.resolve("b/g")));
        assertEquals(4, c.getattr(2).size(), "the fid names the moved file");
        c.walk(ROOT, 4, "a");
        c.ok(new Trenameat(3, "g", 4, "h"), Rrenameat.class);
        assertEquals("data", Files.readString(dir.resolve("a/h")));
        assertEquals(4, c.getattr(2).size());
        // A directory moves with the fids beneath it.
        c.ok(new Trenameat(ROOT, "a", ROOT, "c"), Rrenameat.class);
        c.ok(new Tlopen(2, RDONLY), Rlopen.class);
        assertArrayEquals("data".getBytes(), c.read(2, 0, 10));
        assertEquals(ENOENT, c.err(new Trenameat(ROOT, "nope", ROOT, "x")));
    }

    @Test
    void unlinkatRemovesFilesAndDirectories() throws IOException {
        Files.writeString(dir.resolve("f"), "x");
        Files.createDirectory(dir.resolve("d"));
        c.ok(new Tunlinkat(ROOT, "f", 0), Runlinkat.class);
        assertFalse(Files.exists(dir.resolve("f")));
        assertEquals(21, c.err(new Tunlinkat(ROOT, "d", 0)), "EISDIR without AT_REMOVEDIR");
        c.ok(new Tunlinkat(ROOT, "d", Tunlinkat.AT_REMOVEDIR), Runlinkat.class);
        assertFalse(Files.exists(dir.resolve("d")));
    }

    @Test
    void readlinkGivesTheTargetAsWritten() throws IOException {
        Files.createSymbolicLink(dir.resolve("l"), Path.of("../../somewhere"));
        c.walk(ROOT, 2, "l");
        assertEquals("../../somewhere", c.ok(new Treadlink(2), Rreadlink.class).target());
        assertEquals(EINVAL, c.err(new Treadlink(ROOT)));
    }

    @Test
    void fsyncLockGetlockXattrFlush() throws IOException {
        Files.writeString(dir.resolve("f"), "x");
        int f = c.open(2, RDWR, "f");
        c.ok(new Tfsync(f, 0), Rfsync.class);
        c.ok(new Tfsync(f, 1), Rfsync.class);
        assertEquals(EBADF, c.err(new Tfsync(ROOT, 0)));
        assertEquals(Rlock.SUCCESS, c.ok(new Tlock(f, 1, 0, 0, 100, 42, "guest"), Rlock.class).status());
        assertEquals(new Rgetlock(Rgetlock.UNLOCKED, 5, 10, 42, "guest"), c.rpc(new Tgetlock(f, 1, 5, 10, 42, "guest")));
        assertEquals(EOPNOTSUPP, c.err(new Txattrwalk(f, 3, "user.x")));
        assertEquals(EOPNOTSUPP, c.err(new Txattrcreate(f, "user.x", 4, 0)));
        assertEquals(new Rflush(), c.rpc(new Tflush(3)));
    }

    @Test
    void namesAreBytesAsTheGuestSentThem() throws IOException {
        String latin1 = new String("été".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        c.walk(ROOT, 2);
        c.ok(new Tlcreate(2, latin1, RDWR, 0644, 0), Rlcreate.class);
        assertTrue(Files.exists(dir.resolve("été")));
    }

    @Test
    void aShareWhosePathIsNotAscii() throws IOException {
        Path odd = Files.createDirectory(dir.resolve("partagé"));
        Files.writeString(odd.resolve("f"), "x");
        try (NinepServer s = NinepServer.open(new Share(odd, "odd", false))) {
            Client o = Client.attached(s);
            assertEquals(1, o.walk(ROOT, 2, "f").size());
        }
    }

    @Test
    void aMissingRootIsAnIOException() {
        org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> NinepServer.open(new Share(dir.resolve("nope"), "x", false)));
    }
}
