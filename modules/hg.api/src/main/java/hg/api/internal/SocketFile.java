package hg.api.internal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The socket file of a daemon: claimed (a live daemon there is refused, a dead one's file removed), bound in
 * a private directory and made 0600 before it is moved into place, so no other user ever sees it open; and
 * removed at the end only while it is still this daemon's.
 */
public final class SocketFile {
    private static final AtomicInteger STAGINGS = new AtomicInteger();

    private final Path path;
    private final Object fileKey;

    private SocketFile(Path path, Object fileKey) {
        this.path = path;
        this.fileKey = fileKey;
    }

    /**
     * Binds a socket at {@code socket}: {@code bind} is given a path in a private directory and listens there;
     * that file is then moved to {@code socket}.
     */
    public static SocketFile bind(Path socket, BindAt bind) throws IOException {
        Path target = socket.toAbsolutePath();
        claim(target);
        Path staging = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + "."
                + STAGINGS.incrementAndGet());
        Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            Path bound = staging.resolve("s");
            bind.listen(bound);
            Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
            Files.move(bound, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            deleteQuietly(staging.resolve("s"), e -> {});
            deleteQuietly(staging, e -> {});
        }
        return new SocketFile(target, key(target));
    }

    /** What listens at a path it is given. */
    @FunctionalInterface
    public interface BindAt {
        void listen(Path path) throws IOException;
    }

    public Path path() {
        return path;
    }

    /** Removes the socket file if it is still the one this daemon bound. */
    public void remove() {
        try {
            if (Objects.equals(key(path), fileKey)) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // gone already, or another daemon's now: either way not ours to remove
        }
    }

    private static Object key(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /** Refuses a path where a daemon answers or that is no socket; removes a dead daemon's socket file. */
    private static void claim(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        BasicFileAttributes a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isOther()) {
            throw new IOException(socket + " exists and is not a socket: give another path for the daemon's socket");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            throw new IOException("a daemon already listens on " + socket + ": stop it first, or give another socket path");
        } catch (ConnectException e) {
            Files.deleteIfExists(socket); // refused: the daemon that made it is gone
        }
    }

    private static void deleteQuietly(Path p, Consumer<IOException> onFailure) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            onFailure.accept(e);
        }
    }
}
