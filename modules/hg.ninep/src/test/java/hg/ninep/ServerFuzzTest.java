package hg.ninep;

import hg.ninep.internal.wire.DecodeException;
import hg.ninep.internal.wire.RandomMessages;
import hg.ninep.internal.wire.Rmessage;
import hg.ninep.internal.wire.Tmessage;
import hg.ninep.internal.wire.Tmessage.Tattach;
import hg.ninep.internal.wire.Tmessage.Tversion;
import hg.ninep.internal.wire.Wire;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Garbage into a live server: random bytes, valid requests cut short or with bytes flipped, and
 * random valid requests. The answer is always a decodable reply with the request's tag that fits
 * the room given, or (no tag, no room) the protocol exception; nothing else ever comes out.
 */
class ServerFuzzTest {
    static Path dir;
    static NinepServer server;

    @BeforeContainer
    static void start() throws IOException {
        dir = Files.createTempDirectory("ninep-fuzz");
        Files.writeString(dir.resolve("f"), "data");
        Files.createDirectory(dir.resolve("d"));
        server = NinepServer.open(new Share(dir, "fuzz", false));
    }

    @AfterContainer
    static void stop() throws IOException {
        server.close();
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Provide
    Arbitrary<Random> seeds() {
        return Arbitraries.longs().map(Random::new);
    }

    static void versioned() {
        ByteBuffer out = ByteBuffer.allocate(8192);
        serve(RandomMessages.bytes(1, new Tversion(65536, "9P2000.L")), out);
        serve(RandomMessages.bytes(1, new Tattach(1, Wire.NOFID, "", "", 0)), out);
    }

    /** Serves and checks the reply; returns it, or null when the protocol exception came. */
    static Rmessage serve(ByteBuffer request, ByteBuffer response) {
        int tag = Wire.tag(request);
        int before = request.position();
        try {
            int n = server.serve(request, response);
            assertTrue(n <= response.remaining() && n <= server.messageLimit(), "reply within the room: " + n);
            assertEquals(before, request.position());
            Wire.Reply r = Wire.decodeReply(response.slice(response.position(), n));
            assertEquals(tag, r.tag());
            return r.message();
        } catch (NinepProtocolException e) {
            assertTrue(request.remaining() < Wire.HEADER || response.remaining() < Rmessage.Rlerror.SIZE, e.getMessage());
            return null;
        } catch (DecodeException e) {
            throw new AssertionError("the server's own reply does not decode", e);
        }
    }

    @Property(tries = 1000)
    void randomBytes(@ForAll @Size(max = 300) byte[] raw, @ForAll boolean fixSize, @ForAll @IntRange(max = 255) int type,
                     @ForAll @IntRange(max = 300) int room) {
        versioned();
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        if (fixSize && raw.length >= Wire.HEADER) {
            b.putInt(0, raw.length).put(4, (byte) type);
        }
        serve(b, ByteBuffer.allocate(room));
    }

    @Property(tries = 1000)
    void cutAndFlippedRequests(@ForAll("seeds") Random r) {
        versioned();
        ByteBuffer m = RandomMessages.bytes(r.nextInt(0x10000), RandomMessages.t(r));
        ByteBuffer b = m.slice(0, r.nextInt(m.remaining() + 1)).order(ByteOrder.LITTLE_ENDIAN);
        if (r.nextBoolean() && b.remaining() >= 4) {
            b.putInt(0, b.remaining());
        }
        for (int i = r.nextInt(4); i > 0 && b.remaining() > 0; i--) {
            b.put(r.nextInt(b.remaining()), (byte) r.nextInt());
        }
        serve(b, ByteBuffer.allocate(r.nextBoolean() ? 70_000 : r.nextInt(200)));
    }

    @Property(tries = 1000)
    void randomValidRequests(@ForAll("seeds") Random r) {
        versioned();
        Tmessage t = RandomMessages.t(r);
        if (t instanceof Tversion) {
            return;
        }
        serve(RandomMessages.bytes(r.nextInt(0x10000), t), ByteBuffer.allocate(70_000));
        assertTrue(Files.exists(dir), "the share is still there");
    }
}
