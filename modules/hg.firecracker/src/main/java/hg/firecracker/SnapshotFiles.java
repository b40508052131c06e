package hg.firecracker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Firecracker's two snapshot files on hyper-gen's snapshot directory: {@code snapshot_path} is the directory
 * (state, memory, copies of the writable disks) and {@code mem_file_path} a symbolic link to the memory in it,
 * so a client that keeps both paths finds both, and a load is given the pair it made.
 */
record SnapshotFiles(Path dir, Path memory) {
    static final String MEMORY = "memory";

    static SnapshotFiles of(String snapshotPath, String memPath) {
        return new SnapshotFiles(Path.of(snapshotPath).toAbsolutePath(), Path.of(memPath).toAbsolutePath());
    }

    /** Before a snapshot is written: a memory path inside the directory can only be the memory itself. */
    void checkForCreate() throws FcException {
        if (memory.startsWith(dir) && !memory.equals(dir.resolve(MEMORY))) {
            throw new FcException("Create snapshot error: mem_file_path must be outside snapshot_path, or "
                    + dir.resolve(MEMORY));
        }
    }

    /** After it is written: the memory path made a link to the memory in the directory. */
    void linkMemory() throws FcException {
        if (memory.equals(dir.resolve(MEMORY))) {
            return;
        }
        try {
            Files.deleteIfExists(memory);
            Files.createSymbolicLink(memory, dir.resolve(MEMORY));
        } catch (IOException e) {
            throw new FcException("Create snapshot error: the snapshot is in " + dir + ", but " + memory
                    + " could not be linked to its memory: " + e.getMessage());
        }
    }

    /** Before a load: the memory path given is the directory's memory (itself or the link made to it). */
    void checkForLoad() throws FcException {
        try {
            if (!memory.toRealPath().equals(dir.resolve(MEMORY).toRealPath())) {
                throw new FcException("Load snapshot error: " + memory + " is not the memory of the snapshot in " + dir
                        + " (hyper-gen keeps it there, as " + dir.resolve(MEMORY) + ")");
            }
        } catch (IOException e) {
            throw new FcException("Load snapshot error: " + e.getMessage() + ": No such file or directory (os error 2)");
        }
    }
}
