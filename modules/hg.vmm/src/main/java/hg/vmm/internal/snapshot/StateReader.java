package hg.vmm.internal.snapshot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * Reads what {@link StateWriter} wrote, from bytes that may have been crafted: every read is
 * bounds-checked, every length and count has a caller-given ceiling, and a violation is one
 * {@link SnapshotFormatException} that names the field.
 */
public final class StateReader {
    private final ByteBuffer in;

    public StateReader(byte[] bytes) {
        in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void need(int n, String field) throws SnapshotFormatException {
        if (in.remaining() < n) {
            throw new SnapshotFormatException("the state ends inside " + field);
        }
    }

    public int u8(String field) throws SnapshotFormatException {
        need(1, field);
        return in.get() & 0xff;
    }

    public boolean bool(String field) throws SnapshotFormatException {
        int v = u8(field);
        if (v > 1) {
            throw new SnapshotFormatException(field + " is " + v + ", not a boolean");
        }
        return v == 1;
    }

    public int u16(String field) throws SnapshotFormatException {
        need(2, field);
        return in.getShort() & 0xffff;
    }

    public int u32(String field) throws SnapshotFormatException {
        need(4, field);
        return in.getInt();
    }

    /** An unsigned 32-bit value that must lie in {@code [min, max]}. */
    public int u32(String field, int min, int max) throws SnapshotFormatException {
        long v = Integer.toUnsignedLong(u32(field));
        if (v < min || v > max) {
            throw new SnapshotFormatException(field + " is " + v + ", outside " + min + ".." + max);
        }
        return (int) v;
    }

    public long u64(String field) throws SnapshotFormatException {
        need(8, field);
        return in.getLong();
    }

    /** Length-prefixed bytes of at most {@code max}. */
    public byte[] bytes(String field, int max) throws SnapshotFormatException {
        int n = u32(field + " length", 0, max);
        need(n, field);
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    /** Length-prefixed bytes of exactly {@code length}. */
    public byte[] bytesExactly(String field, int length) throws SnapshotFormatException {
        byte[] b = bytes(field, length);
        if (b.length != length) {
            throw new SnapshotFormatException(field + " has " + b.length + " bytes, not " + length);
        }
        return b;
    }

    public String string(String field, int maxBytes) throws SnapshotFormatException {
        byte[] b = bytes(field, maxBytes);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new SnapshotFormatException(field + " is not UTF-8");
        }
    }

    /** A count of items that follow, at most {@code max}: bounds what a crafted file can make us allocate. */
    public int count(String field, int max) throws SnapshotFormatException {
        return u32(field + " count", 0, max);
    }

    /** Fails unless every byte was read: trailing bytes mean a writer this reader does not know. */
    public void end() throws SnapshotFormatException {
        if (in.hasRemaining()) {
            throw new SnapshotFormatException(in.remaining() + " unexpected bytes after the state");
        }
    }
}
