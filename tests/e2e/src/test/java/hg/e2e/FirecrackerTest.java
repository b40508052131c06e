package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The boot image's {@code firecracker} launcher runs a Linux guest the ways Firecracker's clients run one, on the
 * nest's root shell: flintlock's ({@code --no-api --config-file}, the guest driven through the process's stdin
 * and stdout, poweroff ending the process with 0), and firecracker-go-sdk's (the API's request sequence, here
 * through {@code hyper-gen remote}), whose guest {@code SendCtrlAltDel} stops.
 */
class FirecrackerTest {
    private static final Duration GUEST = Duration.ofMinutes(4);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final String KERNEL = "/usr/share/hyper-gen/kernels/vmlinux-6.1";
    private static final String IMAGE = "/usr/share/hyper-gen/images/busybox.ext4";
    private static final String BANNER = "type poweroff to stop";
    private static final String BOOT_ARGS = "console=ttyS0 reboot=k panic=1 pci=off";

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("firecracker", Duration.ofMinutes(12), (image, o) -> o.withDebugShell());

    private static String drive(String path) {
        return "{\"drive_id\":\"rootfs\",\"path_on_host\":\"" + path + "\",\"is_root_device\":true,\"is_read_only\":false}";
    }

    /** A shell loop that waits up to {@code seconds} for {@code text} in {@code file}. */
    private static String waitFor(String file, String text, int seconds) {
        return "n=0; until grep -q '" + text + "' " + file + " 2>/dev/null || [ $n -ge " + seconds + " ]; do sleep 1; "
                + "n=$((n+1)); done";
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void flintlockWayConfigFileNoApi() {
        ConsoleStream host = NEST.host();
        String config = "{\"boot-source\":{\"kernel_image_path\":\"" + KERNEL + "\",\"boot_args\":\"" + BOOT_ARGS + "\"},"
                + "\"drives\":[" + drive("/tmp/fc1.ext4") + "],\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":128,"
                + "\"smt\":false},\"network-interfaces\":[]}";
        assertEquals(0, host.run("cp " + IMAGE + " /tmp/fc1.ext4 && printf '%s' '" + config + "' > /tmp/fc1.json",
                COMMAND).status());
        // The guest's console is the process's: what it prints lands in fc1.out, what is typed comes from the loop.
        String run = host.run("( " + waitFor("/tmp/fc1.out", BANNER, 200) + "; sleep 1; echo 'echo hg-fc-$((6 * 7))'; "
                + "sleep 3; echo poweroff ) | firecracker --id e2e-flintlock --boot-timer --no-api --config-file "
                + "/tmp/fc1.json > /tmp/fc1.out 2>&1; echo fc-exit=$?", GUEST).output();
        String out = host.run("cat /tmp/fc1.out", COMMAND).output();
        assertTrue(run.contains("fc-exit=0"), "the firecracker process did not end with 0:\n" + run + "\n" + out);
        assertTrue(out.contains("hg-fc-42"), "the guest did not answer on the process's console:\n" + out);
        assertTrue(out.contains("Guest-boot-time ="), "--boot-timer logged no boot time:\n" + out);
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void goSdkWayApiSequenceThenCtrlAltDel() {
        ConsoleStream host = NEST.host();
        String r = "hyper-gen remote --api-sock /tmp/fc2.sock ";
        assertEquals(0, host.run("cp " + IMAGE + " /tmp/fc2.ext4 && rm -f /tmp/fc2.sock /tmp/fc2.rc && "
                + "( firecracker --api-sock /tmp/fc2.sock --id e2e-gosdk < /dev/null > /tmp/fc2.out 2>&1; "
                + "echo $? > /tmp/fc2.rc ) & n=0; until [ -S /tmp/fc2.sock ] || [ $n -ge 60 ]; do sleep 0.5; n=$((n+1)); done; "
                + "[ -S /tmp/fc2.sock ]", COMMAND).status(), "the API socket did not appear");
        // The SDK's readiness check, then its default handlers in order.
        assertTrue(host.run(r + "GET /machine-config", COMMAND).output().contains("\"mem_size_mib\":128"));
        for (String[] call : new String[][] {
                {"PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false}"},
                {"PUT", "/boot-source", "{\"kernel_image_path\":\"" + KERNEL + "\",\"boot_args\":\"" + BOOT_ARGS + "\"}"},
                {"PUT", "/drives/rootfs", drive("/tmp/fc2.ext4")},
                {"PUT", "/actions", "{\"action_type\":\"InstanceStart\"}"}}) {
            ConsoleStream.ShellResult a = host.run(r + call[0] + " " + call[1] + " '" + call[2] + "'", COMMAND);
            assertTrue(a.status() == 0 && a.output().contains("HTTP 204"), call[0] + " " + call[1] + ":\n" + a.output());
        }
        host.run(waitFor("/tmp/fc2.out", BANNER, 200), GUEST);
        String booted = host.run("cat /tmp/fc2.out", COMMAND).output();
        assertTrue(booted.contains(BANNER), "the guest did not come up:\n" + booted);
        String info = host.run(r + "GET /", COMMAND).output();
        assertTrue(info.contains("\"state\":\"Running\"") && info.contains("\"id\":\"e2e-gosdk\""), info);
        // The SDK's Shutdown(): busybox init reboots on CTRL+ALT+DEL, reboot=k resets, the process ends with 0.
        ConsoleStream.ShellResult cad = host.run(r + "PUT /actions '{\"action_type\":\"SendCtrlAltDel\"}'", COMMAND);
        assertTrue(cad.output().contains("HTTP 204"), cad.output());
        String rc = host.run(waitFor("/tmp/fc2.rc", "[0-9]", 120) + "; cat /tmp/fc2.rc; ls /tmp/fc2.sock 2>&1", GUEST)
                .output();
        assertTrue(rc.contains("\n0\n") || rc.startsWith("0\n"), "the process did not end with 0 after CTRL+ALT+DEL:\n"
                + rc + "\n" + host.run("tail -20 /tmp/fc2.out", COMMAND).output());
        assertTrue(rc.contains("No such file"), "the API socket outlived the process:\n" + rc);
    }
}
