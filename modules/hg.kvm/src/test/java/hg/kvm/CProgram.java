package hg.kvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Compiles a C program with gcc in a temporary directory and runs it. */
final class CProgram {
    private CProgram() {}

    /** Builds {@code source}, runs it, and returns its stdout lines "key value" as a map. */
    static Map<String, String> keyValues(String source) throws IOException, InterruptedException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : run(source)) {
            int sp = line.lastIndexOf(' ');
            out.put(line.substring(0, sp), line.substring(sp + 1));
        }
        return out;
    }

    /** Every key whose value from Java differs from the C program's (or that the program did not print). */
    static List<String> mismatches(Map<String, Long> fromJava, Map<String, String> fromC) {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Long> e : fromJava.entrySet()) {
            String c = fromC.get(e.getKey());
            if (c == null || Long.parseUnsignedLong(c) != e.getValue()) {
                wrong.add(e.getKey() + ": java " + e.getValue() + ", gcc " + c);
            }
        }
        return wrong;
    }

    static List<String> run(String source) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("hg-kvm-c");
        try {
            Path c = dir.resolve("prog.c");
            Path exe = dir.resolve("prog");
            Files.writeString(c, source);
            exec(List.of("gcc", "-O0", "-w", "-o", exe.toString(), c.toString()));
            return exec(List.of(exe.toString()));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static List<String> exec(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] bytes = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command.getFirst() + " timed out");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "):\n" + text);
        }
        return new ArrayList<>(text.lines().toList());
    }
}
