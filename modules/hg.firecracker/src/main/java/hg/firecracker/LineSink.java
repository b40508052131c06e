package hg.firecracker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Lines to a file or a named pipe the client made (Firecracker's logger and metrics take either, and do not
 * create them). A pipe is opened for reading and writing, so opening does not wait for a reader; lines are
 * written by a thread of their own, so a reader that stops reading holds back no request: when the queue is
 * full a line is dropped and counted.
 */
final class LineSink implements AutoCloseable {
    private static final int QUEUE = 1024;
    private static final String END = new String("end"); // identity marks the end of the queue

    private final Path path;
    private final FileChannel channel;
    private final BlockingQueue<String> lines = new ArrayBlockingQueue<>(QUEUE);
    private final CountDownLatch drained = new CountDownLatch(1);
    private volatile long dropped;

    private LineSink(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
        Thread.ofPlatform().daemon().name("fc-sink-" + path.getFileName()).start(this::drain);
    }

    /** Opens {@code path}, which must exist: a regular file (appended to) or a named pipe. */
    static LineSink open(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException(path + ": No such file or directory (os error 2)");
        }
        boolean pipe = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .isOther();
        FileChannel ch = pipe
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        return new LineSink(path, ch);
    }

    Path path() {
        return path;
    }

    /** Queues {@code line} (a newline is added); false when it was dropped. */
    boolean write(String line) {
        if (!lines.offer(line)) {
            dropped++;
            return false;
        }
        return true;
    }

    long dropped() {
        return dropped;
    }

    private void drain() {
        try {
            for (String line = lines.take(); line != END; line = lines.take()) {
                ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            }
        } catch (IOException | InterruptedException e) {
            // the reader went away or we are ending: nothing more can be told there
        } finally {
            drained.countDown();
        }
    }

    /** Writes what is queued (waiting a second at most for a slow reader), then closes. */
    @Override
    public void close() {
        lines.offer(END);
        try {
            drained.await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            channel.close();
        } catch (IOException e) {
            // closing: nothing to tell
        }
    }
}
