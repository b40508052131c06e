package hg.ninep;

import hg.ninep.internal.OpenFlags;
import hg.ninep.internal.wire.Tmessage;
import hg.ninep.internal.wire.Tmessage.*;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static hg.ninep.Client.ROOT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A read-only share refuses every change, and every open that could change, with EROFS. */
class ReadOnlyShareTest {
    static final int EROFS = 30;

    @TempDir
    Path dir;
    NinepServer server;
    Client c;

    @BeforeEach
    void start() throws IOException {
        Files.writeString(dir.resolve("f"), "data");
        Files.createDirectory(dir.resolve("d"));
        server = NinepServer.open(new Share(dir, "ro", true));
        c = Client.attached(server);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void everyChangeIsRefused() throws IOException {
        c.walk(ROOT, 2, "f");
        c.walk(ROOT, 3, "d");
        c.walk(ROOT, 4);
        List<Tmessage> changes = List.of(
                new Tlopen(2, OpenFlags.DOTL_WRONLY),
                new Tlopen(2, OpenFlags.DOTL_RDWR),
                new Tlopen(2, OpenFlags.DOTL_RDONLY | OpenFlags.DOTL_TRUNC),
                new Tlcreate(4, "new", OpenFlags.DOTL_RDWR, 0644, 0),
                new Tmkdir(ROOT, "new", 0755, 0),
                new Tsymlink(ROOT, "new", "f", 0),
                new Tlink(ROOT, 2, "new"),
                new Tmknod(ROOT, "new", 010644, 0, 0, 0),
                new Trename(2, 3, "new"),
                new Trenameat(ROOT, "f", ROOT, "new"),
                new Tunlinkat(ROOT, "f", 0),
                new Tsetattr(2, Tsetattr.SIZE, 0, 0, 0, 0, 0, 0, 0, 0),
                new Tsetattr(2, Tsetattr.MODE, 0777, 0, 0, 0, 0, 0, 0, 0),
                new Tsetattr(2, Tsetattr.UID, 0, 5, 0, 0, 0, 0, 0, 0),
                new Tsetattr(2, Tsetattr.MTIME, 0, 0, 0, 0, 0, 0, 0, 0),
                new Txattrcreate(2, "user.x", 1, 0));
        for (Tmessage t : changes) {
            assertEquals(EROFS, c.err(t), t.toString());
        }
        assertEquals(EROFS, c.err(new Tremove(3)));
        try (var s = Files.list(dir)) {
            assertEquals(2, s.count());
        }
        assertEquals("data", Files.readString(dir.resolve("f")));
        assertEquals(0644, (Integer) Files.getAttribute(dir.resolve("f"), "unix:mode") & 07777);
    }

    @Test
    void readingStillWorks() {
        int f = c.open(5, OpenFlags.DOTL_RDONLY, "f");
        assertArrayEquals("data".getBytes(), c.read(f, 0, 100));
        assertEquals(EROFS, c.err(new Twrite(f, 0, ByteBuffer.wrap(new byte[1]))));
        c.ok(new Tfsync(f, 0), hg.ninep.internal.wire.Rmessage.Rfsync.class);
        int d = c.open(6, OpenFlags.DOTL_RDONLY);
        assertEquals(4, c.readdirAll(d, 4096).size());
        c.ok(new Tstatfs(ROOT), hg.ninep.internal.wire.Rmessage.Rstatfs.class);
    }
}
