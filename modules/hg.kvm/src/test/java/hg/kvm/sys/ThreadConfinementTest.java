package hg.kvm.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link Confinement#confineCallingThread}: the thread that calls it, and a thread it starts afterwards,
 * can neither exec nor open a file outside its roots, while they can inside them; the rest of the process
 * is untouched (the benchmarks rely on that to start their peers).
 */
class ThreadConfinementTest {
    @Test
    void theConfinedThreadAndItsChildrenAreHeldTheRestOfTheProcessIsNot(@TempDir Path tmp) throws Exception {
        Confinement.Support support = Confinement.support();
        assumeTrue(support.landlockAbi() > 0 && support.seccomp(), "this kernel has no Landlock or no seccomp filters");
        Path inside = Files.createDirectories(tmp.resolve("inside"));
        Path outside = Files.writeString(tmp.resolve("outside.txt"), "secret");
        Files.writeString(inside.resolve("ok.txt"), "fine");
        VmmRoots roots = VmmRoots.of(null, inside, List.of(), System.getProperty("java.home"),
                System.getProperty("jdk.module.path", System.getProperty("java.class.path")), List.of());
        List<String> seen = new ArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Confinement.State state = Confinement.confineCallingThread(roots.readOnly(), roots.readWrite());
                synchronized (seen) {
                    seen.add("state " + state.landlock() + " " + state.seccompDenied() + " " + state.everyThread());
                    seen.addAll(tries("confined", inside, outside));
                }
                Thread child = Thread.ofPlatform().start(() -> {
                    synchronized (seen) {
                        seen.addAll(tries("child", inside, outside));
                    }
                });
                child.join();
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        t.join();
        if (failed.get() != null) {
            throw new AssertionError(failed.get());
        }
        assertEquals(List.of("state true " + Seccomp.DENIED.size() + " false",
                "confined inside: read", "confined outside: refused", "confined exec: refused",
                "child inside: read", "child outside: refused", "child exec: refused"), seen);
        assertEquals(List.of("free inside: read", "free outside: read", "free exec: ran"), tries("free", inside, outside));
        assertTrue(Confinement.state().seccompFilters() == 0, "the test's own thread has no filter");
    }

    private static List<String> tries(String who, Path inside, Path outside) {
        List<String> lines = new ArrayList<>();
        lines.add(who + " inside: " + read(inside.resolve("ok.txt")));
        lines.add(who + " outside: " + read(outside));
        try {
            Process p = new ProcessBuilder("/bin/true").start();
            p.waitFor();
            lines.add(who + " exec: " + (p.exitValue() == 0 ? "ran" : "failed " + p.exitValue()));
        } catch (IOException e) {
            lines.add(who + " exec: refused");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            lines.add(who + " exec: interrupted");
        }
        return lines;
    }

    private static String read(Path file) {
        try {
            Files.readString(file);
            return "read";
        } catch (IOException e) {
            return "refused";
        }
    }
}
