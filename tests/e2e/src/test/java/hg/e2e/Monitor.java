package hg.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** QEMU's human monitor (HMP) on a unix socket: one command at a time, answer up to the next prompt. */
final class Monitor implements AutoCloseable {
    private static final String PROMPT = "(qemu) ";
    private final SocketChannel channel;

    private Monitor(SocketChannel channel) {
        this.channel = channel;
    }

    /** Connects once QEMU has made the socket; gives up after {@code timeout}. */
    static Monitor connect(Path socket, Duration timeout, ProcessHandle qemu) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (Files.exists(socket)) {
                try {
                    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    Monitor m = new Monitor(ch);
                    m.readToPrompt(deadline);
                    return m;
                } catch (IOException e) {
                    // Not listening yet.
                }
            }
            if (!qemu.isAlive()) {
                throw new AssertionError("QEMU exited before its monitor socket " + socket + " came up");
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("QEMU's monitor socket " + socket + " did not come up in " + timeout);
            }
            sleep(50);
        }
    }

    /** Runs one HMP command and returns its answer (without the echo and the prompt). */
    synchronized String command(String command, Duration timeout) {
        try {
            channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send '" + command + "' to the QEMU monitor", e);
        }
        String answer = readToPrompt(System.nanoTime() + timeout.toNanos());
        // HMP echoes the command with terminal escapes first; the answer follows its line.
        int nl = answer.indexOf('\n');
        return (nl < 0 ? "" : answer.substring(nl + 1)).replace("\r", "").strip();
    }

    private String readToPrompt(long deadline) {
        StringBuilder sb = new StringBuilder();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try {
            channel.configureBlocking(false);
            while (!sb.toString().endsWith(PROMPT)) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) {
                    throw new AssertionError("the QEMU monitor closed; it said: " + sb);
                }
                if (n == 0) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("the QEMU monitor did not answer in time; it said: " + sb);
                    }
                    sleep(10);
                    continue;
                }
                sb.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the QEMU monitor", e);
        }
        return sb.substring(0, sb.length() - PROMPT.length());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing a dead socket.
        }
    }
}
