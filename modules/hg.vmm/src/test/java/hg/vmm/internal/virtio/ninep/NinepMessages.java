package hg.vmm.internal.virtio.ninep;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** The few 9P2000.L requests the device tests send, encoded by hand (the server's codec is not exported). */
final class NinepMessages {
    private NinepMessages() {}

    static final int NOFID = -1;

    private static ByteBuffer start(int type, int tag) {
        ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        return b.putInt(0).put((byte) type).putShort((short) tag);
    }

    private static byte[] finish(ByteBuffer b) {
        b.putInt(0, b.position());
        byte[] out = new byte[b.position()];
        b.get(0, out);
        return out;
    }

    private static ByteBuffer str(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        return b.putShort((short) bytes.length).put(bytes);
    }

    static byte[] version(int tag, int msize) {
        ByteBuffer b = start(100, tag).putInt(msize);
        return finish(str(b, "9P2000.L"));
    }

    static byte[] attach(int tag, int fid) {
        ByteBuffer b = start(104, tag).putInt(fid).putInt(NOFID);
        str(b, "root");
        str(b, "");
        return finish(b.putInt(0));
    }

    static byte[] walk(int tag, int fid, int newfid, String... names) {
        ByteBuffer b = start(110, tag).putInt(fid).putInt(newfid).putShort((short) names.length);
        for (String n : names) {
            str(b, n);
        }
        return finish(b);
    }

    static byte[] lopen(int tag, int fid, int flags) {
        return finish(start(12, tag).putInt(fid).putInt(flags));
    }

    static byte[] read(int tag, int fid, long offset, int count) {
        return finish(start(116, tag).putInt(fid).putLong(offset).putInt(count));
    }

    /** Twrite's header alone, its size counting the data that follows in other buffers (as Linux's zero-copy sends it). */
    static byte[] writeHeader(int tag, int fid, long offset, int count) {
        ByteBuffer b = start(118, tag).putInt(fid).putLong(offset).putInt(count);
        byte[] out = finish(b);
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(0, out.length + count);
        return out;
    }

    /** A reply's header: size, type, tag. */
    record Header(int size, int type, int tag) {
        static Header of(byte[] reply) {
            ByteBuffer b = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
            return new Header(b.getInt(0), Byte.toUnsignedInt(b.get(4)), Short.toUnsignedInt(b.getShort(5)));
        }
    }

    static int u32(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
    }
}
