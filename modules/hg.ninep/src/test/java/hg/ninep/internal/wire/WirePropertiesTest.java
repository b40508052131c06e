package hg.ninep.internal.wire;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every message survives encode and decode; nothing malformed gets past the decoder but a DecodeException. */
class WirePropertiesTest {

    @Provide
    Arbitrary<Random> seeds() {
        return Arbitraries.longs().map(Random::new);
    }

    @Property(tries = 1000)
    void everyRequestRoundTrips(@ForAll("seeds") Random r, @ForAll @IntRange(max = 0xffff) int tag) throws DecodeException {
        Tmessage m = RandomMessages.t(r);
        Wire.Request back = Wire.decodeRequest(RandomMessages.bytes(tag, m));
        assertEquals(tag, back.tag());
        assertEquals(m, back.message());
    }

    @Property(tries = 1000)
    void everyReplyRoundTrips(@ForAll("seeds") Random r, @ForAll @IntRange(max = 0xffff) int tag) throws DecodeException {
        Rmessage m = RandomMessages.r(r);
        Wire.Reply back = Wire.decodeReply(RandomMessages.bytes(tag, m));
        assertEquals(tag, back.tag());
        assertEquals(m, back.message());
    }

    /** A valid message cut anywhere: a DecodeException, or (cut in trailing data only) a valid shorter parse; never a read past the cut. */
    @Property(tries = 1000)
    void truncatedMessagesFailCleanly(@ForAll("seeds") Random r, @ForAll @IntRange(max = 100_000) int cutSeed) {
        ByteBuffer full = RandomMessages.bytes(7, RandomMessages.t(r));
        int cut = cutSeed % full.remaining();
        ByteBuffer shorter = full.slice(0, cut);
        // The size field still says the whole length: more than the buffer holds.
        assertThrows(DecodeException.class, () -> Wire.decodeRequest(shorter));
        // And with the size field fixed up to the cut, the body itself runs short (or is an exact prefix).
        if (cut >= 4) {
            ByteBuffer fixed = ByteBuffer.allocate(cut).order(ByteOrder.LITTLE_ENDIAN).put(shorter.duplicate()).flip();
            fixed.putInt(0, cut);
            decodesOrRefuses(fixed);
        }
    }

    @Property(tries = 1500)
    void randomBytesNeverThrowAnythingElse(@ForAll @Size(max = 200) byte[] raw, @ForAll boolean fixSize,
                                           @ForAll @IntRange(max = 255) int type) {
        ByteBuffer b = ByteBuffer.wrap(raw.clone()).order(ByteOrder.LITTLE_ENDIAN);
        if (fixSize && raw.length >= 7) {
            b.putInt(0, raw.length);
            b.put(4, (byte) type);
        }
        decodesOrRefuses(b);
        decodesOrRefusesReply(b);
    }

    @Property(tries = 500)
    void absurdSizesAreRefused(@ForAll("seeds") Random r, @ForAll int size) {
        ByteBuffer m = RandomMessages.bytes(1, RandomMessages.t(r));
        if (Integer.toUnsignedLong(size) > m.remaining() || Integer.toUnsignedLong(size) < Wire.HEADER) {
            m.order(ByteOrder.LITTLE_ENDIAN).putInt(0, size);
            DecodeException e = assertThrows(DecodeException.class, () -> Wire.decodeRequest(m));
            assertEquals(Wire.EPROTO, e.errno());
        }
    }

    @Property(tries = 200)
    void aWalkOfMoreThanSixteenNamesIsRefused(@ForAll @IntRange(min = 17, max = 0xffff) int n) {
        ByteBuffer b = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0).put((byte) 110).putShort((short) 1).putInt(0).putInt(1).putShort((short) n);
        for (int i = 0; i < 20; i++) {
            b.putShort((short) 1).put((byte) 'a');
        }
        b.flip();
        b.putInt(0, b.remaining());
        DecodeException e = assertThrows(DecodeException.class, () -> Wire.decodeRequest(b));
        assertEquals(Wire.E2BIG, e.errno());
    }

    @Property(tries = 200)
    void aNulInAStringIsRefused(@ForAll @IntRange(min = 0, max = 4) int at) {
        ByteBuffer b = RandomMessages.bytes(1, new Tmessage.Tmkdir(1, "abcde", 0755, 0));
        b.put(Wire.HEADER + 4 + 2 + at, (byte) 0);
        DecodeException e = assertThrows(DecodeException.class, () -> Wire.decodeRequest(b));
        assertEquals(Wire.EINVAL, e.errno());
    }

    static void decodesOrRefuses(ByteBuffer b) {
        int position = b.position();
        try {
            Wire.decodeRequest(b);
        } catch (DecodeException e) {
            assertTrue(e.errno() > 0);
        }
        assertEquals(position, b.position(), "the decoder leaves the buffer alone");
    }

    static void decodesOrRefusesReply(ByteBuffer b) {
        try {
            Wire.decodeReply(b);
        } catch (DecodeException e) {
            assertTrue(e.errno() > 0);
        }
    }
}
