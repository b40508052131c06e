package hg.vmm.internal.virtio.block;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** The cause of a file error in words: NIO's own messages are often just the path. */
final class IoErrors {
    private IoErrors() {
    }

    static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException n -> (n.getFile() != null ? n.getFile() : "a file") + " or its directory does not exist";
            case AccessDeniedException a -> "permission denied on " + (a.getFile() != null ? a.getFile() : "a file");
            case FileAlreadyExistsException x -> (x.getFile() != null ? x.getFile() : "a file") + " already exists";
            case FileSystemException f when f.getReason() != null -> f.getReason()
                    + (f.getFile() != null ? " (" + f.getFile() + ")" : "");
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }
}
