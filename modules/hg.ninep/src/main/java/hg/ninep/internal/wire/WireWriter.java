package hg.ninep.internal.wire;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Writes a message's fields, little-endian; a field that does not fit throws BufferOverflowException. */
public final class WireWriter {
    private final ByteBuffer out;

    public WireWriter(ByteBuffer out) {
        this.out = out.order(ByteOrder.LITTLE_ENDIAN);
    }

    public WireWriter u8(int v) {
        out.put((byte) v);
        return this;
    }

    public WireWriter u16(int v) {
        out.putShort((short) v);
        return this;
    }

    public WireWriter u32(int v) {
        out.putInt(v);
        return this;
    }

    public WireWriter u64(long v) {
        out.putLong(v);
        return this;
    }

    public WireWriter str(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        if (b.length > 0xffff) {
            throw new BufferOverflowException();
        }
        u16(b.length);
        out.put(b);
        return this;
    }

    public WireWriter qid(Qid q) {
        return u8(q.type()).u32(q.version()).u64(q.path());
    }

    public WireWriter data(ByteBuffer d) {
        out.put(d.duplicate());
        return this;
    }

    public int position() {
        return out.position();
    }
}
