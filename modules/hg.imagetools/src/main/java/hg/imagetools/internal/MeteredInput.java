package hg.imagetools.internal;

import hg.imagetools.ImageToolsException;
import hg.imagetools.Limits;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.commons.compress.archivers.ArchiveEntry;
import org.apache.commons.compress.archivers.ArchiveInputStream;

/**
 * The stream an archive reader reads from: every byte counts against the input's {@link Budget},
 * and while the reader parses one entry's header the bytes it takes are capped at
 * {@link Limits#MAX_HEADER_BYTES}. Commons Compress keeps a header's long names and PAX records in
 * memory however long the archive says they are; this is what bounds them.
 */
final class MeteredInput extends FilterInputStream {
    private final Budget budget;
    private final String what;
    private long headerLeft = -1; // >= 0 while a header is being read
    private boolean inEntry;

    MeteredInput(InputStream in, Budget budget, String what) {
        super(in);
        this.budget = budget;
        this.what = what;
    }

    @Override public int read() throws IOException {
        int b = super.read();
        if (b >= 0) count(1);
        return b;
    }

    @Override public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) count(n);
        return n;
    }

    @Override public long skip(long n) throws IOException {
        long s = super.skip(n);
        if (s > 0) count(s);
        return s;
    }

    private void count(long n) {
        budget.unpacked(n, what);
        if (headerLeft < 0) return;
        headerLeft -= n;
        if (headerLeft < 0)
            throw new ImageToolsException.OverLimit(what + ": an entry header (long name, PAX records) over "
                    + Limits.size(Limits.MAX_HEADER_BYTES));
    }

    /**
     * The archive's next entry, counted against the entry cap. The rest of the current entry is read
     * first, outside the header cap: the reader would otherwise skip it by reading, as header bytes.
     */
    <E extends ArchiveEntry> E next(ArchiveInputStream<E> archive) throws IOException {
        if (inEntry) archive.transferTo(OutputStream.nullOutputStream());
        headerLeft = Limits.MAX_HEADER_BYTES;
        E e;
        try {
            e = archive.getNextEntry();
        } finally {
            headerLeft = -1;
        }
        inEntry = e != null;
        if (e != null) budget.entry(what);
        return e;
    }
}
