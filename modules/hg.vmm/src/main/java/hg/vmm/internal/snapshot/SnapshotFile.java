package hg.vmm.internal.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The frame of a snapshot's state file: magic, format version, payload length, payload, and a
 * SHA-256 of all that. The checksum catches damage (a torn copy, a flipped bit), not a crafted
 * file: the payload's decoder validates every field on its own.
 *
 * <pre>
 *  0  8  magic "HGSNAP\r\n"
 *  8  4  format version (little-endian)
 * 12  4  zero (refused otherwise)
 * 16  8  payload length
 * 24  n  payload
 * 24+n 32 SHA-256 of bytes 0 .. 24+n
 * </pre>
 */
public final class SnapshotFile {
    public static final int FORMAT_VERSION = 1;
    /** A state of 255 vCPUs with 8 KiB of XSAVE each stays far below this; a larger file is refused unread. */
    public static final int MAX_PAYLOAD = 16 << 20;
    static final byte[] MAGIC = "HGSNAP\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 24;
    private static final int DIGEST = 32;

    private SnapshotFile() {
    }

    public static byte[] frame(byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(HEADER + payload.length + DIGEST).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(FORMAT_VERSION).putInt(0).putLong(payload.length).put(payload);
        b.put(sha256(b.array(), HEADER + payload.length));
        return b.array();
    }

    /** The payload of a framed state, or one line saying why it is not usable. */
    public static byte[] unframe(byte[] file) throws SnapshotFormatException {
        if (file.length < MAGIC.length || !Arrays.equals(file, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new SnapshotFormatException("not a hyper-gen snapshot (no snapshot magic at its start)");
        }
        if (file.length < HEADER + DIGEST) {
            throw new SnapshotFormatException("the state file is truncated (" + file.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.getInt(8);
        if (version != FORMAT_VERSION) {
            throw new SnapshotFormatException("snapshot format version " + Integer.toUnsignedString(version)
                    + "; this hyper-gen reads version " + FORMAT_VERSION);
        }
        int reserved = b.getInt(12);
        if (reserved != 0) {
            // Zero in this version: anything else is a writer this reader does not know.
            throw new SnapshotFormatException(String.format("the state file's header has 0x%08x where this format has zero",
                    reserved));
        }
        long length = b.getLong(16);
        if (length < 0 || length > MAX_PAYLOAD) {
            throw new SnapshotFormatException("the state claims " + Long.toUnsignedString(length) + " bytes, more than "
                    + MAX_PAYLOAD);
        }
        if (file.length != HEADER + length + DIGEST) {
            throw new SnapshotFormatException(file.length < HEADER + length + DIGEST
                    ? "the state file is truncated (" + file.length + " of " + (HEADER + length + DIGEST) + " bytes)"
                    : "the state file has " + (file.length - HEADER - length - DIGEST) + " bytes after its end");
        }
        int end = HEADER + (int) length;
        if (!Arrays.equals(sha256(file, end), 0, DIGEST, file, end, end + DIGEST)) {
            throw new SnapshotFormatException("the state file is damaged (its checksum does not match)");
        }
        return Arrays.copyOfRange(file, HEADER, end);
    }

    public static void write(Path target, byte[] payload) throws IOException {
        byte[] framed = frame(payload);
        PrivateFile.write(target, out -> {
            ByteBuffer b = ByteBuffer.wrap(framed);
            while (b.hasRemaining()) {
                out.write(b);
            }
        });
    }

    public static byte[] read(Path file) throws IOException, SnapshotFormatException {
        long size = Files.size(file);
        if (size > HEADER + MAX_PAYLOAD + DIGEST) {
            throw new SnapshotFormatException("the state file has " + size + " bytes, more than a snapshot holds");
        }
        return unframe(Files.readAllBytes(file));
    }

    private static byte[] sha256(byte[] data, int length) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(data, 0, length);
            return d.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}
