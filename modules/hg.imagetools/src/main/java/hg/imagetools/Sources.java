package hg.imagetools;

import hg.imagetools.internal.ArchiveSources;
import hg.imagetools.internal.Budget;
import hg.imagetools.internal.DirectorySource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Reads a source into an {@link FsTree}: a directory (an OCI image layout directory is unpacked
 * as an image), or a file recognised by its content: tar (plain, gzip, xz, bzip2, zstd), cpio,
 * a Debian .deb (its data.tar), or a container image tarball (`docker save` or OCI layout;
 * layers applied in order with their whiteouts).
 */
public final class Sources {
    private Sources() {}

    public static FsTree read(Path source) throws IOException { return read(source, Limits.DEFAULT); }

    /** Reads {@code source}, stopping with {@link ImageToolsException.OverLimit} at any of {@code limits}. */
    public static FsTree read(Path source, Limits limits) throws IOException {
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS))
            throw new ImageToolsException.BadSource("no such file or directory: " + source);
        if (Files.isDirectory(source)) {
            if (Files.isRegularFile(source.resolve("oci-layout")) && Files.isRegularFile(source.resolve("index.json")))
                return ArchiveSources.readImageDir(source, limits);
            return DirectorySource.read(source, limits);
        }
        if (!Files.isReadable(source)) throw new ImageToolsException.BadSource("cannot read " + source + ": permission denied");
        return ArchiveSources.readFile(source, limits);
    }

    /** A tar stream (any supported compression). */
    public static FsTree readTar(InputStream in, String name) throws IOException {
        FsTree t = new FsTree();
        try {
            hg.imagetools.internal.TarSource.readInto(t, in, name, new Budget(Limits.DEFAULT));
            return t;
        } catch (RuntimeException | IOException e) {
            t.close();
            throw e;
        }
    }

    /** A cpio stream (any supported compression). */
    public static FsTree readCpio(InputStream in, String name) throws IOException {
        FsTree t = new FsTree();
        try {
            ArchiveSources.readCpio(t, in, name, new Budget(Limits.DEFAULT));
            return t;
        } catch (RuntimeException | IOException e) {
            t.close();
            throw e;
        }
    }
}
