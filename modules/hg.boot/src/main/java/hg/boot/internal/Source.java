package hg.boot.internal;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * Random-access bytes of a kernel or initrd: a byte array or an open file. Loaders read only
 * the headers they need and copy segments straight into guest memory, so a large vmlinux
 * (with debug info) is never read whole. Tests wrap it to count what a classifier reads.
 */
public interface Source {

    long size();

    /** Fills {@code dst} completely from {@code position}; EOFException if the source is shorter. */
    void readFully(long position, ByteBuffer dst) throws IOException;

    /** Reads {@code length} bytes at {@code position} as a little-endian buffer. */
    default ByteBuffer read(long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        readFully(position, b);
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Copies {@code dst.byteSize()} bytes from {@code position} into {@code dst} (guest memory). */
    default void copyTo(long position, MemorySegment dst) throws IOException {
        long chunk = 1L << 30;
        for (long done = 0; done < dst.byteSize(); done += chunk) {
            long n = Math.min(chunk, dst.byteSize() - done);
            readFully(position + done, dst.asSlice(done, n).asByteBuffer());
        }
    }

    static Source of(byte[] bytes) {
        return new ArraySource(bytes);
    }

    static Source of(FileChannel channel) throws IOException {
        return new ChannelSource(channel, channel.size());
    }

    record ArraySource(byte[] bytes) implements Source {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void readFully(long position, ByteBuffer dst) throws IOException {
            if (position < 0 || position > bytes.length || dst.remaining() > bytes.length - position) {
                throw new EOFException("read of " + dst.remaining() + " bytes at " + position
                        + " past the end (" + bytes.length + " bytes)");
            }
            dst.put(bytes, (int) position, dst.remaining());
        }
    }

    record ChannelSource(FileChannel channel, long size) implements Source {
        @Override
        public void readFully(long position, ByteBuffer dst) throws IOException {
            if (position < 0 || position > size || dst.remaining() > size - position) {
                throw new EOFException("read of " + dst.remaining() + " bytes at " + position
                        + " past the end (" + size + " bytes)");
            }
            long p = position;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, p);
                if (n < 0) {
                    throw new EOFException("file shrank while reading at " + p);
                }
                p += n;
            }
        }
    }
}
