package hg.firecracker;

import hg.host.testkit.TestGuests;
import java.io.IOException;
import java.nio.file.Path;

/** The tiny test guests (echo.c from hg.shell, kbd.c here), built into {@code dir} to run on /dev/kvm. */
final class Guests {
    private Guests() {}

    static void assumeKvm() {
        TestGuests.assumeKvm();
    }

    static Path build(Path dir, String name) throws IOException, InterruptedException {
        return TestGuests.build(dir, name, f -> Guests.class.getResourceAsStream("/guests/" + f));
    }
}
