package hg.ninep.internal.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads the fields of one message, little-endian, never past its end: every read checks the
 * bytes are there and fails with EPROTO when they are not.
 */
public final class WireReader {
    private final ByteBuffer in;

    /** Reads {@code in} from its position to its limit (the message's end), leaving {@code in} alone. */
    public WireReader(ByteBuffer in) {
        this.in = in.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private void need(long n) throws DecodeException {
        if (n < 0 || n > in.remaining()) {
            throw new DecodeException(Wire.EPROTO, "message cut short: " + n + " bytes wanted, " + in.remaining() + " left");
        }
    }

    public int remaining() {
        return in.remaining();
    }

    public int u8() throws DecodeException {
        need(1);
        return Byte.toUnsignedInt(in.get());
    }

    public int u16() throws DecodeException {
        need(2);
        return Short.toUnsignedInt(in.getShort());
    }

    public int u32() throws DecodeException {
        need(4);
        return in.getInt();
    }

    public long u64() throws DecodeException {
        need(8);
        return in.getLong();
    }

    /** A string: u16 length and its bytes, none of them NUL; held as Latin-1 so every byte survives. */
    public String str() throws DecodeException {
        int n = u16();
        need(n);
        byte[] b = new byte[n];
        in.get(b);
        for (byte x : b) {
            if (x == 0) {
                throw new DecodeException(Wire.EINVAL, "NUL in a string");
            }
        }
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    public Qid qid() throws DecodeException {
        return new Qid(u8(), u32(), u64());
    }

    /** {@code count} bytes as a view of the message (no copy). */
    public ByteBuffer data(int count) throws DecodeException {
        need(Integer.toUnsignedLong(count));
        ByteBuffer d = in.slice(in.position(), count);
        in.position(in.position() + count);
        return d;
    }
}
