package hg.bench;

import hg.kvm.sys.Confinement;
import hg.kvm.sys.VmmRoots;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * hyper-gen's side of a figure, run confined as the shipped daemon ({@code --confine}) is: Landlock on the
 * same roots ({@link VmmRoots}: the guest directories and the devices a VMM opens), no_new_privs, the
 * capability bound and the seccomp deny-list that refuses exec. The daemon gets these on every thread by
 * an exec of itself; a benchmark must go on starting its peers' processes, so here one thread confines
 * itself and runs the VMM's work, and every thread the VMM starts from it (vCPUs, I/O, devices, the API
 * server's) inherits the confinement. Each system call of the VMM's threads pays the same filter and each
 * open the same Landlock checks as in the product. What differs: the thread keeps its effective
 * capabilities (the daemon's exec leaves it CAP_NET_ADMIN alone), which costs nothing per call; and the
 * JVM's own threads (JIT, GC) are not confined.
 *
 * <p>Copied into the nest beside {@link NestProbe} (so no nested classes). Processes the VMM's side needs
 * (a host program at the far end of a guest's stream) are started by an unconfined thread: {@link #spawn}.
 */
final class Confined implements AutoCloseable {
    /**
     * Started at once, by the thread that first uses this class (the benchmark's main thread, before it
     * confines anything): a thread made later by a confined one would be confined too.
     */
    private static final ExecutorService FREE = unconfinedThread();

    private final ExecutorService thread = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("bench-confined").daemon().factory());
    private volatile Thread confinedThread;
    private final String state;

    private Confined(VmmRoots roots) {
        Confinement.Support support = Confinement.support();
        String s;
        if (support.landlockAbi() <= 0 || !support.seccomp()) {
            s = "unconfined: " + String.join("; ", support.lines());
        } else {
            try {
                s = call(() -> {
                    String line = "confined as the daemon: "
                            + Confinement.confineCallingThread(roots.readOnly(), roots.readWrite()).describe();
                    confinedThread = Thread.currentThread();
                    return line;
                });
            } catch (Exception e) {
                thread.shutdownNow();
                throw new IllegalStateException("confining hyper-gen's side failed: " + e.getMessage(), e);
            }
        }
        state = s;
    }

    /**
     * A thread confined to {@code roots}, writable directories made first (Landlock's rules are on
     * existing files). Where the kernel has no Landlock or no seccomp filters it runs unconfined and
     * {@link #state} says so, as the daemon does then.
     */
    static Confined start(VmmRoots roots) throws IOException {
        for (Path d : roots.readWrite()) {
            if (!d.startsWith("/dev") && !d.startsWith("/proc") && !d.equals(VmmRoots.RUNTIME)) {
                Files.createDirectories(d);
            }
        }
        return new Confined(roots);
    }

    /**
     * A confined thread for a figure measured on this machine, on the roots of {@code kernelDir},
     * {@code imageDir} (either may be null) and {@code writable}; says on stderr what is in force.
     */
    static Confined forFigure(String figure, Path kernelDir, Path imageDir, List<Path> writable) throws IOException {
        Confined side = start(roots(kernelDir, imageDir, writable));
        System.err.println("bench: " + figure + ": hyper-gen " + side.state());
        return side;
    }

    /** The roots for hyper-gen's side: the guest directories the figure uses, as the daemon's would be. */
    static VmmRoots roots(Path kernelDir, Path imageDir, List<Path> writable) {
        return VmmRoots.of(kernelDir, imageDir, writable, System.getProperty("java.home"),
                System.getProperty("jdk.module.path", System.getProperty("java.class.path")), List.of());
    }

    /** One line: what confines hyper-gen's side. */
    String state() {
        return state;
    }

    /** Runs {@code work} on the confined thread and returns its result; its exceptions come out as they were. */
    <T> T call(Callable<T> work) throws Exception {
        if (Thread.currentThread() == confinedThread) {
            return work.call();
        }
        try {
            return thread.submit(work).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** Runs {@code work} on the confined thread. */
    void run(Runnable work) throws Exception {
        call(() -> {
            work.run();
            return null;
        });
    }

    private static ExecutorService unconfinedThread() {
        java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0,
                java.util.concurrent.TimeUnit.MILLISECONDS, new java.util.concurrent.LinkedBlockingQueue<>(),
                Thread.ofPlatform().name("bench-unconfined").daemon().factory());
        pool.prestartAllCoreThreads();
        return pool;
    }

    /** Starts {@code pb} from an unconfined thread: the confined ones may not exec. */
    static Process spawn(ProcessBuilder pb) throws IOException {
        try {
            return FREE.submit(pb::start).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted starting " + pb.command().getFirst());
        }
    }

    /** Ends the confined thread; the VMM's threads it started end with their VMs. */
    @Override
    public void close() {
        thread.shutdown();
    }
}
