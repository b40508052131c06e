package hg.imagetools.internal;

import hg.imagetools.ImageToolsException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.tukaani.xz.XZInputStream;

/** Recognises a compressed stream by its magic bytes and unwraps it. */
public final class Decompress {
    public enum Kind { NONE, GZIP, XZ, BZIP2, ZSTD }

    private Decompress() {}

    /** A short reason for a read failure (some carry no message). */
    public static String reason(Throwable t) {
        if (t instanceof java.io.EOFException) return "unexpected end of data";
        if (t instanceof java.nio.file.AccessDeniedException) return "permission denied";
        if (t instanceof java.nio.file.NoSuchFileException) return "no such file or directory";
        if (t instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getReason();
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    public static Kind sniff(byte[] head, int n) {
        if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) return Kind.GZIP;
        if (n >= 6 && Arrays.equals(head, 0, 6, new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0}, 0, 6)) return Kind.XZ;
        if (n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h') return Kind.BZIP2;
        if (n >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f && (head[3] & 0xff) == 0xfd) return Kind.ZSTD;
        return Kind.NONE;
    }

    /**
     * The decompressed stream of {@code raw} for an archive reader, metered: every byte read counts
     * against {@code budget}, so a small compressed input cannot unpack without bound.
     */
    static MeteredInput open(InputStream raw, String what, Budget budget) throws IOException {
        return new MeteredInput(open(raw, what), budget, what);
    }

    /** The decompressed stream of {@code in} (returned as is when it is not compressed). */
    public static InputStream open(InputStream raw, String what) throws IOException {
        BufferedInputStream in = raw instanceof BufferedInputStream b ? b : new BufferedInputStream(raw, 1 << 16);
        in.mark(16);
        byte[] head = new byte[6];
        int n = in.readNBytes(head, 0, 6);
        in.reset();
        return switch (sniff(head, n)) {
            case NONE -> in;
            case GZIP -> new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
            case XZ -> new BufferedInputStream(new XZInputStream(in), 1 << 16);
            case BZIP2 -> new BufferedInputStream(new BZip2CompressorInputStream(in, true), 1 << 16);
            case ZSTD -> Zstd.decompress(in, what);
        };
    }

    /** zstd through the zstd program: there is no pure-Java zstd decoder published as a proper module. */
    static final class Zstd {
        static InputStream decompress(InputStream in, String what) throws IOException {
            Process p;
            try {
                p = new ProcessBuilder("zstd", "-dcq").redirectError(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                throw new ImageToolsException.BadSource(what + " is zstd-compressed; reading it needs the 'zstd' program on PATH");
            }
            Thread feeder = Thread.ofVirtual().start(() -> {
                try (var o = p.getOutputStream()) {
                    in.transferTo(o);
                } catch (IOException ignored) {
                    // the reader sees a truncated stream and reports it
                }
            });
            InputStream out = p.getInputStream();
            return new java.io.FilterInputStream(new BufferedInputStream(out, 1 << 16)) {
                @Override public void close() throws IOException {
                    super.close();
                    p.destroy();
                    try {
                        feeder.join();
                        p.waitFor();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }

                @Override public int read(byte[] b, int off, int len) throws IOException {
                    int r = super.read(b, off, len);
                    if (r < 0) checkExit();
                    return r;
                }

                private void checkExit() throws IOException {
                    try {
                        if (p.waitFor() != 0) throw new ImageToolsException.BadSource(what + ": broken zstd data");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    }
                }
            };
        }
    }
}
