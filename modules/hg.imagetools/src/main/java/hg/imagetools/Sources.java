package hg.imagetools;

import hg.imagetools.internal.DirectorySource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a source into an {@link FsTree}: a directory, or an archive recognised by its content. */
public final class Sources {
    private Sources() {}

    public static FsTree read(Path source) throws IOException {
        if (!Files.exists(source, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            throw new ImageToolsException.BadSource("no such file or directory: " + source);
        if (Files.isDirectory(source)) return DirectorySource.read(source);
        throw new ImageToolsException.BadSource("not a directory or a known archive: " + source);
    }
}
