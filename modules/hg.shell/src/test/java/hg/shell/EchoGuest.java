package hg.shell;

import hg.host.testkit.TestGuests;
import java.io.IOException;
import java.nio.file.Path;

/** The echo test guest (src/test/resources/guests/echo.c), or another of them (count.c), built into {@code dir}. */
final class EchoGuest {
    private EchoGuest() {}

    static void assumeKvm() {
        TestGuests.assumeKvm();
    }

    static Path build(Path dir) throws IOException, InterruptedException {
        return build(dir, "echo");
    }

    static Path build(Path dir, String name) throws IOException, InterruptedException {
        return TestGuests.build(dir, name, f -> EchoGuest.class.getResourceAsStream("/guests/" + f));
    }
}
