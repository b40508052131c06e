package hg.firecracker;

import static hg.firecracker.ClientSequencesTest.expect;
import static org.junit.jupiter.api.Assertions.assertEquals;

import hg.api.internal.UnixHttp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What Firecracker's API refuses, and how: every refusal is 400 with one fault_message line. No VM is started. */
class RefusalsTest {
    private static final String DESERIALIZE = "An error occurred when deserializing the json body of a request: ";

    @TempDir
    Path dir;
    Served fc;

    @BeforeEach
    void serve() throws Exception {
        fc = new Served(dir);
    }

    @AfterEach
    void close() {
        fc.close();
    }

    static String fault(String line) {
        return "{\"fault_message\":\"" + line.replace("\"", "\\\"") + "\"}";
    }

    @Test
    void badJsonUnknownFieldsWrongTypesAndMissingFields() throws Exception {
        UnixHttp.Answer cut = fc.send("PUT", "/machine-config", "{\"vcpu_count\": 1");
        assertEquals(400, cut.status());
        String line = new String(cut.body(), StandardCharsets.UTF_8);
        assertEquals(true, line.startsWith("{\"fault_message\":\"" + DESERIALIZE + "malformed JSON: Unexpected "
                + "end-of-input"), line);
        expect(400, fault(DESERIALIZE + "unknown field 'ht_enabled'."),
                fc.send("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128,\"ht_enabled\":false}"));
        expect(400, fault(DESERIALIZE + "field 'mem_size_mib' must be a whole number, not a string."),
                fc.send("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":\"128\"}"));
        expect(400, fault(DESERIALIZE + "field 'vcpu_count' is required."),
                fc.send("PUT", "/machine-config", "{\"mem_size_mib\":128}"));
        expect(400, fault(DESERIALIZE + "field 'is_root_device' is required."),
                fc.send("PUT", "/drives/root", "{\"drive_id\":\"root\",\"path_on_host\":\"/x\"}"));
        expect(400, fault(DESERIALIZE + "field 'rate_limiter.bandwidth.refill_time' is required."),
                fc.send("PUT", "/drives/root", "{\"drive_id\":\"root\",\"path_on_host\":\"/x\",\"is_root_device\":true,"
                        + "\"rate_limiter\":{\"bandwidth\":{\"size\":1}}}"));
        expect(400, fault(DESERIALIZE + "unknown variant `Reboot`, expected one of `FlushMetrics`, `InstanceStart`, "
                + "`SendCtrlAltDel`."), fc.send("PUT", "/actions", "{\"action_type\":\"Reboot\"}"));
        expect(400, fault(DESERIALIZE + "the body must be an object, not an array."),
                fc.send("PUT", "/boot-source", "[]"));
        expect(400, fault("Empty PUT request."), fc.send("PUT", "/boot-source", null));
        expect(400, fault("Empty PATCH request."), fc.send("PATCH", "/vm", null));
        // What was refused changed nothing.
        expect(200, "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false,"
                + "\"huge_pages\":\"None\"}", fc.send("GET", "/machine-config", null));
    }

    @Test
    void pathsMethodsAndIds() throws Exception {
        expect(400, fault("Invalid request method and/or path: DELETE /machine-config."),
                fc.send("DELETE", "/machine-config", null));
        expect(400, fault("Invalid request method and/or path: GET /nothing."), fc.send("GET", "/nothing", null));
        expect(400, fault("API Resource IDs can only contain alphanumeric characters and underscores."),
                fc.send("PUT", "/drives/a-b", "{\"drive_id\":\"a-b\",\"path_on_host\":\"/x\",\"is_root_device\":true}"));
        expect(400, fault("The id from the path does not match the id from the body!"),
                fc.send("PUT", "/drives/a", "{\"drive_id\":\"b\",\"path_on_host\":\"" + dir + "\",\"is_root_device\":true}"));
        expect(400, fault("GET request cannot have a body."), fc.send("GET", "/", "{}"));
        expect(400, fault(DESERIALIZE + "Invalid guest CID 2: a guest's CID is 3 or more."),
                fc.send("PUT", "/vsock", "{\"guest_cid\":2,\"uds_path\":\"/tmp/v.sock\"}"));
        expect(400, fault(DESERIALIZE + "field 'uds_path' is required."), fc.send("PUT", "/vsock", "{\"guest_cid\":3}"));
        expect(400, fault("The requested operation is not supported: MMDS (hyper-gen serves no metadata service)"),
                fc.send("PUT", "/mmds/config", "{\"network_interfaces\":[\"1\"]}"));
    }

