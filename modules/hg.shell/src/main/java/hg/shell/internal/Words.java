package hg.shell.internal;

import hg.host.HostException;
import java.util.ArrayList;
import java.util.List;

/** Splits a command line into words: blanks separate, single or double quotes group, backslash escapes. */
public final class Words {
    private Words() {}

    public static List<String> split(String line) throws HostException {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()
                        && (line.charAt(i + 1) == '"' || line.charAt(i + 1) == '\\')) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                word.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new HostException("unclosed " + (quote == '"' ? "double" : "single")
                    + " quote: close it, e.g. --cmdline \"console=ttyS0 quiet\"");
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
