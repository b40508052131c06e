package hg.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.api.RawHttp.Answer;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every endpoint over the wire, with real VMs of the tiny test guests behind it, and every error status. */
class ApiServerTest {
    @TempDir
    Path tmp;
    Daemon daemon;
    Path socket;

    @BeforeEach
    void start() throws Exception {
        Guests.assumeKvm();
        daemon = Daemon.start(tmp);
        socket = daemon.socket;
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private Answer post(String path, String body) throws IOException {
        return RawHttp.json(socket, "POST", path, body);
    }

    private Answer put(String path, String body) throws IOException {
        return RawHttp.json(socket, "PUT", path, body);
    }

    private static void assertError(int status, String line, Answer a) {
        assertEquals(status, a.status(), a.text());
        assertEquals("application/json", a.header("content-type"));
        assertEquals(line, a.error());
    }

    private static void assertErrorStarts(int status, String start, Answer a) {
        assertEquals(status, a.status(), a.text());
        assertTrue(a.error().startsWith(start), a.error());
    }

    private Answer create(String body) throws IOException {
        return post("/vms", body);
    }

    @Test
    void theSocketIsTheUsersOnly() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        try (var dir = Files.list(tmp)) {
            assertEquals(List.of(), dir.filter(p -> p.getFileName().toString().startsWith(".api.sock")).toList(),
                    "no staging directory is left");
        }
    }

