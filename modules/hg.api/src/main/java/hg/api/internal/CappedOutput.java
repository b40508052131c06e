package hg.api.internal;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** What a command wrote, up to a bound: a guest that writes without end makes the daemon hold no more. */
final class CappedOutput extends OutputStream {
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final int max;
    private long dropped;

    CappedOutput(int max) {
        this.max = max;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        int room = Math.max(0, Math.min(len, max - kept.size()));
        kept.write(b, off, room);
        dropped += len - room;
    }

    String text() {
        return kept.toString(StandardCharsets.UTF_8);
    }

    long dropped() {
        return dropped;
    }
}
