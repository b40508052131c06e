package hg.vmm.internal.snapshot;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file that holds guest secrets: mode 0600 from its creation, under a temporary name
 * in the target's directory, synced, then renamed over the target. A reader never sees half a
 * file, and a file some running VM maps is replaced, never written in place (a mapping of a
 * truncated file would fault inside KVM_RUN).
 */
public final class PrivateFile {
    private PrivateFile() {
    }

    @FunctionalInterface
    public interface Body {
        void write(FileChannel out) throws IOException;
    }

    public static void write(Path target, Body body) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path temp = dir.resolve("." + target.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try (FileChannel out = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            body.write(out);
            out.force(true);
        } catch (Throwable e) {
            // An Error too (out of memory in the body): a partial copy of guest memory must not stay behind.
            removeAfter(e, temp);
            throw e;
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(temp);
            throw new IOException("cannot rename a file into " + dir + " atomically", e);
        } catch (IOException e) {
            removeAfter(e, temp);
            throw e;
        }
    }

    /** Removes the temporary file; a failure to do so is added to, never put in place of, the first. */
    private static void removeAfter(Throwable failure, Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
