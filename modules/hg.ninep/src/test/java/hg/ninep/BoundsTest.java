package hg.ninep;

import hg.ninep.internal.OpenFlags;
import hg.ninep.internal.wire.RandomMessages;
import hg.ninep.internal.wire.Rmessage.*;
import hg.ninep.internal.wire.Tmessage.*;
import hg.ninep.internal.wire.Wire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

import static hg.ninep.Client.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a hostile guest cannot make the server hold or read: fids, open files, msize, walks, sizes. */
class BoundsTest {
    static final int EMFILE = 24, E2BIG = 7, EMSGSIZE = 90, EPROTO = 71;

    @TempDir
    Path dir;
    NinepServer server;
    Client c;

    @BeforeEach
    void start() throws IOException {
        Files.writeString(dir.resolve("f"), "data");
        server = NinepServer.open(new Share(dir, "b", false));
        c = Client.attached(server);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void theFidTableIsCapped() {
        for (int fid = 2; fid <= NinepServer.MAX_FIDS; fid++) {
            c.walk(ROOT, fid);
        }
        assertEquals(NinepServer.MAX_FIDS, server.fidCount());
        assertEquals(EMFILE, c.err(new Twalk(ROOT, 100_000, List.of())));
        assertEquals(EMFILE, c.err(new Tattach(100_001, Wire.NOFID, "", "", 0)));
        c.clunk(2);
        c.walk(ROOT, 100_000);
    }

    @Test
    void openFilesAreCapped() throws IOException {
        try (NinepServer small = NinepServer.open(new Share(dir, "b", false), Client.MSIZE, 100, 4)) {
            Client s = Client.attached(small);
            for (int fid = 2; fid < 6; fid++) {
                s.open(fid, OpenFlags.DOTL_RDONLY, "f");
            }
            s.walk(ROOT, 6, "f");
            assertEquals(EMFILE, s.err(new Tlopen(6, OpenFlags.DOTL_RDONLY)));
            assertEquals(EMFILE, s.err(new Tlcreate(ROOT, "g", OpenFlags.DOTL_RDWR, 0644, 0)));
            s.clunk(2);
            s.ok(new Tlopen(6, OpenFlags.DOTL_RDONLY), Rlopen.class);
            assertEquals(4, small.openFiles());
        }
    }

    @Test
    void msizeIsCapped() {
        Client fresh = new Client(server);
        server.reset();
        assertEquals(new Rversion(NinepServer.MAX_MSIZE, "9P2000.L"), fresh.rpc(new Tversion(-1, "9P2000.L")));
        assertEquals(NinepServer.MAX_MSIZE, server.messageLimit());
    }

    @Test
    void aMessageLargerThanMsizeIsRefused() {
        Client small = new Client(server);
        assertEquals(new Rversion(8192, "9P2000.L"), small.rpc(new Tversion(8192, "9P2000.L")));
        small.ok(new Tattach(ROOT, Wire.NOFID, "", "", 0), Rattach.class);
        int f = small.open(2, OpenFlags.DOTL_RDWR, "f");
        assertEquals(EMSGSIZE, small.err(new Twrite(f, 0, ByteBuffer.allocate(9000))));
        assertEquals(0, small.read(f, 0, 0).length);
        // A read asking for more than msize gets at most msize.
        small.write(f, 0, new byte[8000]);
        small.write(f, 8000, new byte[8000]);
        assertEquals(8192 - 11, small.read(f, 0, -1).length);
    }

    @Test
    void aWalkOfSeventeenNamesIsRefused() {
        assertEquals(16, c.walk(ROOT, 2, Collections.nCopies(16, "..").toArray(String[]::new)).size());
        ByteBuffer b = ByteBuffer.allocate(200).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0).put((byte) 110).putShort((short) 9).putInt(ROOT).putInt(3).putShort((short) 17);
        for (int i = 0; i < 17; i++) {
            b.putShort((short) 2).put((byte) '.').put((byte) '.');
        }
        b.flip();
        b.putInt(0, b.remaining());
        assertEquals(new Rlerror(E2BIG), c.raw(b, ByteBuffer.allocate(4096)));
        assertEquals(2, server.fidCount(), "the root and fid 2; no fid 3");
    }

    @Test
    void unknownTypesAndTlerrorAreRefused() {
        for (int type : new int[] {0, 6, 7, 101, 200, 255}) {
            ByteBuffer b = ByteBuffer.allocate(11).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(11).put((byte) type).putShort((short) 3).putInt(0).flip();
            assertEquals(new Rlerror(95), c.raw(b, ByteBuffer.allocate(100)), "type " + type);
        }
    }

    @Test
    void aSizeFieldLargerThanTheBytesIsRefused() {
        ByteBuffer m = RandomMessages.bytes(4, new Tstatfs(ROOT));
        ByteBuffer longer = ByteBuffer.allocate(m.remaining()).order(ByteOrder.LITTLE_ENDIAN).put(m).flip();
        longer.putInt(0, 1000);
        assertEquals(new Rlerror(EPROTO), c.raw(longer, ByteBuffer.allocate(100)));
        longer.putInt(0, -1);
        assertEquals(new Rlerror(EMSGSIZE), c.raw(longer, ByteBuffer.allocate(100)));
    }

    @Test
    void noRoomForTheReplyGivesAnErrorOrTheProtocolException() throws NinepProtocolException {
        ByteBuffer m = RandomMessages.bytes(4, new Tgetattr(ROOT, -1));
        assertEquals(new Rlerror(EMSGSIZE), c.raw(m, ByteBuffer.allocate(20)));
        assertThrows(NinepProtocolException.class, () -> server.serve(m, ByteBuffer.allocate(10)));
        assertThrows(NinepProtocolException.class, () -> server.serve(ByteBuffer.allocate(6), ByteBuffer.allocate(100)));
        assertTrue(server.serve(m, ByteBuffer.allocate(200)) > 100);
    }
}