    @Test
    void aLiveDaemonIsRefusedAndADeadOnesSocketReplaced() throws Exception {
        IOException e = assertThrows(IOException.class, () -> ApiServer.start(socket, daemon.machines, daemon.catalog));
        assertEquals("the API cannot listen on " + socket + ": a daemon already listens on " + socket
                + ": stop it first, or give another socket path", e.getMessage());
        assertEquals(200, RawHttp.get(socket, "/vms").status(), "the first daemon runs on");

        Path stale = tmp.resolve("stale.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(stale));
        dead.close(); // the file stays, nothing listens: what a killed daemon leaves
        assertTrue(Files.exists(stale));
        try (ApiServer second = ApiServer.start(stale, daemon.machines, daemon.catalog)) {
            assertEquals(stale.toAbsolutePath(), second.socket());
            assertEquals(200, RawHttp.get(stale, "/vms").status());
        }
        assertFalse(Files.exists(stale), "close removes the socket");

        Path file = Files.writeString(tmp.resolve("file"), "x");
        e = assertThrows(IOException.class, () -> ApiServer.start(file, daemon.machines, daemon.catalog));
        assertEquals("the API cannot listen on " + file + ": " + file + " exists and is not a socket: give another path "
                + "for the daemon's socket", e.getMessage());
    }

    @Test
    void theCatalog() throws Exception {
        Answer k = RawHttp.get(socket, "/kernels");
        assertEquals(200, k.status());
        assertEquals("application/json", k.header("content-type"));
        assertEquals("{\"dir\":\"" + daemon.kernels + "\",\"problem\":null,\"entries\":[{\"id\":0,\"file\":\"count.elf\","
                + "\"path\":\"" + daemon.kernels.resolve("count.elf") + "\",\"size\":" + Files.size(daemon.kernels.resolve("count.elf"))
                + ",\"kind\":\"kernel\",\"format\":\"vmlinux\"},{\"id\":1,\"file\":\"echo.elf\",\"path\":\""
                + daemon.kernels.resolve("echo.elf") + "\",\"size\":" + Files.size(daemon.kernels.resolve("echo.elf"))
                + ",\"kind\":\"kernel\",\"format\":\"vmlinux\"}]}", k.text());
        Files.writeString(daemon.images.resolve("notes.txt"), "not an image");
        String images = RawHttp.get(socket, "/images").text();
        assertTrue(images.contains("{\"id\":0,\"file\":\"data.ext4\""), images);
        assertTrue(images.contains("\"kind\":\"image\",\"fs_type\":\"ext4\",\"label\":\"DATA\"}"), images);
        assertTrue(images.matches(".*\\{\"id\":null,\"file\":\"notes.txt\",.*\"kind\":\"rejected\",\"reason\":\"[^\"]+\"}.*"),
                images);
    }

    @Test
    void createGetListAndDestroy() throws Exception {
        Answer made = create("{\"kernel\":\"count.elf\",\"image\":1,\"mem\":\"64M\",\"disks\":[{\"image\":\"data.ext4\","
                + "\"read_only\":true}]}");
        assertEquals(201, made.status(), made.text());
        assertEquals("/vms/1", made.header("location"));
        assertTrue(made.text().matches("\\{\"id\":1,\"kernel\":\"[^\"]*count.elf\",\"disks\":\\[\\{\"device\":\"vda\","
                + "\"path\":\"[^\"]*root.ext4\",\"read_only\":false},\\{\"device\":\"vdb\",\"path\":\"[^\"]*data.ext4\","
                + "\"read_only\":true}],\"cpus\":1,\"memory_bytes\":67108864,\"state\":\"running\",\"stop_reason\":null,"
                + "\"uptime_ms\":\\d+,\"net\":\"-\",\"vsock\":null,\"huge_pages\":null,\"shares\":\\[\\],\"counters\":\\{\"vcpu_exits\":\\d+,\"disk_read_bytes\":\\d+,"
                + "\"disk_write_bytes\":\\d+,\"net_rx_bytes\":\\d+,\"net_tx_bytes\":\\d+}}"), made.text());
        assertEquals(201, create("{\"kernel\":0,\"image\":1,\"mem_mib\":32,\"read_only\":true}").status());

        Answer list = RawHttp.get(socket, "/vms");
        assertEquals(200, list.status());
        assertTrue(list.text().startsWith("[{\"id\":1,") && list.text().contains("},{\"id\":2,"), list.text());
        assertTrue(RawHttp.get(socket, "/vms/2").text().contains("\"memory_bytes\":33554432"));

        Answer gone = RawHttp.send(socket, "DELETE", "/vms/1", null, null);
        assertEquals(204, gone.status());
        assertEquals(0, gone.body().length);
        assertError(404, "no vm with id 1 (vm_list shows id 2)", RawHttp.get(socket, "/vms/1"));
        assertError(404, "no vm with id 1 (vm_list shows id 2)", RawHttp.send(socket, "DELETE", "/vms/1", null, null));
        assertError(404, "no vm with id 1 (vm_list shows id 2)", put("/vms/1/state", "{\"state\":\"paused\"}"));
        assertError(404, "no vm with id 'x1': vm ids are whole numbers from 1 (GET /vms lists them)",
                RawHttp.get(socket, "/vms/x1"));
    }

    @Test
    void execReachesTheGuestAgentOrSaysWhyNotInOneLine() throws Exception {
        assertErrorStarts(404, "", RawHttp.json(socket, "POST", "/vms/99/exec", "{\"argv\":[\"true\"]}"));
        Answer plain = create("{\"kernel\":\"count.elf\",\"image\":1,\"mem\":\"64M\",\"read_only\":true}");
        assertEquals(201, plain.status(), plain.text());
        assertTrue(plain.text().contains("\"vsock\":null"), plain.text());
        String id = plain.header("location").substring("/vms/".length());
        assertError(409, "vm " + id + " has no vsock, so no agent to reach",
                RawHttp.json(socket, "POST", "/vms/" + id + "/exec", "{\"argv\":[\"true\"]}"));
        assertError(400, "field 'argv' is required", RawHttp.json(socket, "POST", "/vms/" + id + "/exec", "{}"));
        assertError(400, "unknown field 'args'", RawHttp.json(socket, "POST", "/vms/" + id + "/exec", "{\"args\":[\"true\"]}"));
        assertError(400, "field 'timeout_s' takes whole seconds from 1 to 86400",
                RawHttp.json(socket, "POST", "/vms/" + id + "/exec", "{\"argv\":[\"true\"],\"timeout_s\":0}"));

        // A VM with a vsock whose guest has no driver for it: nobody answers, and the daemon says so in time.
        Path vsock = tmp.resolve("agentless.vsock");
        Answer withVsock = create("{\"kernel\":\"count.elf\",\"image\":1,\"mem\":\"64M\",\"read_only\":true,"
                + "\"vsock\":\"" + vsock + "\"}");
        assertEquals(201, withVsock.status(), withVsock.text());
        assertTrue(withVsock.text().contains("\"vsock\":\"" + vsock + "\""), withVsock.text());
        assertTrue(Files.exists(vsock));
        String other = withVsock.header("location").substring("/vms/".length());
        long t0 = System.nanoTime();
        assertError(409, "vm " + other + ": no agent answered on vsock port 1024 within 5 s (the guest has no hg-agent, "
                + "or it has not started yet)", RawHttp.json(socket, "POST", "/vms/" + other + "/exec", "{\"argv\":[\"true\"]}"));
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "one line after a short wait, not a hang");
        assertError(400, "field 'vsock' must be an absolute path for the socket, e.g. /run/hyper-gen/build.vsock",
                create("{\"kernel\":0,\"image\":1,\"vsock\":\"rel.vsock\"}"));
    }

