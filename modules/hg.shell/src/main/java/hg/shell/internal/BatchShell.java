package hg.shell.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;

/** Commands read line by line from a non-terminal stdin; each is echoed after the prompt, then its result. */
public final class BatchShell {
    private BatchShell() {}

    /**
     * Runs every line; returns 0 when all succeeded, else the exit status of the last failed vm_exec, or 1 when
     * the last failure was another command's.
     */
    public static int run(BufferedReader in, PrintWriter out, Commands commands, Commands.ConsoleFrontEnd console)
            throws IOException {
        int status = 0;
        String line;
        while ((line = in.readLine()) != null) {
            out.println(InteractiveShell.PROMPT + line);
            out.flush();
            Commands.Outcome o = commands.execute(line, out, console);
            if (o == Commands.Outcome.FAILED) {
                status = commands.execStatus() != 0 ? commands.execStatus() : 1;
            } else if (o == Commands.Outcome.EXIT) {
                break;
            }
        }
        out.flush();
        return status;
    }
}
