package hg.vmm.internal.virtio.block;

import hg.kvm.sys.VectoredIo;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/** A raw image used as is: every transfer goes straight between the caller's buffer and the file. */
public final class ImageBackend implements BlockBackend {

    private final DiskImage image;
    private final FileChannel channel;
    private final long size;
    /** Whether the file's file system answers a read that must not wait (RWF_NOWAIT). */
    private volatile boolean canTell = true;

    private ImageBackend(DiskImage image, long size) {
        this.image = image;
        this.channel = image.channel();
        this.size = size;
    }

    /** Takes over {@code image}: closing this back end closes it. */
    public static ImageBackend of(DiskImage image) throws IOException {
        return new ImageBackend(image, image.size());
    }

    public DiskImage image() {
        return image;
    }

    @Override
    public int read(ByteBuffer dst, long offset) throws IOException {
        int done = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, offset + done);
            if (n < 0) {
                break;   // the file shrank under us since it was opened
            }
            done += n;
        }
        return done;
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        long position = offset;
        while (src.hasRemaining()) {
            position += channel.write(src, position);
        }
    }

    /** One preadv for the whole request, where the channel would take a call per page. */
    @Override
    public long read(List<MemorySegment> dst, long offset) throws IOException {
        return VectoredIo.read(image.fd(), dst, offset);
    }

    /**
     * Where the file system cannot tell whether a read would wait (tmpfs before Linux 6.6), it keeps
     * its data in memory anyway: from then on every read counts as cached.
     */
    @Override
    public long readIfCached(List<MemorySegment> dst, long offset) throws IOException {
        if (!canTell) {
            return read(dst, offset);
        }
        try {
            return VectoredIo.readIfCached(image.fd(), dst, offset);
        } catch (UnsupportedOperationException e) {
            canTell = false;
            return read(dst, offset);
        }
    }

    @Override
    public void write(List<MemorySegment> src, long offset) throws IOException {
        VectoredIo.write(image.fd(), src, offset);
    }

    @Override
    public void flush() throws IOException {
        if (!image.readOnly()) {
            channel.force(false);
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return image.readOnly();
    }

    @Override
    public Path path() {
        return image.path();
    }

    @Override
    public void close() {
        image.close();
    }
}
