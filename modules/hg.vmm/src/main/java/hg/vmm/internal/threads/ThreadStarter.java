package hg.vmm.internal.threads;

/** How a VM's threads (vCPUs, I/O) are started: a new platform thread each, or one a {@link WorkerPool} kept. */
@FunctionalInterface
public interface ThreadStarter {
    /** Runs {@code body} on a platform thread named {@code name}; throws when no thread can be had. */
    Started start(String name, Runnable body);

    /** A new daemon platform thread per body. */
    ThreadStarter NEW_THREADS = (name, body) -> {
        Started started = new Started(body);
        Thread.ofPlatform().name(name).daemon().start(() -> started.runHere("hg-ended"));
        return started;
    };
}
