package hg.shell.internal;

import hg.host.HostException;
import hg.host.Machines;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;

/** vm_console in batch mode: there are no keystrokes to pass, so it shows the recent output and detaches. */
public final class BatchConsole implements Commands.ConsoleFrontEnd {
    private final OutputStream raw;

    public BatchConsole(OutputStream raw) {
        this.raw = raw;
    }

    @Override
    public void run(int vmId, Machines machines, PrintWriter out) throws HostException {
        out.println("[vm " + vmId + " console, recent output; batch mode passes no keystrokes]");
        out.flush();
        int[] last = {'\n'};
        OutputStream tracked = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                raw.write(b);
                last[0] = b;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                raw.write(b, off, len);
                if (len > 0) {
                    last[0] = b[off + len - 1];
                }
            }
        };
        // Batch output may well be a terminal too: the same filter as vm_console's (see EscapeFilter).
        OutputStream sink = new FilteredConsoleOutput(tracked);
        // Closing right away: the replay is written, then the console detaches.
        machines.attach(vmId, sink).close();
        try {
            raw.flush();
        } catch (IOException e) {
            throw new HostException("cannot write the console output: " + e.getMessage());
        }
        if (last[0] != '\n') {
            out.println();
        }
        out.println("[vm " + vmId + " detached]");
    }
}
