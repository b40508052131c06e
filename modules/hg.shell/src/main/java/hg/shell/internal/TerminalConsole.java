package hg.shell.internal;

import hg.host.HostException;
import hg.host.Machines;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.utils.NonBlockingReader;

/**
 * vm_console on a terminal: the terminal goes raw (no echo, no line editing, no signals, so CTRL+c reaches
 * the guest), keystrokes go to the VM as they are typed, its output comes back as it is written.
 * CTRL+d (0x04) detaches; the VM stopping detaches too.
 */
public final class TerminalConsole implements Commands.ConsoleFrontEnd {
    static final int DETACH = 0x04;
    private static final long POLL_MS = 100;
    private final Terminal terminal;

    public TerminalConsole(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public void run(int vmId, Machines machines, PrintWriter out) throws HostException {
        out.println("[vm " + vmId + " console; CTRL+d detaches, the VM keeps running]");
        out.flush();
        Attributes saved = terminal.getAttributes();
        Attributes raw = new Attributes(saved);
        raw.setLocalFlags(EnumSet.of(Attributes.LocalFlag.ICANON, Attributes.LocalFlag.ECHO,
                Attributes.LocalFlag.ECHONL, Attributes.LocalFlag.IEXTEN, Attributes.LocalFlag.ISIG), false);
        raw.setInputFlags(EnumSet.of(Attributes.InputFlag.IXON, Attributes.InputFlag.ICRNL,
                Attributes.InputFlag.INLCR, Attributes.InputFlag.IGNCR, Attributes.InputFlag.ISTRIP), false);
        raw.setControlChar(Attributes.ControlChar.VMIN, 1);
        raw.setControlChar(Attributes.ControlChar.VTIME, 0);
        OutputStream screen = terminal.output();
        OutputStream unfiltered = new OutputStream() {
            @Override
            public synchronized void write(int b) throws IOException {
                screen.write(b);
                screen.flush();
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) throws IOException {
                screen.write(b, off, len);
                screen.flush();
            }
        };
        // The guest's output must not drive the operator's terminal beyond drawing (see EscapeFilter).
        OutputStream sink = new FilteredConsoleOutput(unfiltered);
        String ending;
        terminal.setAttributes(raw);
        try (Machines.Console console = machines.attach(vmId, sink)) {
            ending = pump(console, vmId);
        } finally {
            terminal.setAttributes(saved);
        }
        out.println();
        out.println(ending);
    }

    /** Passes keystrokes until CTRL+d, end of input or the VM stopping; returns the line to end with. */
    private String pump(Machines.Console console, int vmId) throws HostException {
        NonBlockingReader in = terminal.reader();
        StringBuilder pending = new StringBuilder();
        while (true) {
            int c;
            try {
                c = in.read(POLL_MS);
            } catch (IOException e) {
                return "[detached from vm " + vmId + ": the terminal failed (" + e.getMessage() + "); it keeps running]";
            }
            if (c == NonBlockingReader.READ_EXPIRED) {
                if (console.state() instanceof Machines.State.Stopped s) {
                    return "[vm " + vmId + " stopped: " + s.reason() + "]";
                }
                continue;
            }
            if (c == NonBlockingReader.EOF) {
                return "[detached from vm " + vmId + ": end of input; it keeps running]";
            }
            if (c == DETACH) {
                return "[detached from vm " + vmId + "; it keeps running]";
            }
            pending.append((char) c);
            if (Character.isHighSurrogate((char) c)) {
                continue; // wait for the low half before encoding
            }
            console.input(pending.toString().getBytes(StandardCharsets.UTF_8));
            pending.setLength(0);
        }
    }
}
