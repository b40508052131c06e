package hg.host.internal;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;

/** The hg-agent's framing (guest/agent/PROTOCOL.md): a type byte, a little-endian u32 length, the payload. */
public final class AgentFrames {
    public static final int EXEC = 1, STDIN = 2, STDOUT = 3, STDERR = 4, EXIT = 5, ERROR = 6, READ = 7, FILE = 8, DATA = 9,
            END = 10, WRITE = 11, OK = 12, VERSION = 13, NET = 14, ENTROPY = 15;
    public static final int MAX_PAYLOAD = 65536;

    /** One frame as read. */
    public record Frame(int type, byte[] payload) {
    }

    private AgentFrames() {
    }

    public static void write(OutputStream out, int type, byte[] payload, int off, int len) throws IOException {
        if (len > MAX_PAYLOAD) {
            throw new IllegalArgumentException("a frame carries at most " + MAX_PAYLOAD + " bytes, not " + len);
        }
        byte[] h = {(byte) type, (byte) len, (byte) (len >>> 8), (byte) (len >>> 16), (byte) (len >>> 24)};
        out.write(h);
        out.write(payload, off, len);
        out.flush();
    }

    public static void write(OutputStream out, int type, byte[] payload) throws IOException {
        write(out, type, payload, 0, payload.length);
    }

    /** The next frame; an agent that sends a longer payload than any it may is not trusted further. */
    public static Frame read(DataInputStream in) throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("the agent closed the connection");
        }
        byte[] h = new byte[4];
        in.readFully(h);
        long len = (h[0] & 0xff) | (h[1] & 0xff) << 8 | (h[2] & 0xff) << 16 | (long) (h[3] & 0xff) << 24;
        if (len > MAX_PAYLOAD) {
            throw new IOException("the agent sent a frame of " + len + " bytes, more than " + MAX_PAYLOAD);
        }
        byte[] payload = new byte[(int) len];
        in.readFully(payload);
        return new Frame(type, payload);
    }

    public static int u32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }

}
