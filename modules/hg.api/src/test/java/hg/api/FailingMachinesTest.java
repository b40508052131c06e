package hg.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hg.host.HostException;
import hg.host.Machines;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bug below the API is a 500 with a generic line, and the daemon answers the next request. */
class FailingMachinesTest {
    @TempDir
    Path tmp;

    /** Fails every call as a bug would. */
    private static final class Broken implements Machines {
        @Override
        public int maxVcpus() {
            return 1;
        }

        @Override
        public String memoryRule() {
            return "none";
        }

        @Override
        public int create(Spec spec) {
            throw new IllegalStateException("a bug in create");
        }

        @Override
        public List<Info> list() {
            throw new IllegalStateException("a bug in list");
        }

        @Override
        public Console attach(int id, OutputStream sink) {
            throw new IllegalStateException("a bug in attach");
        }

        @Override
        public void pause(int id) throws HostException {
            throw new HostException(HostException.Kind.FAILED, "vm " + id + " could not be paused: the host said no");
        }

        @Override
        public void resume(int id) {
            throw new IllegalStateException("a bug in resume");
        }

        @Override
        public Snapshot snapshot(int id, Path dir, boolean stop) {
            throw new IllegalStateException("a bug in snapshot");
        }

        @Override
        public int restore(Path dir, boolean paused) {
            throw new IllegalStateException("a bug in restore");
        }

        @Override
        public List<Integer> clone(int id, int count) {
            throw new IllegalStateException("a bug in clone");
        }

        @Override
        public void destroy(int id) {
            throw new IllegalStateException("a bug in destroy");
        }

        @Override
        public void close() {}
    }

    @Test
    void aBugIsA500AndTheDaemonRunsOn() throws Exception {
        try (Daemon daemon = Daemon.start(tmp, Files.createDirectories(tmp.resolve("k")),
                Files.createDirectories(tmp.resolve("i")), new Broken())) {
            RawHttp.Answer a = RawHttp.get(daemon.socket, "/vms");
            assertEquals(500, a.status());
            assertEquals("the daemon failed on GET /vms; it runs on", a.error());
            a = RawHttp.send(daemon.socket, "DELETE", "/vms/3", null, null);
            assertEquals(500, a.status());
            assertEquals("the daemon failed on DELETE /vms/3; it runs on", a.error());
            a = RawHttp.json(daemon.socket, "PUT", "/vms/3/state", "{\"state\":\"paused\"}");
            assertEquals(500, a.status());
            assertEquals("vm 3 could not be paused: the host said no", a.error(), "a FAILED refusal keeps its line");
            assertEquals(200, RawHttp.get(daemon.socket, "/openapi.json").status());
            a = RawHttp.get(daemon.socket, "/kernels");
            assertEquals(200, a.status());
            assertEquals("{\"dir\":\"" + tmp.resolve("k") + "\",\"problem\":null,\"entries\":[]}", a.text());
        }
    }
}
