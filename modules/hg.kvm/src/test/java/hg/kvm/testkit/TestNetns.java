package hg.kvm.testkit;

import hg.kvm.net.NetNamespace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A network namespace of the test's own ({@code ip netns add hgtest-<random>}), deleted on
 * close with everything in it. Code runs inside it on a fresh thread that entered it, so
 * nothing the tests make ever touches the host's interfaces. With
 * {@code @ExtendWith(TestNetns.PerTest.class)} every test gets one as its {@code TestNetns}
 * parameter.
 */
public final class TestNetns implements AutoCloseable {

    /** A namespace per test, made before it (or the test is skipped) and deleted after it. */
    public static final class PerTest implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
        private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(TestNetns.class);

        @Override
        public void beforeEach(ExtensionContext context) {
            context.getStore(STORE).put(TestNetns.class, create());
        }

        @Override
        public void afterEach(ExtensionContext context) {
            TestNetns ns = context.getStore(STORE).remove(TestNetns.class, TestNetns.class);
            if (ns != null) {
                ns.close();
            }
        }

        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == TestNetns.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return context.getStore(STORE).get(TestNetns.class, TestNetns.class);
        }
    }

    final String name;

    private TestNetns(String name) {
        this.name = name;
    }

    /** Makes a fresh namespace; skips the test where namespaces cannot be made (no root, no iproute2). */
    public static TestNetns create() {
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip"))
                || Files.isExecutable(Path.of("/usr/bin/ip")), "iproute2's ip is not installed");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "/dev/net/tun is missing (no TUN/TAP driver)");
        String name = "hgtest-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        Result r = command("ip", "netns", "add", name);
        assumeTrue(r.rc == 0, "cannot create a network namespace (needs CAP_SYS_ADMIN): " + r.output);
        return new TestNetns(name);
    }

    /** Its name, for {@code ip netns exec} and {@code ip ... netns}. */
    public String name() {
        return name;
    }

    Path file() {
        return Path.of("/var/run/netns", name);
    }

    /** Runs {@code body} on a new thread inside the namespace and returns its result. */
    public <T> T run(Callable<T> body) throws Exception {
        FutureTask<T> task = new FutureTask<>(() -> {
            NetNamespace.enterOnThisThread(file());
            return body.call();
        });
        Thread t = Thread.ofPlatform().name(name).start(task);
        try {
            return task.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        } finally {
            t.join();
        }
    }

    /** {@code ip -n NAME args...}: its output; fails the test when ip fails. */
    public String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
        cmd.addAll(List.of(args));
        Result r = command(cmd.toArray(String[]::new));
        if (r.rc != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + r.output);
        }
        return r.output;
    }

    /** {@code ip netns exec NAME cmd...}: a program run inside the namespace; its output, or the test fails. */
    public String exec(String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(cmd));
        Result r = command(full.toArray(String[]::new));
        if (r.rc != 0) {
            throw new AssertionError(String.join(" ", full) + " failed: " + r.output);
        }
        return r.output;
    }

    /**
     * Waits (5 s at most) until bridge port {@code port} forwards. A TAP whose link just came up
     * is enabled as a port only once the kernel's link watcher has seen its carrier, up to a
     * second later while namespaces come and go; until then the bridge drops what it sends.
     */
    public void awaitForwarding(String port) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        String details = ip("-d", "-o", "link", "show", "dev", port);
        while (!details.contains("bridge_slave state forwarding")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("bridge port " + port + " does not forward: " + details);
            }
            Thread.sleep(10);
            details = ip("-d", "-o", "link", "show", "dev", port);
        }
    }

    /** Interface names in the namespace. */
    public List<String> links() {
        List<String> names = new ArrayList<>();
        for (String line : ip("-o", "link", "show").split("\n")) {
            String[] f = line.split(":\\s+");
            if (f.length > 1) {
                names.add(f[1].replaceAll("@.*", ""));
            }
        }
        return names;
    }

    @Override
    public void close() {
        command("ip", "netns", "del", name);
    }

    record Result(int rc, String output) {
    }

    static Result command(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            // Every pipe closed here, not when the Process is collected: tests count the JVM's fds.
            p.getOutputStream().close();
            String output;
            try (var out = p.getInputStream()) {
                output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out");
            }
            return new Result(p.exitValue(), output);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
