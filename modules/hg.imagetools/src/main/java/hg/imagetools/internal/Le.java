package hg.imagetools.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Little-endian stores into byte arrays (every on-disk ext4 field is little-endian). */
final class Le {
    private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle B32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private Le() {}

    static void u8(byte[] b, int off, int v) { b[off] = (byte) v; }

    static void u16(byte[] b, int off, int v) { I16.set(b, off, (short) v); }

    static void u32(byte[] b, int off, long v) { I32.set(b, off, (int) v); }

    static void u64(byte[] b, int off, long v) { I64.set(b, off, v); }

    static int getU16(byte[] b, int off) { return (short) I16.get(b, off) & 0xffff; }

    static long getU32(byte[] b, int off) { return (int) I32.get(b, off) & 0xffffffffL; }

    /** jbd2 is the one big-endian structure. */
    static void be32(byte[] b, int off, long v) { B32.set(b, off, (int) v); }

    static byte[] le32(long v) {
        byte[] b = new byte[4];
        u32(b, 0, v);
        return b;
    }
}
