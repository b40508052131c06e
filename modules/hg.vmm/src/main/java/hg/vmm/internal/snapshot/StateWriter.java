package hg.vmm.internal.snapshot;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Little-endian fields appended to a growing buffer: the encoding side of {@link StateReader}. */
public final class StateWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);

    public StateWriter u8(int v) {
        out.write(v);
        return this;
    }

    public StateWriter bool(boolean v) {
        return u8(v ? 1 : 0);
    }

    public StateWriter u16(int v) {
        out.write(v);
        out.write(v >>> 8);
        return this;
    }

    public StateWriter u32(int v) {
        for (int i = 0; i < 32; i += 8) {
            out.write(v >>> i);
        }
        return this;
    }

    public StateWriter u64(long v) {
        for (int i = 0; i < 64; i += 8) {
            out.write((int) (v >>> i));
        }
        return this;
    }

    /** A length, then the bytes. */
    public StateWriter bytes(byte[] b) {
        u32(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    public StateWriter string(String s) {
        return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] toByteArray() {
        return out.toByteArray();
    }
}
