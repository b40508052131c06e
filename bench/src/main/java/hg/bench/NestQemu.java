package hg.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * QEMU as the nest's figures run it (copied into the nest beside {@link NestProbe}, so no nested classes):
 * started on {@code cmd}, its console's output gathered by a thread of its own.
 */
record NestQemu(Process process, Thread reader) {
    static NestQemu start(List<String> cmd, StringBuilder seen) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            byte[] buf = new byte[4096];
            try (var in = p.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    NestVsock.heard(seen, java.util.Arrays.copyOf(buf, n));
                }
            } catch (IOException ignored) {
                // QEMU was stopped
            }
        });
        return new NestQemu(p, reader);
    }

    /** Typing on QEMU's console. */
    Consumer<String> keyboard() {
        return line -> {
            try {
                process.getOutputStream().write(line.getBytes(StandardCharsets.US_ASCII));
                process.getOutputStream().flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    void stop() throws InterruptedException {
        NestProbe.stop(process);
        reader.join(1000);
    }
}
