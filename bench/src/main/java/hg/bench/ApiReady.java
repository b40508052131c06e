package hg.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * api_ready_ms: the build output's {@code firecracker} launcher (build/firecracker/bin/firecracker, a jlink
 * runtime with its AOT cache) started with {@code --api-sock} until its first {@code GET /} is answered, as a
 * client that starts one process per VM waits for it; the peer is a plain {@code java -version} of the JDK the
 * build runs on, started until it ended. The two are timed in turns, so both see the same machine.
 */
final class ApiReady implements Figure {
    static final String NAME = "api_ready_ms";
    static final String PEER = "java -version (the build's JDK, started to its end)";
    static final String GOAL = "<= 150 ms";
    private static final byte[] GET = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Result measure(Options options) throws Exception {
        String root = System.getenv().getOrDefault("HG_ROOT", ".");
        Path launcher = Path.of(root, "build", "firecracker", "bin", "firecracker");
        if (!Files.isExecutable(launcher)) {
            return Result.unmeasured(NAME, "ms", PEER, GOAL, launcher + " is missing: ./hg build makes it");
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path dir = Files.createDirectories(options.out().resolve("api-ready"));
        int warmup = 3;
        int runs = options.quick() ? 10 : 30;
        List<Double> ready = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        for (int i = 0; i < warmup + runs; i++) {
            double r = ready(launcher, dir.resolve("fc" + i + ".sock"));
            double p = plainStart(java);
            if (i >= warmup) {
                ready.add(r);
                plain.add(p);
            }
        }
        Stats r = Stats.of(ready.stream().mapToDouble(Double::doubleValue).toArray());
        Stats p = Stats.of(plain.stream().mapToDouble(Double::doubleValue).toArray());
        System.err.printf(Locale.ROOT, "bench: %s: firecracker --api-sock to GET / answered %.1f ms (%.1f..%.1f), "
                + "java -version %.1f ms (%.1f..%.1f), %d each%n", NAME, r.median(), r.min(), r.max(), p.median(),
                p.min(), p.max(), r.runs());
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", p.min());
        extra.put("peer_max", p.max());
        extra.put("note", "wall time from the process's start; the socket is tried every 0.5 ms until it answers");
        return Result.measured(NAME, "ms", r, p.median(), PEER, GOAL, extra);
    }

    /** Starts the launcher and asks GET / until the answer's status line arrives; then ends it (SIGTERM). */
    private static double ready(Path launcher, Path socket) throws Exception {
        Files.deleteIfExists(socket);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(launcher.toString(), "--api-sock", socket.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = t0 + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                if (answered(socket)) {
                    return (System.nanoTime() - t0) / 1e6;
                }
                if (!p.isAlive()) {
                    throw new IllegalStateException(launcher + " ended with " + p.exitValue() + " before it answered");
                }
                Thread.sleep(0, 500_000);
            }
            throw new IllegalStateException(launcher + " did not answer on " + socket + " within 30 s");
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private static boolean answered(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(GET));
            ByteBuffer in = ByteBuffer.allocate(512);
            while (ch.read(in) >= 0 && in.position() < 12) {
                // the status line is all that is waited for
            }
            return new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200");
        } catch (IOException e) {
            return false;
        }
    }

    private static double plainStart(Path java) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(java.toString(), "-version").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("java -version did not end within 30 s");
        }
        return (System.nanoTime() - t0) / 1e6;
    }
}
