package hg.host.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Carries a VM's console output to a screen on a thread of its own, so a slow screen (a serial line at
 * 115200 baud) never holds up the VM's thread that produced the output. When the screen falls too far behind, output
 * is dropped and the number of dropped bytes is told at the end.
 */
public final class ConsolePump implements AutoCloseable {
    private static final byte[] END = new byte[0];
    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(8192);
    private final OutputStream sink;
    private final Thread writer;
    private volatile long dropped;

    public ConsolePump(OutputStream sink) {
        this.sink = sink;
        this.writer = Thread.ofPlatform().daemon().name("hg-console-pump").start(this::drain);
    }

    /** Called on the producing thread: never blocks. */
    public void offer(byte[] bytes) {
        if (bytes.length > 0 && !queue.offer(bytes)) {
            dropped += bytes.length;
        }
    }

    public long dropped() {
        return dropped;
    }

    private void drain() {
        try {
            while (true) {
                byte[] b = queue.take();
                if (b == END) {
                    return;
                }
                try {
                    sink.write(b);
                } catch (IOException e) {
                    // the screen is gone: keep draining so the VM side never waits
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes what is queued, then stops. */
    @Override
    public void close() {
        try {
            if (!queue.offer(END, 2, TimeUnit.SECONDS)) {
                writer.interrupt();
            }
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            writer.interrupt();
            Thread.currentThread().interrupt();
        }
    }
}
