package hg.vmm;

import hg.kvm.Kvm;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Tiny freestanding C guests (src/test/resources/guests), built with gcc on first use. */
final class GuestPrograms {
    private GuestPrograms() {
    }

    private static final Map<String, Path> BUILT = new HashMap<>();
    private static Path dir;

    static void assumeKvm() {
        Assumptions.assumeTrue(Kvm.present(), "/dev/kvm is absent on this host: VM tests cannot run");
    }

    /** The ELF of guest {@code name} (uart, blk, triple, smp, net, hostile). */
    static synchronized Path elf(String name) throws IOException, InterruptedException {
        Path built = BUILT.get(name);
        if (built != null) {
            return built;
        }
        if (dir == null) {
            dir = Files.createTempDirectory("hg-guests");
            dir.toFile().deleteOnExit();
            for (String f : List.of("guest.h", "guest.ld", "uart.c", "blk.c", "triple.c", "smp.c", "net.c", "count.c",
                    "hostile.c", "quiet.c")) {
                try (InputStream in = GuestPrograms.class.getResourceAsStream("/guests/" + f)) {
                    if (in == null) {
                        throw new IOException("test resource guests/" + f + " is missing");
                    }
                    Files.copy(in, dir.resolve(f));
                }
            }
        }
        Path out = dir.resolve(name + ".elf");
        Process gcc = new ProcessBuilder("gcc", "-O2", "-ffreestanding", "-fno-pic", "-no-pie", "-nostdlib", "-static",
                "-mno-red-zone", "-mgeneral-regs-only", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
                "-Wall", "-Werror", "-T", dir.resolve("guest.ld").toString(), "-Wl,--build-id=none",
                "-Wl,--no-warn-rwx-segments", "-o", out.toString(), dir.resolve(name + ".c").toString())
                .redirectErrorStream(true).start();
        String log = new String(gcc.getInputStream().readAllBytes());
        if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            throw new IOException("gcc failed for guest " + name + ":\n" + log);
        }
        out.toFile().deleteOnExit();
        BUILT.put(name, out);
        return out;
    }
}
