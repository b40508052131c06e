package hg.ninep;

import hg.ninep.internal.wire.DecodeException;
import hg.ninep.internal.wire.Qid;
import hg.ninep.internal.wire.Rmessage;
import hg.ninep.internal.wire.Rmessage.*;
import hg.ninep.internal.wire.Tmessage;
import hg.ninep.internal.wire.Tmessage.*;
import hg.ninep.internal.wire.Wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The guest's side for tests: encodes requests, serves them, decodes and checks the replies. */
final class Client {
    static final int ROOT = 1;
    static final int MSIZE = 128 * 1024;

    final NinepServer server;
    private final ByteBuffer request;
    private final ByteBuffer response;
    private int tag;

    Client(NinepServer server) {
        this(server, false);
    }

    /** {@code nativeBuffers}: messages in native memory, as a virtio device hands them over. */
    Client(NinepServer server, boolean nativeBuffers) {
        this.server = server;
        int size = NinepServer.MAX_MSIZE + 4096;
        this.request = nativeBuffers ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
        this.response = nativeBuffers ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    }

    /** Tversion and Tattach of fid {@link #ROOT} as uid 0. */
    static Client attached(NinepServer server) {
        return attached(server, false);
    }

    static Client attached(NinepServer server, boolean nativeBuffers) {
        Client c = new Client(server, nativeBuffers);
        assertEquals(new Rversion(MSIZE, "9P2000.L"), c.rpc(new Tversion(MSIZE, "9P2000.L")));
        c.ok(new Tattach(ROOT, Wire.NOFID, "root", "", 0), Rattach.class);
        return c;
    }

    Rmessage rpc(Tmessage t) {
        request.clear();
        Wire.encode(tag, t, request);
        request.flip();
        return raw(request, response.clear());
    }

    /** Serves raw bytes; the reply is decoded and its tag checked. */
    Rmessage raw(ByteBuffer req, ByteBuffer resp) {
        int expected = Wire.tag(req);
        try {
            int n = server.serve(req, resp);
            Wire.Reply r = Wire.decodeReply(resp.slice(resp.position(), n));
            assertEquals(expected, r.tag());
            tag = (tag + 1) & 0x7fff;
            return r.message();
        } catch (NinepProtocolException | DecodeException e) {
            throw new AssertionError(e);
        }
    }

    <R extends Rmessage> R ok(Tmessage t, Class<R> type) {
        Rmessage r = rpc(t);
        if (!type.isInstance(r)) {
            fail(t + " answered " + r);
        }
        return type.cast(r);
    }

    int err(Tmessage t) {
        Rmessage r = rpc(t);
        if (r instanceof Rlerror e) {
            return e.ecode();
        }
        return fail(t + " answered " + r + ", not an error");
    }

    List<Qid> walk(int fid, int newfid, String... names) {
        return ok(new Twalk(fid, newfid, List.of(names)), Rwalk.class).qids();
    }

    /** Walks from the root to a new fid and opens it. */
    int open(int newfid, int flags, String... names) {
        Rwalk w = ok(new Twalk(ROOT, newfid, List.of(names)), Rwalk.class);
        assertEquals(names.length, w.qids().size(), "walked all the way");
        ok(new Tlopen(newfid, flags), Rlopen.class);
        return newfid;
    }

    byte[] read(int fid, long offset, int count) {
        ByteBuffer d = ok(new Tread(fid, offset, count), Rread.class).data();
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return b;
    }

    int write(int fid, long offset, byte[] data) {
        return ok(new Twrite(fid, offset, ByteBuffer.wrap(data)), Rwrite.class).count();
    }

    void clunk(int fid) {
        ok(new Tclunk(fid), Rclunk.class);
    }

    Rgetattr getattr(int fid) {
        return ok(new Tgetattr(fid, Rgetattr.BASIC), Rgetattr.class);
    }

    /** One Rreaddir's entries. */
    record Entry(Qid qid, long offset, int type, String name) {
    }

    List<Entry> readdir(int fid, long offset, int count) {
        ByteBuffer d = ok(new Treaddir(fid, offset, count), Rreaddir.class).data().order(ByteOrder.LITTLE_ENDIAN);
        List<Entry> out = new ArrayList<>();
        while (d.hasRemaining()) {
            Qid q = new Qid(Byte.toUnsignedInt(d.get()), d.getInt(), d.getLong());
            long off = d.getLong();
            int type = Byte.toUnsignedInt(d.get());
            byte[] name = new byte[Short.toUnsignedInt(d.getShort())];
            d.get(name);
            out.add(new Entry(q, off, type, new String(name, StandardCharsets.ISO_8859_1)));
        }
        return out;
    }

    /** Every entry of an open directory, read {@code count} bytes at a time. */
    List<Entry> readdirAll(int fid, int count) {
        List<Entry> all = new ArrayList<>();
        long offset = 0;
        while (true) {
            List<Entry> part = readdir(fid, offset, count);
            if (part.isEmpty()) {
                return all;
            }
            all.addAll(part);
            offset = part.getLast().offset();
        }
    }
}
