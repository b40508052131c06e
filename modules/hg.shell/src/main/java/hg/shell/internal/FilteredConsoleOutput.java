package hg.shell.internal;

import java.io.IOException;
import java.io.OutputStream;

/** Where a guest's console output meets the operator's terminal: every byte goes through an {@link EscapeFilter}. */
final class FilteredConsoleOutput extends OutputStream {
    private final OutputStream terminal;
    private final EscapeFilter filter = new EscapeFilter();

    FilteredConsoleOutput(OutputStream terminal) {
        this.terminal = terminal;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /** Synchronized: the filter's state is one sequence, and a sequence must not be interleaved with another write. */
    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        byte[] passed = filter.apply(b, off, len);
        if (passed.length > 0) {
            terminal.write(passed);
        }
    }

    @Override
    public void flush() throws IOException {
        terminal.flush();
    }
}
