package hg.shell.internal;

import hg.host.CatalogEntry;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

/**
 * TAB completion: command names first, then what each command takes: kernels and images by file name (they
 * complete from a prefix and read better than ids; the description shows the id), vm ids, directories, options.
 */
public final class ShellCompleter implements Completer {
    private static final Set<String> VALUED_OPTIONS = Set.of("--mem", "--cpus", "--cmdline", "--disk", "--count");
    private final Commands commands;

    public ShellCompleter(Commands commands) {
        this.commands = commands;
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        List<String> words = line.words();
        int index = line.wordIndex();
        if (index == 0) {
            commandNames(candidates);
            return;
        }
        Commands.Command cmd = commands.commands().get(words.getFirst());
        if (cmd == null) {
            return;
        }
        Commands.ArgKind kind = argKind(cmd, words.subList(1, Math.min(index, words.size())));
        switch (kind) {
            case COMMAND -> {
                if (index == 1) {
                    commandNames(candidates);
                }
            }
            case KERNEL -> commands.catalog().kernels().forEach(e -> {
                if (e instanceof CatalogEntry.Kernel k) {
                    candidates.add(nameCandidate(k.fileName(), "id " + k.id() + ", " + k.format()));
                }
            });
            case IMAGE -> commands.catalog().images().forEach(e -> {
                if (e instanceof CatalogEntry.Image i) {
                    candidates.add(nameCandidate(i.fileName(), "id " + i.id() + (i.label().isEmpty() ? "" : ", " + i.label())));
                }
            });
            case VM_ID -> commands.machines().list().forEach(vm -> candidates.add(idCandidate(vm.id(),
                    vm.kernel().getFileName() + " + " + Commands.diskNames(vm.disks()))));
            case DIR -> {
                String word = line.word() == null ? "" : line.word();
                directories(word.substring(0, Math.clamp(line.wordCursor(), 0, word.length())), candidates);
            }
            case OPTION -> {
                for (String o : cmd.options()) {
                    candidates.add(new Candidate(o, o, null, null, null, null, !VALUED_OPTIONS.contains(o)));
                }
            }
            case NONE -> { }
        }
    }

    /** Which argument the cursor is on, given the words typed before it. */
    static Commands.ArgKind argKind(Commands.Command cmd, List<String> before) {
        if (cmd.args().isEmpty()) {
            return Commands.ArgKind.NONE;
        }
        int positional = 0;
        for (int i = 0; i < before.size(); i++) {
            String w = before.get(i);
            if (VALUED_OPTIONS.contains(w)) {
                if (i == before.size() - 1) {
                    // The cursor is on the option's value: an image for --disk, nothing to offer for the others.
                    return w.equals("--disk") ? Commands.ArgKind.IMAGE : Commands.ArgKind.NONE;
                }
                i++;
            } else if (!w.startsWith("--")) {
                positional++;
            }
        }
        List<Commands.ArgKind> words = cmd.args().stream().filter(k -> k != Commands.ArgKind.OPTION).toList();
        if (positional < words.size()) {
            return words.get(positional);
        }
        return cmd.args().contains(Commands.ArgKind.OPTION) ? Commands.ArgKind.OPTION : Commands.ArgKind.NONE;
    }

    /**
     * The directories under what is typed so far (relative to the working directory), each ending in '/' and
     * left open so TAB goes on into it.
     */
    static void directories(String typed, List<Candidate> candidates) {
        int slash = typed.lastIndexOf('/');
        String parent = slash < 0 ? "" : typed.substring(0, slash + 1);
        Path dir;
        try {
            dir = parent.isEmpty() ? Path.of("").toAbsolutePath() : Path.of(parent);
        } catch (InvalidPathException e) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, Files::isDirectory)) {
            List<String> names = new ArrayList<>();
            for (Path p : entries) {
                names.add(p.getFileName().toString());
            }
            Collections.sort(names);
            for (String name : names) {
                String value = parent + name + "/";
                candidates.add(new Candidate(value, name + "/", null, null, null, null, false));
            }
        } catch (IOException | RuntimeException e) {
            // an unreadable directory offers nothing
        }
    }

    private void commandNames(List<Candidate> candidates) {
        for (Commands.Command c : commands.commands().values()) {
            candidates.add(new Candidate(c.name(), c.name(), null, c.summary(), null, null, true));
        }
    }

    private static Candidate nameCandidate(String name, String description) {
        return new Candidate(name, name, null, description, null, null, true);
    }

    private static Candidate idCandidate(int id, String description) {
        return new Candidate(String.valueOf(id), String.valueOf(id), null, description, null, null, true);
    }
}
