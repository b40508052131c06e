package hg.host.testkit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The tiny test guests (echo.c answers keystrokes in upper case, count.c counts while its LAPIC timer ticks),
 * built with gcc into a directory to run on this machine's /dev/kvm. Their C lives in hg.vmm's and hg.shell's
 * test resources; each module's tests hand over how to read them.
 */
public final class TestGuests {
    private TestGuests() {}

    public static void assumeKvm() {
        assumeTrue(Files.exists(Path.of("/dev/kvm")), "/dev/kvm is absent on this host: VM tests cannot run");
    }

    /**
     * Builds guest {@code name} into {@code dir}; {@code resource} opens a file of the guests' sources by name
     * (name.c, guest.h, guest.ld), or gives null when there is none.
     */
    public static Path build(Path dir, String name, Function<String, InputStream> resource)
            throws IOException, InterruptedException {
        Path src = Files.createDirectories(dir.resolve("guest-src"));
        for (String f : List.of(name + ".c", "guest.ld", "guest.h")) {
            if (Files.exists(src.resolve(f))) {
                continue;
            }
            try (InputStream in = resource.apply(f)) {
                if (in == null) {
                    throw new IOException("test resource guests/" + f + " is missing");
                }
                Files.copy(in, src.resolve(f));
            }
        }
        Path out = dir.resolve(name + ".elf");
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O2", "-ffreestanding", "-fno-pic", "-no-pie", "-nostdlib", "-static",
                    "-mno-red-zone", "-mgeneral-regs-only", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
                    "-Wall", "-Werror", "-T", src.resolve("guest.ld").toString(), "-Wl,--build-id=none",
                    "-Wl,--no-warn-rwx-segments", "-o", out.toString(), src.resolve(name + ".c").toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "gcc is not installed: the test guest cannot be built");
            throw e;
        }
        String log = new String(gcc.getInputStream().readAllBytes());
        if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            gcc.destroyForcibly();
            throw new IOException("gcc failed for the " + name + " guest:\n" + log);
        }
        return out;
    }
}
