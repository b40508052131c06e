package hg.ninep.internal;

import hg.ninep.internal.wire.Qid;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Turns the linux_dirent64 records getdents64 gave into Rreaddir entries (qid, offset, type,
 * name), as many as fit in {@code count}. An entry's offset is the host's cookie for the next
 * one, so the guest's next Treaddir resumes right after the last entry it got.
 */
final class Dirents {
    private Dirents() {}

    private static final int DT_DIR = 4;
    private static final int DT_LNK = 10;

    /** Encodes the records of {@code buf[0, length)}; stops at the first that does not fit. */
    static ByteBuffer encode(MemorySegment buf, long length, int count) {
        ByteBuffer out = ByteBuffer.allocate(count).order(ByteOrder.LITTLE_ENDIAN);
        long at = 0;
        while (at + 19 <= length) {
            long ino = buf.get(JAVA_LONG.withByteAlignment(1), at);
            long off = buf.get(JAVA_LONG.withByteAlignment(1), at + 8);
            int reclen = Short.toUnsignedInt(buf.get(JAVA_SHORT.withByteAlignment(1), at + 16));
            int type = Byte.toUnsignedInt(buf.get(JAVA_BYTE, at + 18));
            if (reclen < 20 || at + reclen > length) {
                break;   // the kernel wrote it; a bad record would be its bug, not a reason to read past it
            }
            long nameEnd = at + 19;
            while (nameEnd < at + reclen && buf.get(JAVA_BYTE, nameEnd) != 0) {
                nameEnd++;
            }
            byte[] name = buf.asSlice(at + 19, nameEnd - (at + 19)).toArray(JAVA_BYTE);
            if (out.remaining() < Qid.SIZE + 8 + 1 + 2 + name.length) {
                break;
            }
            int qidType = type == DT_DIR ? Qid.QTDIR : type == DT_LNK ? Qid.QTSYMLINK : Qid.QTFILE;
            out.put((byte) qidType).putInt(0).putLong(ino);
            out.putLong(off).put((byte) type).putShort((short) name.length).put(name);
            at += reclen;
        }
        return out.flip();
    }
}