    @Test
    void resourcesAreCheckedAsFirecrackerChecksThem() throws Exception {
        expect(400, fault("Boot source error: The kernel file cannot be opened: /no/vmlinux: No such file or directory "
                + "(os error 2)"), fc.send("PUT", "/boot-source", "{\"kernel_image_path\":\"/no/vmlinux\"}"));
        expect(400, fault("Machine config error: The vCPU number is invalid! The vCPU number can only be 1 or an even "
                + "number when SMT is enabled."), fc.send("PUT", "/machine-config", "{\"vcpu_count\":33,\"mem_size_mib\":128}"));
        expect(400, fault("Machine config error: The memory size (MiB) is invalid."),
                fc.send("PATCH", "/machine-config", "{\"mem_size_mib\":0}"));
        expect(400, fault("Network interface error: The MAC address is invalid: 06:00"),
                fc.send("PUT", "/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\","
                        + "\"guest_mac\":\"06:00\"}"));
        expect(400, fault("Metrics error: Cannot initialize the metrics system due to bad user input: /no/fifo: No such "
                + "file or directory (os error 2)"), fc.send("PUT", "/metrics", "{\"metrics_path\":\"/no/fifo\"}"));
        expect(400, fault("The requested operation is not supported before starting the microVM."),
                fc.send("PATCH", "/vm", "{\"state\":\"Paused\"}"));
        expect(400, fault("The requested operation is not supported before starting the microVM."),
                fc.send("PATCH", "/drives/root", "{\"drive_id\":\"root\",\"path_on_host\":\"/x\"}"));
        expect(400, fault("Machine config error: The memory size (MiB) must be a multiple of 2 with huge_pages 2M."),
                fc.send("PATCH", "/machine-config", "{\"mem_size_mib\":129,\"huge_pages\":\"2M\"}"));
        ClientSequencesTest.noContent(fc.send("PATCH", "/machine-config", "{\"vcpu_count\":2}"));
        expect(200, "{\"vcpu_count\":2,\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false,"
                + "\"huge_pages\":\"None\"}", fc.send("GET", "/machine-config", null));
        ClientSequencesTest.noContent(fc.send("PATCH", "/machine-config", "{\"huge_pages\":\"2M\"}"));
        expect(200, "{\"vcpu_count\":2,\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false,"
                + "\"huge_pages\":\"2M\"}", fc.send("GET", "/machine-config", null));
    }

    @Test
    void anOversizedBodyIsRefusedBeforeItIsRead() throws Exception {
        String big = "{\"kernel_image_path\":\"" + "x".repeat(70 * 1024) + "\"}";
        UnixHttp.Answer a = fc.send("PUT", "/boot-source", big);
        assertEquals(400, a.status());
        expect(400, fault("the body is over 64 KiB: no request of this API is that long"), a);
    }

    @Test
    void twoClientsAtOnceAreEachAnswered() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (UnixHttp second = new UnixHttp(fc.server.socket())) {
            List<Callable<List<Integer>>> clients = List.of(
                    () -> burst(fc.http, "{\"vcpu_count\":2,\"mem_size_mib\":256}"),
                    () -> burst(second, "{\"vcpu_count\":4,\"mem_size_mib\":512}"));
            List<Integer> statuses = new ArrayList<>();
            for (Future<List<Integer>> f : pool.invokeAll(clients)) {
                statuses.addAll(f.get());
            }
            assertEquals(100, statuses.size());
            assertEquals(List.of(), statuses.stream().filter(s -> s != 200 && s != 204).toList());
            String last = new String(fc.send("GET", "/machine-config", null).body(), StandardCharsets.UTF_8);
            // Whichever came last, the configuration is one client's whole, never a mix of the two.
            assertEquals(true, last.contains("\"vcpu_count\":2,\"mem_size_mib\":256")
                    || last.contains("\"vcpu_count\":4,\"mem_size_mib\":512"), last);
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Integer> burst(UnixHttp http, String config) throws Exception {
        List<Integer> out = new ArrayList<>();
        byte[] body = config.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 25; i++) {
            out.add(http.raw("PUT", "/machine-config", body).status());
            out.add(http.raw("GET", "/", null).status());
        }
        return out;
    }
}
