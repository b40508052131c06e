package hg.api;

import hg.host.testkit.TestGuests;
import java.io.IOException;
import java.nio.file.Path;

/** The tiny test guests (echo.c, count.c), from the C shared with hg.shell and hg.vmm, built into {@code dir}. */
final class Guests {
    private Guests() {}

    static void assumeKvm() {
        TestGuests.assumeKvm();
    }

    static Path build(Path dir, String name) throws IOException, InterruptedException {
        return TestGuests.build(dir, name, f -> Guests.class.getResourceAsStream("/guests/" + f));
    }
}
