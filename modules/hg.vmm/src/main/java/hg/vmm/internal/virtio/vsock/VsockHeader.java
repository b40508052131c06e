package hg.vmm.internal.virtio.vsock;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 44-byte header of every virtio-vsock packet (virtio 1.2 section 5.10.6), little-endian on the ring.
 * Lengths, counters and ports are unsigned 32-bit values kept in ints; CIDs are 64-bit.
 *
 * @param bufAlloc the sender's receive buffer for this stream
 * @param fwdCnt   bytes the sender has taken out of that buffer so far (free-running)
 */
public record VsockHeader(long srcCid, long dstCid, int srcPort, int dstPort, int len, int type, int op, int flags,
                          int bufAlloc, int fwdCnt) {
    public static final int SIZE = 44;

    public static final int TYPE_STREAM = 1;

    public static final int OP_REQUEST = 1;
    public static final int OP_RESPONSE = 2;
    public static final int OP_RST = 3;
    public static final int OP_SHUTDOWN = 4;
    public static final int OP_RW = 5;
    public static final int OP_CREDIT_UPDATE = 6;
    public static final int OP_CREDIT_REQUEST = 7;

    /** SHUTDOWN flags: the sender will receive no more, send no more. */
    public static final int SHUTDOWN_RCV = 1;
    public static final int SHUTDOWN_SEND = 2;

    public static VsockHeader decode(byte[] b) {
        if (b.length < SIZE) {
            throw new IllegalArgumentException("a vsock header has " + SIZE + " bytes, not " + b.length);
        }
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        return new VsockHeader(in.getLong(0), in.getLong(8), in.getInt(16), in.getInt(20), in.getInt(24),
                Short.toUnsignedInt(in.getShort(28)), Short.toUnsignedInt(in.getShort(30)), in.getInt(32), in.getInt(36),
                in.getInt(40));
    }

    public byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(srcCid).putLong(dstCid).putInt(srcPort).putInt(dstPort).putInt(len).putShort((short) type)
                .putShort((short) op).putInt(flags).putInt(bufAlloc).putInt(fwdCnt);
        return out.array();
    }

    public String opName() {
        return switch (op) {
            case OP_REQUEST -> "REQUEST";
            case OP_RESPONSE -> "RESPONSE";
            case OP_RST -> "RST";
            case OP_SHUTDOWN -> "SHUTDOWN";
            case OP_RW -> "RW";
            case OP_CREDIT_UPDATE -> "CREDIT_UPDATE";
            case OP_CREDIT_REQUEST -> "CREDIT_REQUEST";
            default -> "op " + op;
        };
    }
}
