package hg.imagetools;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** The bytes of a regular file, readable as often as needed. */
public interface Content {
    long size();

    InputStream open() throws IOException;

    static Content of(byte[] bytes) {
        byte[] copy = bytes.clone();
        return new Content() {
            @Override public long size() { return copy.length; }
            @Override public InputStream open() { return new ByteArrayInputStream(copy); }
        };
    }

    /** A file on disk whose size is known (read at write time; it must not change meanwhile). */
    static Content ofFile(Path file, long size) {
        return new Content() {
            @Override public long size() { return size; }
            @Override public InputStream open() throws IOException { return Files.newInputStream(file); }
        };
    }
}
