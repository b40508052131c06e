package hg.firecracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import hg.api.internal.UnixHttp;
import java.io.BufferedReader;
import hg.host.testkit.TestGuests;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request sequences real clients send, replayed request for request against a microVM on this machine's
 * /dev/kvm, each status and body checked: firecracker-go-sdk's default handlers (machine.go, handlers.go) and
 * Kata Containers' Firecracker driver (fc.go). flintlock's is a command line: {@link LauncherTest}.
 */
class ClientSequencesTest {
    @TempDir
    static Path guests;
    static Path echo;
    static Path kbd;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildGuests() throws Exception {
        TestGuests.assumeKvm();
        echo = TestGuests.build(guests, "echo", f -> ClientSequencesTest.class.getResourceAsStream("/guests/" + f));
        kbd = TestGuests.build(guests, "kbd", f -> ClientSequencesTest.class.getResourceAsStream("/guests/" + f));
    }

    static Path image(Path dir, String name, long bytes) throws IOException {
        Path p = dir.resolve(name);
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    static void expect(int status, String body, UnixHttp.Answer a) {
        String got = new String(a.body(), StandardCharsets.UTF_8);
        assertEquals(status + " " + body, a.status() + " " + got);
    }

    static void noContent(UnixHttp.Answer a) {
        expect(204, "", a);
    }

    static Path fifo(Path dir, String name) throws Exception {
        Path p = dir.resolve(name);
        Process mk = new ProcessBuilder("mkfifo", p.toString()).start();
        assertTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo failed");
        return p;
    }

    /** Lines read from a pipe by a thread of their own, as a client's metrics reader does. */
    static BlockingQueue<String> readLines(Path fifo) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(fifo), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (IOException e) {
                // the test is over
            }
        });
        return lines;
    }

    /** A TAP the test makes, as a client does before PUT /network-interfaces; null where it cannot. */
    static String makeTap(String name) throws Exception {
        Process p = new ProcessBuilder("ip", "tuntap", "add", "dev", name, "mode", "tap").redirectErrorStream(true).start();
        boolean made = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        return made ? name : null;
    }

    static void removeTap(String name) throws Exception {
        new ProcessBuilder("ip", "link", "del", name).redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void goSdkDefaultHandlersThenPauseFlushAndShutdown() throws Exception {
        Path root = image(dir, "rootfs.ext4", 1 << 20);
        Path logFifo = fifo(dir, "log.fifo");
        Path metricsFifo = fifo(dir, "metrics.fifo");
        BlockingQueue<String> logLines = readLines(logFifo);
        BlockingQueue<String> metricLines = readLines(metricsFifo);
        String tap = makeTap("hgfct" + ProcessHandle.current().pid() % 100000);
        assumeTrue(tap != null, "no TAP can be made here (ip tuntap needs CAP_NET_ADMIN)");
        try (Served fc = new Served(dir)) {
            // Readiness: the SDK polls until the socket answers GET /machine-config.
            expect(200, "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false,"
                    + "\"huge_pages\":\"None\"}", fc.send("GET", "/machine-config", null));
            noContent(fc.send("PUT", "/logger", "{\"log_path\":\"" + logFifo + "\",\"level\":\"Debug\","
                    + "\"show_level\":true,\"show_log_origin\":false}"));
            noContent(fc.send("PUT", "/metrics", "{\"metrics_path\":\"" + metricsFifo + "\"}"));
            noContent(fc.send("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64,\"smt\":false}"));
            noContent(fc.send("PUT", "/boot-source", "{\"kernel_image_path\":\"" + echo
                    + "\",\"boot_args\":\"console=ttyS0 reboot=k panic=1 pci=off\"}"));
            noContent(fc.send("PUT", "/drives/1", "{\"drive_id\":\"1\",\"path_on_host\":\"" + root
                    + "\",\"is_root_device\":true,\"is_read_only\":false}"));
            noContent(fc.send("PUT", "/network-interfaces/1", "{\"iface_id\":\"1\",\"host_dev_name\":\"" + tap
                    + "\",\"guest_mac\":\"06:00:AC:10:00:02\"}"));
            noContent(fc.send("PUT", "/actions", "{\"action_type\":\"InstanceStart\"}"));
            assertTrue(fc.awaitSerial("echo guest ready", Duration.ofSeconds(20)), fc.serial());
            expect(200, "{\"id\":\"test-vm\",\"started\":true,\"state\":\"Running\",\"vmm_version\":\""
                    + Main.FIRECRACKER_VERSION + "\",\"app_name\":\"Firecracker\"}", fc.send("GET", "/", null));
            String log = logLines.poll(10, TimeUnit.SECONDS);
            assertTrue(log != null && log.contains("[test-vm:") && log.contains(":INFO] Running Firecracker v"), log);

            // What the SDK's optional calls do on a running microVM.
            noContent(fc.send("PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}"));
            String metrics = metricLines.poll(10, TimeUnit.SECONDS);
            assertTrue(metrics != null && metrics.startsWith("{\"utc_timestamp_ms\":") && metrics.contains("\"block\":{"),
                    metrics);
            noContent(fc.send("PATCH", "/vm", "{\"state\":\"Paused\"}"));
            assertTrue(new String(fc.send("GET", "/", null).body(), StandardCharsets.UTF_8).contains("\"state\":\"Paused\""));
            noContent(fc.send("PATCH", "/vm", "{\"state\":\"Resumed\"}"));
            noContent(fc.send("PATCH", "/drives/1", "{\"drive_id\":\"1\",\"rate_limiter\":{\"bandwidth\":"
                    + "{\"size\":1048576,\"refill_time\":1000}}}"));
            noContent(fc.send("PATCH", "/network-interfaces/1", "{\"iface_id\":\"1\",\"rx_rate_limiter\":"
                    + "{\"ops\":{\"size\":1000,\"one_time_burst\":100,\"refill_time\":1000}}}"));
            expect(200, "{\"firecracker_version\":\"" + Main.FIRECRACKER_VERSION + "\"}", fc.send("GET", "/version", null));
            // Pre-boot resources are closed now, with Firecracker's line.
            expect(400, "{\"fault_message\":\"The requested operation is not supported after starting the microVM.\"}",
                    fc.send("PUT", "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":64}"));
            expect(400, "{\"fault_message\":\"The requested operation is not supported after starting the microVM.\"}",
                    fc.send("PUT", "/actions", "{\"action_type\":\"InstanceStart\"}"));
            // Shutdown(): CTRL+ALT+DEL (this guest has no keyboard driver and goes on), then the guest leaves.
            noContent(fc.send("PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}"));
            fc.serialIn.write('q');
            fc.serialIn.flush();
            assertEquals(0, fc.awaitExit());
            // A request after the guest is gone: refused with one line while the process ends.
            UnixHttp.Answer after = fc.send("PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}");
            assertEquals(400, after.status());
            assertTrue(new String(after.body(), StandardCharsets.UTF_8).startsWith("{\"fault_message\":\"The microVM has stopped"));
        } finally {
            removeTap(tap);
        }
    }

    @Test
    void ctrlAltDelEndsAGuestThatListensAndTheProcessWithIt() throws Exception {
        try (Served fc = new Served(dir)) {
            expect(400, "{\"fault_message\":\"The requested operation is not supported before starting the microVM.\"}",
                    fc.send("PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}"));
            noContent(fc.send("PUT", "/boot-source", "{\"kernel_image_path\":\"" + kbd + "\"}"));
            noContent(fc.send("PUT", "/actions", "{\"action_type\":\"InstanceStart\"}"));
            assertTrue(fc.awaitSerial("kbd guest ready", Duration.ofSeconds(20)), fc.serial());
            noContent(fc.send("PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}"));
            assertEquals(0, fc.awaitExit());
            assertTrue(fc.serial().contains("ctrl-alt-del"), fc.serial());
        }
    }

    /**
     * Kata's driver: the microVM from a config file with its eight placeholder drives (empty files), GET / until
     * it reports started, then a placeholder's backing file swapped by PATCH /drives.
     */
    @Test
    void kataConfigFileThenPlaceholderDrivePatch() throws Exception {
        Path root = image(dir, "kata-containers.img", 1 << 20);
        StringBuilder drives = new StringBuilder("{\"drive_id\":\"rootfs\",\"path_on_host\":\"" + root
                + "\",\"is_root_device\":true,\"is_read_only\":true}");
        for (int i = 0; i < 8; i++) {
            drives.append(",{\"drive_id\":\"drive_").append(i).append("\",\"path_on_host\":\"")
                    .append(image(dir, "drive_" + i, 0)).append("\",\"is_root_device\":false,\"is_read_only\":false}");
        }
        String config = "{\"boot-source\":{\"kernel_image_path\":\"" + echo + "\",\"boot_args\":\"console=ttyS0 "
                + "reboot=k panic=1 pci=off iommu=off\"},\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":64,"
                + "\"smt\":false},\"drives\":[" + drives + "],\"network-interfaces\":[],\"vsock\":{\"guest_cid\":3,"
                + "\"uds_path\":\"" + dir.resolve("kata.hvsock") + "\"}}";
        Path file = dir.resolve("fcConfig.json");
        Files.writeString(file, config);
        try (Served fc = new Served(dir)) {
            ConfigFile.apply(ConfigFile.read(file), fc.vm);
            String info = new String(fc.send("GET", "/", null).body(), StandardCharsets.UTF_8);
            assertTrue(info.contains("\"started\":true") && info.contains("\"state\":\"Running\""), info);
            assertTrue(fc.awaitSerial("echo guest ready", Duration.ofSeconds(20)), fc.serial());
            String vmConfig = new String(fc.send("GET", "/vm/config", null).body(), StandardCharsets.UTF_8);
            assertTrue(vmConfig.contains("\"drive_id\":\"drive_7\"") && vmConfig.startsWith("{\"balloon\":null,\"drives\":"
                    + "[{\"drive_id\":\"rootfs\""), vmConfig);
            // Kata's agent is reached through the hybrid vsock's socket, there once the guest runs.
            assertTrue(vmConfig.contains("\"vsock\":{\"guest_cid\":3,\"uds_path\":\"" + dir.resolve("kata.hvsock") + "\"}"),
                    vmConfig);
            assertTrue(Files.exists(dir.resolve("kata.hvsock")));
            Path container = image(dir, "container.img", 2 << 20);
            // The placeholder's file is swapped under the running guest; the drive keeps its place (vdb).
            noContent(fc.send("PATCH", "/drives/drive_0", "{\"drive_id\":\"drive_0\",\"path_on_host\":\"" + container
                    + "\"}"));
            assertTrue(new String(fc.send("GET", "/vm/config", null).body(), StandardCharsets.UTF_8)
                    .contains("{\"drive_id\":\"drive_0\",\"path_on_host\":\"" + container + "\""));
            expect(400, "{\"fault_message\":\"Drive config error: Invalid block device ID!\"}",
                    fc.send("PATCH", "/drives/drive_9", "{\"drive_id\":\"drive_9\",\"path_on_host\":\"" + container + "\"}"));
            expect(400, "{\"fault_message\":\"Drive config error: Unable to open the block device backing file: /no/disk: "
                    + "No such file or directory (os error 2)\"}",
                    fc.send("PATCH", "/drives/drive_1", "{\"drive_id\":\"drive_1\",\"path_on_host\":\"/no/disk\"}"));
            assertTrue(new String(fc.send("GET", "/", null).body(), StandardCharsets.UTF_8).contains("Running"));
        }
    }

    /** go-sdk's snapshot calls: pause, create, and a new process that loads it and goes on. */
    @Test
    void snapshotCreateThenLoadInAnotherFrontEnd() throws Exception {
        Path root = image(dir, "root.img", 1 << 20);
        Path snap = dir.resolve("snap");
        Path mem = dir.resolve("snap.mem");
        try (Served fc = new Served(dir)) {
            noContent(fc.send("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":32}"));
            noContent(fc.send("PUT", "/boot-source", "{\"kernel_image_path\":\"" + echo + "\"}"));
            noContent(fc.send("PUT", "/drives/root", "{\"drive_id\":\"root\",\"path_on_host\":\"" + root
                    + "\",\"is_root_device\":true,\"is_read_only\":false}"));
            noContent(fc.send("PUT", "/actions", "{\"action_type\":\"InstanceStart\"}"));
            assertTrue(fc.awaitSerial("echo guest ready", Duration.ofSeconds(20)), fc.serial());
            expect(400, "{\"fault_message\":\"Create snapshot error: the microVM must be paused first (PATCH /vm "
                    + "{\\\"state\\\": \\\"Paused\\\"})\"}", fc.send("PUT", "/snapshot/create",
                    "{\"snapshot_path\":\"" + snap + "\",\"mem_file_path\":\"" + mem + "\"}"));
            noContent(fc.send("PATCH", "/vm", "{\"state\":\"Paused\"}"));
            noContent(fc.send("PUT", "/snapshot/create", "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"" + snap
                    + "\",\"mem_file_path\":\"" + mem + "\"}"));
            assertTrue(Files.isRegularFile(snap.resolve("state")) && Files.isSymbolicLink(mem));
        }
        Path second = Files.createDirectories(dir.resolve("second"));
        try (Served fc = new Served(second)) {
            noContent(fc.send("PUT", "/snapshot/load", "{\"snapshot_path\":\"" + snap + "\",\"mem_backend\":"
                    + "{\"backend_type\":\"File\",\"backend_path\":\"" + mem + "\"},\"resume_vm\":true}"));
            assertTrue(new String(fc.send("GET", "/", null).body(), StandardCharsets.UTF_8).contains("\"state\":\"Running\""));
            expect(200, "{\"vcpu_count\":1,\"mem_size_mib\":32,\"smt\":false,\"track_dirty_pages\":false,"
                    + "\"huge_pages\":\"None\"}", fc.send("GET", "/machine-config", null));
            fc.serialIn.write("abc".getBytes(StandardCharsets.US_ASCII));
            fc.serialIn.flush();
            assertTrue(fc.awaitSerial("ABC", Duration.ofSeconds(20)), fc.serial());
        }
    }
}
