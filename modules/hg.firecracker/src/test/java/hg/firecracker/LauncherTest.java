package hg.firecracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import hg.host.testkit.TestGuests;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The front end as a process, started the way clients start Firecracker: flintlock's command line
 * ({@code --id --boot-timer --no-api --config-file --metadata}), Kata's {@code --version} check, and the exit
 * codes of a command line or config file Firecracker would refuse.
 */
class LauncherTest {
    @TempDir
    static Path guests;
    static Path echo;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildGuest() throws Exception {
        TestGuests.assumeKvm();
        echo = TestGuests.build(guests, "echo", f -> ClientSequencesTest.class.getResourceAsStream("/guests/" + f));
    }

    /** This module's main in a JVM of its own, on the test's module path. */
    static Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=hg.kvm,hg.ninep", "-p", System.getProperty("jdk.module.path"),
                "-m", "hg.firecracker/hg.firecracker.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).start();
    }

    record Ended(int code, String out, String err) {}

    static Ended run(Process p) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        Thread o = Thread.ofPlatform().start(() -> copy(p.getInputStream(), out));
        Thread e = Thread.ofPlatform().start(() -> copy(p.getErrorStream(), err));
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the launcher did not end within 60 s");
        }
        o.join();
        e.join();
        return new Ended(p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void copy(InputStream in, OutputStream out) {
        try {
            in.transferTo(out);
        } catch (IOException ex) {
            // the process is gone
        }
    }

    @Test
    void versionIsFirecrackersThenHyperGens() throws Exception {
        Ended v = run(start("--version"));
        assertEquals(0, v.code());
        String[] lines = v.out().split("\n");
        assertEquals("Firecracker v" + Main.FIRECRACKER_VERSION, lines[0]);
        assertTrue(lines[1].startsWith("hyper-gen "), v.out());
    }

    @Test
    void argumentAndConfigErrorsEndWithFirecrackersCodes() throws Exception {
        Ended unknown = run(start("--api-sock", dir.resolve("s").toString(), "--jailer"));
        assertEquals(153, unknown.code());
        assertTrue(unknown.err().startsWith("Arguments parsing error: Found argument '--jailer' which wasn't expected"),
                unknown.err());
        assertEquals(153, run(start("--no-api")).code());
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"boot-source\":{\"kernel_image_path\":\"" + echo + "\"},\"machine-config\":"
                + "{\"vcpu_count\":1,\"mem_size_mib\":64,\"ht_enabled\":false}}");
        Ended config = run(start("--no-api", "--config-file", bad.toString()));
        assertEquals(152, config.code());
        assertTrue(config.err().contains("Configuration for VMM from one single json failed: unknown field 'ht_enabled'"),
                config.err());
    }

    /** flintlock: no API at all, everything from the config file, the guest's end is the process's end. */
    @Test
    void flintlockNoApiConfigFileBootsAndEndsWithTheGuest() throws Exception {
        Path root = ClientSequencesTest.image(dir, "root.img", 1 << 20);
        Path config = dir.resolve("firecracker.cfg");
        Files.writeString(config, "{\"boot-source\":{\"kernel_image_path\":\"" + echo + "\",\"boot_args\":\"console=ttyS0 "
                + "reboot=k panic=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd\"},\"drives\":[{\"drive_id\":\"root\","
                + "\"path_on_host\":\"" + root + "\",\"is_root_device\":true,\"is_read_only\":false,\"cache_type\":\"Unsafe\"}],"
                + "\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":64,\"smt\":false},\"network-interfaces\":[],"
                + "\"logger\":{\"log_path\":\"" + dir.resolve("fc.log") + "\",\"level\":\"Debug\",\"show_level\":true,"
                + "\"show_log_origin\":true},\"metrics\":{\"metrics_path\":\"" + dir.resolve("metrics.log") + "\"}}");
        Files.createFile(dir.resolve("fc.log"));
        Files.createFile(dir.resolve("metrics.log"));
        Path metadata = dir.resolve("metadata.json");
        Files.writeString(metadata, "{\"latest\":{\"meta-data\":{\"instance-id\":\"ns1/vm1\"}}}");
        Process p = start("--id", "01HQ7V2S8F", "--boot-timer", "--no-api", "--config-file", config.toString(),
                "--metadata", metadata.toString());
        byte[] ready = "echo guest ready".getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        InputStream out = p.getInputStream();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!seen.toString(StandardCharsets.US_ASCII).contains(new String(ready, StandardCharsets.US_ASCII))
                && System.nanoTime() < end) {
            int b = out.read();
            if (b < 0) {
                break;
            }
            seen.write(b);
        }
        p.getOutputStream().write('q');
        p.getOutputStream().flush();
        Ended ended = run(p);
        assertTrue(seen.toString(StandardCharsets.US_ASCII).contains("echo guest ready"), seen + ended.err());
        assertEquals(0, ended.code(), ended.err());
        String log = Files.readString(dir.resolve("fc.log"));
        assertTrue(log.contains("[01HQ7V2S8F:") && log.contains("The microVM started"), log);
        assertTrue(log.contains("Vmm is stopping"), log);
        assertTrue(ended.err().contains("serves no MMDS") || log.contains("serves no MMDS"), log + ended.err());
        String metrics = Files.readString(dir.resolve("metrics.log"));
        assertTrue(metrics.startsWith("{\"utc_timestamp_ms\":"), metrics);
    }
}
