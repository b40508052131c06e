package hg.kvm.net;

import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Network namespaces: moves the calling thread into one (setns), so the TAPs, bridges and
 * sockets it makes afterwards live there. Used to keep a VM's host-side network, or a
 * test's, away from the host's own interfaces.
 */
public final class NetNamespace {
    private NetNamespace() {}

    static final int CLONE_NEWNET = 0x40000000;

    /**
     * Moves the calling thread (only it) into the network namespace {@code nsFile} names, e.g.
     * {@code /var/run/netns/NAME} or {@code /proc/PID/ns/net}. Use a thread of your own: the
     * thread stays there.
     */
    public static void enterOnThisThread(Path nsFile) {
        int fd = Libc.open(nsFile.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int r = (int) Libc.SETNS.invokeExact(state, fd, CLONE_NEWNET);
            if (r < 0) {
                int errno = Libc.errno(state);
                throw new NetSetupException("setns " + nsFile, errno, NetSetupException.hint(errno));
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        } finally {
            Libc.close(fd);
        }
    }
}
