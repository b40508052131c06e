package hg.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes results.json by hand: a JSON list with one object per figure. */
final class ResultsJson {
    private ResultsJson() {}

    static String render(List<Result> results) {
        StringBuilder b = new StringBuilder("[\n");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            b.append("  {");
            b.append("\"figure\": ").append(string(r.figure()));
            b.append(", \"unit\": ").append(string(r.unit()));
            b.append(", \"hyper_gen\": ").append(number(r.hyperGen()));
            b.append(", \"peer\": ").append(number(r.peer()));
            b.append(", \"peer_name\": ").append(string(r.peerName()));
            b.append(", \"ratio\": ").append(number(r.ratio()));
            b.append(", \"goal\": ").append(string(r.goal()));
            b.append(", \"runs\": ").append(r.runs());
            b.append(", \"min\": ").append(number(r.min()));
            b.append(", \"max\": ").append(number(r.max()));
            if (r.why() != null) {
                b.append(", \"why\": ").append(string(r.why()));
            }
            for (var e : r.extra().entrySet()) {
                b.append(", ").append(string(e.getKey())).append(": ").append(value(e.getValue()));
            }
            b.append(i + 1 < results.size() ? "},\n" : "}\n");
        }
        return b.append("]\n").toString();
    }

    static void write(Path file, List<Result> results) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, render(results), StandardCharsets.UTF_8);
    }

    static String value(Object v) {
        return switch (v) {
            case null -> "null";
            case Boolean bool -> bool.toString();
            case Integer i -> i.toString();
            case Long l -> l.toString();
            case Number n -> number(n.doubleValue());
            case java.util.Map<?, ?> m -> {
                StringBuilder o = new StringBuilder("{");
                for (var e : m.entrySet()) {
                    o.append(o.length() > 1 ? ", " : "").append(string(e.getKey().toString())).append(": ").append(value(e.getValue()));
                }
                yield o.append('}').toString();
            }
            default -> string(v.toString());
        };
    }

    static String number(Double d) {
        if (d == null || d.isNaN() || d.isInfinite()) {
            return "null";
        }
        return String.format(Locale.ROOT, "%.4f", d);
    }

    static String string(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
