package hg.ninep.internal.wire;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Framing: size[4] type[1] tag[2] and the body. Decoding is bounded by the size field and the
 * buffer both; encoding back-fills the size.
 */
public final class Wire {
    private Wire() {}

    public static final int HEADER = 7;
    public static final int NOTAG = 0xffff;
    public static final int NOFID = 0xffffffff;
    /** The most names one Twalk may carry (P9_MAXWELEM). */
    public static final int MAX_WALK = 16;
    static final int EPROTO = 71;
    static final int EINVAL = 22;
    static final int E2BIG = 7;
    static final int EOPNOTSUPP = 95;

    /** A decoded T-message and its tag. */
    public record Request(int tag, Tmessage message) {
    }

    /** A decoded R-message and its tag. */
    public record Reply(int tag, Rmessage message) {
    }

    /** The message's tag, or -1 when fewer than a header's bytes are there. */
    public static int tag(ByteBuffer message) {
        if (message.remaining() < HEADER) {
            return -1;
        }
        return Short.toUnsignedInt(message.duplicate().order(ByteOrder.LITTLE_ENDIAN).getShort(message.position() + 5));
    }

    /** The message's size field (unsigned), or -1 when it cannot be read. */
    public static long size(ByteBuffer message) {
        if (message.remaining() < 4) {
            return -1;
        }
        return Integer.toUnsignedLong(message.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(message.position()));
    }

    /** The bytes from the header on, up to the size field, or EPROTO when the size lies. */
    private static WireReader body(ByteBuffer message) throws DecodeException {
        long size = size(message);
        if (size < HEADER || size > message.remaining()) {
            throw new DecodeException(EPROTO, "size field " + size + " with " + message.remaining() + " bytes there");
        }
        ByteBuffer m = message.slice(message.position() + HEADER, (int) size - HEADER);
        return new WireReader(m);
    }

    private static int type(ByteBuffer message) {
        return Byte.toUnsignedInt(message.get(message.position() + 4));
    }

    public static Request decodeRequest(ByteBuffer message) throws DecodeException {
        WireReader r = body(message);
        return new Request(tag(message), Tmessage.decode(type(message), r));
    }

    public static Reply decodeReply(ByteBuffer message) throws DecodeException {
        WireReader r = body(message);
        return new Reply(tag(message), Rmessage.decode(type(message), r));
    }

    /**
     * Writes a whole message at {@code out}'s position (moving it past the message, and setting
     * the buffer little-endian); returns its size. Throws BufferOverflowException when it does not fit.
     */
    public static int encode(int tag, Message m, ByteBuffer out) {
        ByteBuffer o = out.order(ByteOrder.LITTLE_ENDIAN);
        int start = o.position();
        if (o.remaining() < HEADER) {
            throw new BufferOverflowException();
        }
        WireWriter w = new WireWriter(o);
        w.u32(0).u8(m.type()).u16(tag);
        m.encode(w);
        int size = o.position() - start;
        o.putInt(start, size);
        return size;
    }
}
