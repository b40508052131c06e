package hg.shell.internal;

import java.io.PrintWriter;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.reader.impl.history.DefaultHistory;
import org.jline.terminal.Terminal;

/** The prompt on a terminal: line editing, history, TAB completion. */
public final class InteractiveShell {
    public static final String PROMPT = "hyper-gen:# ";

    private InteractiveShell() {}

    public static int run(Terminal terminal, Commands commands, String exitRefusal) {
        DefaultParser parser = new DefaultParser();
        parser.setEofOnUnclosedQuote(false);
        parser.setEofOnEscapedNewLine(false);
        LineReader reader = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("hyper-gen")
                .parser(parser)
                .completer(new ShellCompleter(commands))
                .history(new DefaultHistory())
                .variable(LineReader.HISTORY_SIZE, 1000)
                .option(LineReader.Option.HISTORY_IGNORE_DUPS, true)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .build();
        PrintWriter out = terminal.writer();
        TerminalConsole console = new TerminalConsole(terminal);
        while (true) {
            String line;
            try {
                line = reader.readLine(PROMPT);
            } catch (UserInterruptException e) {
                continue; // CTRL+c drops the line being typed
            } catch (EndOfFileException e) {
                if (exitRefusal == null) {
                    return 0;
                }
                out.println("error: " + exitRefusal);
                out.flush();
                continue;
            }
            if (commands.execute(line, out, console) == Commands.Outcome.EXIT) {
                return 0;
            }
        }
    }
}
