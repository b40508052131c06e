package hg.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Builds the C peers (shipped as resources) with gcc and runs them. */
final class Gcc {
    private Gcc() {}

    /** Compiles resource {@code name} (a .c file beside this class) into {@code dir}; returns the binary. */
    static Path build(String name, Path dir) throws IOException, InterruptedException {
        Path source = unpack(name, dir);
        Path binary = dir.resolve(name.replaceFirst("\\.c$", ""));
        run(List.of("gcc", "-O2", "-Wall", "-pthread", "-o", binary.toString(), source.toString()), 120);
        return binary;
    }

    /** Compiles resource {@code name} into a static binary in {@code dir} (to run inside a Linux guest). */
    static Path buildStatic(String name, Path dir) throws IOException, InterruptedException {
        Path source = unpack(name, dir);
        Path binary = dir.resolve(name.replaceFirst("\\.c$", "") + "-static");
        run(List.of("gcc", "-O2", "-Wall", "-static", "-o", binary.toString(), source.toString()), 120);
        return binary;
    }

    /** Compiles the C file {@code source} of the repository into a static binary in {@code dir}. */
    static Path buildStaticFile(Path source, Path dir) throws IOException, InterruptedException {
        Path binary = dir.resolve(source.getFileName().toString().replaceFirst("\\.c$", "") + "-static");
        run(List.of("gcc", "-O2", "-Wall", "-static", "-o", binary.toString(), source.toString()), 120);
        return binary;
    }

    /**
     * Assembles the freestanding guest {@code name} (a .S resource) with linker script {@code script}
     * into an ELF in {@code dir}; returns the ELF.
     */
    static Path buildGuest(String name, String script, Path dir) throws IOException, InterruptedException {
        Path source = unpack(name, dir);
        Path ld = unpack(script, dir);
        Path elf = dir.resolve(name.replaceFirst("\\.S$", "") + ".elf");
        run(List.of("gcc", "-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments",
                "-T", ld.toString(), "-o", elf.toString(), source.toString()), 120);
        return elf;
    }

    /**
     * Compiles the freestanding C test guest {@code name}.c (with guest.h and guest.ld, the tests' own
     * guests shipped as resources) into an ELF in {@code dir}; returns the ELF.
     */
    static Path buildCGuest(String name, Path dir) throws IOException, InterruptedException {
        Path source = unpack(name + ".c", dir);
        unpack("guest.h", dir);
        Path ld = unpack("guest.ld", dir);
        Path elf = dir.resolve(name + ".elf");
        run(List.of("gcc", "-O2", "-ffreestanding", "-fno-pic", "-no-pie", "-nostdlib", "-static", "-mno-red-zone",
                "-mgeneral-regs-only", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-T", ld.toString(),
                "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments", "-o", elf.toString(), source.toString()), 120);
        return elf;
    }

    private static Path unpack(String name, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(name);
        try (InputStream in = Gcc.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("the bench jar has no " + name);
            }
            Files.write(file, in.readAllBytes());
        }
        return file;
    }

    /** Runs a command, returns its stdout lines; fails with its output if it fails. */
    static List<String> run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command.getFirst() + " took longer than " + timeoutSeconds + " s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed with " + p.exitValue() + ": " + text.strip());
        }
        return new ArrayList<>(text.lines().toList());
    }
}