    @Test
    void sharesAreGivenAndShownAndABadOneIsOneLine() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Answer made = create("{\"kernel\":\"count.elf\",\"image\":1,\"mem\":\"64M\",\"read_only\":true,\"shares\":["
                + "{\"dir\":\"" + src + "\"},{\"dir\":\"" + src + "\",\"tag\":\"again\",\"read_only\":true}]}");
        assertEquals(201, made.status(), made.text());
        assertTrue(made.text().contains("\"shares\":[{\"dir\":\"" + src + "\",\"tag\":\"src\",\"read_only\":false},{\"dir\":\""
                + src + "\",\"tag\":\"again\",\"read_only\":true}]"), made.text());
        assertError(400, "shares[0]: give the directory's absolute path, e.g. /srv/src",
                create("{\"kernel\":0,\"image\":1,\"shares\":[{\"dir\":\"rel\"}]}"));
        assertError(400, "--share " + tmp.resolve("none") + ": no such directory",
                create("{\"kernel\":0,\"image\":1,\"read_only\":true,\"shares\":[{\"dir\":\"" + tmp.resolve("none") + "\"}]}"));
        assertError(400, "field 'shares[0].dir' is required", create("{\"kernel\":0,\"image\":1,\"shares\":[{\"tag\":\"x\"}]}"));
    }

    @Test
    void createRefusalsCarryTheHostsLinesAndKinds() throws Exception {
        assertError(400, "unknown field 'memory'", create("{\"kernel\":0,\"image\":1,\"memory\":64}"));
        assertError(400, "field 'cpus' must be a whole number, not a string", create("{\"kernel\":0,\"image\":1,\"cpus\":\"2\"}"));
        assertError(400, "field 'image' is required", create("{\"kernel\":0}"));
        assertErrorStarts(400, "malformed JSON: ", create("{\"kernel\":0,"));
        assertError(400, "no kernel with id 7: kernel_list shows ids 0-1", create("{\"kernel\":7,\"image\":1}"));
        assertError(400, "bad memory size 'lots': write it like 512M, 2G or 1048576K",
                create("{\"kernel\":0,\"image\":1,\"mem\":\"lots\"}"));
        assertError(400, "1 MiB of memory is too little for a Linux guest: give at least 16M",
                create("{\"kernel\":0,\"image\":1,\"mem_mib\":1}"));
        assertErrorStarts(400, "999 vCPUs is out of range: this host runs 1 to ",
                create("{\"kernel\":0,\"image\":1,\"mem\":\"64M\",\"cpus\":999}"));
        assertError(400, "vhost is about the network card, and this VM gets none",
                create("{\"kernel\":0,\"image\":1,\"vhost\":false}"));
        assertError(400, "disks[0].path relative.img: give the absolute path of a regular file",
                create("{\"kernel\":0,\"image\":1,\"disks\":[{\"path\":\"relative.img\"}]}"));
        assertErrorStarts(400, "disks[0].image 9: no image with id 9",
                create("{\"kernel\":0,\"image\":1,\"disks\":[{\"image\":9}]}"));
        assertEquals(201, create("{\"kernel\":0,\"image\":1,\"mem\":\"64M\"}").status());
        assertError(409, "root.ext4 is in use read-write by vm 1: vm_destroy 1 first, or attach it read-only",
                create("{\"kernel\":0,\"image\":1,\"mem\":\"64M\"}"));
        assertEquals(1, daemon.machines.list().size(), "no refusal left anything behind");
    }

    @Test
    void bodiesOfTheWrongKindOrSize() throws Exception {
        assertError(415, "the body must be JSON: send it with Content-Type: application/json, not text/plain",
                RawHttp.send(socket, "POST", "/vms", "text/plain", "{}".getBytes(StandardCharsets.UTF_8)));
        assertError(415, "the body must be JSON: send it with Content-Type: application/json",
                RawHttp.send(socket, "POST", "/vms", null, "{}".getBytes(StandardCharsets.UTF_8)));
        assertEquals(400, RawHttp.send(socket, "POST", "/vms", "application/json; charset=utf-8",
                "{}".getBytes(StandardCharsets.UTF_8)).status(), "a charset parameter is fine");
        String tooBig = "the body is over 64 KiB: no request of this API is that long";
        // A Content-Length over the cap is refused before any of the body is read: only its first bytes are sent.
        String head = "POST /vms HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                + "Content-Length: 104857600\r\n\r\n{\"kernel\":";
        assertError(413, tooBig, RawHttp.raw(socket, head.getBytes(StandardCharsets.UTF_8)));
        // Without a length (chunked), reading stops at the cap.
        StringBuilder chunked = new StringBuilder("POST /vms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        String chunk = " ".repeat(4096);
        for (int i = 0; i < 20; i++) {
            chunked.append("1000\r\n").append(chunk).append("\r\n");
        }
        chunked.append("0\r\n\r\n");
        assertError(413, tooBig, RawHttp.raw(socket, chunked.toString().getBytes(StandardCharsets.UTF_8)));
        assertError(400, "the body is empty: send a JSON object",
                RawHttp.send(socket, "POST", "/vms", "application/json", new byte[0]));
    }

    @Test
    void unknownPathsAndWrongMethods() throws Exception {
        assertError(404, "no such path: /nothing (GET /openapi.json lists the API)", RawHttp.get(socket, "/nothing"));
        Answer wrong = RawHttp.send(socket, "DELETE", "/vms", null, null);
        assertError(405, "/vms takes GET, POST, not DELETE", wrong);
        assertEquals("GET, POST", wrong.header("allow"));
        assertEquals("POST", RawHttp.get(socket, "/vms/restore").header("allow"));
        assertError(405, "/metrics takes GET, not POST", post("/metrics", "{}"));
    }

    @Test
    void pauseResumeSnapshotRestoreAndClone() throws Exception {
        assertEquals(201, create("{\"kernel\":0,\"image\":1,\"mem\":\"64M\"}").status());
        Answer paused = put("/vms/1/state", "{\"state\":\"paused\"}");
        assertEquals(200, paused.status(), paused.text());
        assertTrue(paused.text().contains("\"state\":\"paused\""), paused.text());
        assertError(409, "vm 1 is paused already: vm_resume 1 lets it go on", put("/vms/1/state", "{\"state\":\"paused\"}"));
        assertTrue(put("/vms/1/state", "{\"state\":\"running\"}").text().contains("\"state\":\"running\""));
        assertError(409, "vm 1 is not paused: it is running", put("/vms/1/state", "{\"state\":\"running\"}"));
        assertError(400, "field 'state' must be \"paused\" or \"running\", not \"off\"", put("/vms/1/state", "{\"state\":\"off\"}"));

        Path snap = tmp.resolve("snap");
        assertError(400, "field 'dir' must be an absolute path, not snap", put("/vms/1/snapshot", "{\"dir\":\"snap\"}"));
        Answer taken = put("/vms/1/snapshot", "{\"dir\":\"" + snap + "\",\"stop\":true}");
        assertEquals(200, taken.status(), taken.text());
        assertTrue(taken.text().matches("\\{\"dir\":\"" + snap + "\",\"memory_bytes\":67108864,\"memory_data_bytes\":\\d+,"
                + "\"disk_bytes\":8388608,\"paused_ns\":\\d+}"), taken.text());
        assertEquals("[]", RawHttp.get(socket, "/vms").text(), "stop destroyed it");

        Answer restored = post("/vms/restore", "{\"dir\":\"" + snap + "\",\"paused\":true}");
        assertEquals(201, restored.status(), restored.text());
        assertEquals("/vms/2", restored.header("location"));
        assertTrue(restored.text().contains("\"state\":\"paused\""), restored.text());
        assertError(409, "snapshot " + snap + " is in use: vm 2 runs on its disk copy vda.img; vm_destroy 2 first, or "
                + "vm_clone 2 for more VMs like it", post("/vms/restore", "{\"dir\":\"" + snap + "\"}"));
        assertError(404, "no snapshot in /nonexistent: it does not exist (vm_snapshot <vm id> <dir> writes one)",
                post("/vms/restore", "{\"dir\":\"/nonexistent\"}"));

        Answer clones = post("/vms/2/clone", "{\"count\":2}");
        assertEquals(201, clones.status(), clones.text());
        assertTrue(clones.text().startsWith("[{\"id\":3,") && clones.text().contains("},{\"id\":4,"), clones.text());
        assertEquals(201, RawHttp.send(socket, "POST", "/vms/2/clone", null, null).status(), "count defaults to 1");
        assertError(400, "count 0 is out of range: vm_clone makes 1 to 64 clones at once", post("/vms/2/clone", "{\"count\":0}"));

        String metrics = RawHttp.get(socket, "/metrics").text();
        assertTrue(metrics.contains("hyper_gen_vms{state=\"running\"} 3\nhyper_gen_vms{state=\"paused\"} 1\n"), metrics);
        assertTrue(metrics.contains("hyper_gen_vm_memory_bytes{vm=\"5\"} 67108864\n"), metrics);
        assertEquals("text/plain; version=0.0.4; charset=utf-8", RawHttp.get(socket, "/metrics").header("content-type"));
    }

    @Test
    void twoClientsAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Answer>> made = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                made.add(pool.submit(() -> create("{\"kernel\":0,\"image\":1,\"mem\":\"32M\",\"read_only\":true}")));
            }
            List<Future<Answer>> reads = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String path = i % 2 == 0 ? "/vms" : "/metrics";
                reads.add(pool.submit(() -> RawHttp.get(socket, path)));
            }
            for (Future<Answer> f : made) {
                assertEquals(201, f.get().status(), f.get().text());
            }
            for (Future<Answer> f : reads) {
                assertEquals(200, f.get().status());
            }
            assertEquals(2, daemon.machines.list().size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theOpenApiDocumentIsServedAsItIs() throws Exception {
        Answer a = RawHttp.get(socket, "/openapi.json");
        assertEquals(200, a.status());
        assertEquals("application/json", a.header("content-type"));
        try (var in = ApiServer.class.getResourceAsStream("/hg/api/openapi.json")) {
            assertEquals(new String(in.readAllBytes(), StandardCharsets.UTF_8), a.text());
        }
    }

    @Test
    void whatJettyRefusesItselfIsJsonToo() throws Exception {
        Answer a = RawHttp.raw(socket, ("GET /vms HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + "a".repeat(20_000)
                + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        assertEquals(431, a.status());
        assertTrue(a.text().startsWith("{\"error\":"), a.text());
    }
}
