package hg.imagetools.internal;

import hg.imagetools.Content;
import hg.imagetools.ImageToolsException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Holds file bodies read from streams: in the heap up to a budget, then in one temporary file. */
public final class BlobStore implements AutoCloseable {
    private static final long HEAP_BUDGET = 64L << 20;
    private long heapUsed;
    private Path spillPath;
    private FileChannel spill;

    public Content store(InputStream in, long size) throws IOException {
        if (size < 0) throw new ImageToolsException.BadSource("negative entry size " + size);
        if (size <= Integer.MAX_VALUE - 16 && heapUsed + size <= HEAP_BUDGET) {
            byte[] b = in.readNBytes((int) size);
            if (b.length != size) throw new ImageToolsException.BadSource("archive entry ends early (" + b.length + " of " + size + " bytes)");
            heapUsed += size;
            return new Content() {
                @Override public long size() { return b.length; }
                @Override public InputStream open() { return new ByteArrayInputStream(b); }
            };
        }
        if (spill == null) {
            spillPath = Files.createTempFile("hg-imagetools-", ".blobs");
            spill = FileChannel.open(spillPath, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.DELETE_ON_CLOSE);
        }
        long offset = spill.size();
        byte[] buf = new byte[1 << 16];
        long left = size;
        long pos = offset;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) throw new ImageToolsException.BadSource("archive entry ends early (" + (size - left) + " of " + size + " bytes)");
            ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
            while (bb.hasRemaining()) pos += spill.write(bb, pos);
            left -= n;
        }
        FileChannel ch = spill;
        return new Content() {
            @Override public long size() { return size; }
            @Override public InputStream open() {
                return new InputStream() {
                    long p = offset, end = offset + size;
                    @Override public int read() throws IOException {
                        byte[] one = new byte[1];
                        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                    }
                    @Override public int read(byte[] b, int off, int len) throws IOException {
                        if (p >= end) return -1;
                        int n = ch.read(ByteBuffer.wrap(b, off, (int) Math.min(len, end - p)), p);
                        if (n < 0) return -1;
                        p += n;
                        return n;
                    }
                };
            }
        };
    }

    @Override
    public void close() {
        try {
            if (spill != null) spill.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            spill = null;
        }
    }
}
