package hg.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The boot image running nested in QEMU (started through bootimage/up.sh, the same script as
 * {@code ./hg up}): its serial console on the process's stdio, QEMU's monitor on a unix socket and,
 * when asked, a busybox shell on a second serial port for looking inside. Always bounded (up.sh's
 * timeout plus a watchdog here) and always killed by pid on close.
 */
final class NestedRig implements AutoCloseable {

    /**
     * @param name        names the log files (target/e2e/NAME-*.log)
     * @param vga         a q35 PC with a VGA display (and a keyboard controller) instead of microvm
     * @param append      more kernel cmdline
     * @param debugShell  a busybox sh on the nest's ttyS1 ({@link #debugShell()})
     * @param bare        nothing on the cmdline but console=ttyS0 and {@code append}
     * @param initrd      an initramfs to boot instead of the image's, or null
     * @param disk        a raw disk for the nest (/dev/vda), or null
     * @param hardTimeout QEMU is killed after this, whatever happens
     * @param uplinkWww   a network card for the nest whose one way out is http://10.0.2.100/ served from this
     *                    directory (up.sh --uplink-www), or null
     * @param medium      install media to boot through firmware and GRUB instead of the kernel, or null
     */
    record Options(String name, boolean vga, boolean bare, String append, boolean debugShell, Path initrd, Path disk,
                   Duration hardTimeout, Path uplinkWww, Medium medium) {
        static Options named(String name) {
            return new Options(name, false, false, "", false, null, null, Duration.ofMinutes(5), null, null);
        }

        /**
         * Boots from this medium (up.sh --iso/--stick): GRUB gives the cmdline, so {@link #withAppend} does not
         * apply and a {@link #withDebugShell} needs {@code hg_debug_shell=ttyS1} from the medium's menu.
         */
        Options withMedium(Medium m) {
            return new Options(name, true, bare, append, debugShell, initrd, disk, hardTimeout, uplinkWww, m);
        }

        Options withUplinkWww(Path dir) {
            return new Options(name, vga, bare, append, debugShell, initrd, disk, hardTimeout, dir, medium);
        }

        Options withVga() {
            return new Options(name, true, bare, append, debugShell, initrd, disk, hardTimeout, uplinkWww, medium);
        }

        /** Only console=ttyS0 (and {@link #withAppend}) on the cmdline, as a GRUB entry would give. */
        Options bareCmdline() {
            return new Options(name, vga, true, append, debugShell, initrd, disk, hardTimeout, uplinkWww, medium);
        }

        Options withAppend(String more) {
            return new Options(name, vga, bare, (append + " " + more).strip(), debugShell, initrd, disk, hardTimeout, uplinkWww, medium);
        }

        Options withDebugShell() {
            return new Options(name, vga, bare, append, true, initrd, disk, hardTimeout, uplinkWww, medium);
        }

        /** Boots this initramfs instead of the image's own (see {@link ExtraInitrd}). */
        Options withInitrd(Path file) {
            return new Options(name, vga, bare, append, debugShell, file, disk, hardTimeout, uplinkWww, medium);
        }

        /** A raw disk, read-only, as /dev/vda in the nest. */
        Options withDisk(Path file) {
            return new Options(name, vga, bare, append, debugShell, initrd, file, hardTimeout, uplinkWww, medium);
        }
    }

    /** A boot medium: an ISO as a CD or a disk image as a USB stick, through SeaBIOS or OVMF. */
    record Medium(Path file, boolean usbStick, boolean uefi) {}

    static final String DEBUG_PROMPT = "hg-debug# ";

    private final Process qemu;
    private final Path tmp;
    private final ConsoleStream serial;
    private final ConsoleStream debug;
    private final Monitor monitor;
    private final long startedNanos;

    private NestedRig(Process qemu, Path tmp, ConsoleStream serial, ConsoleStream debug, Monitor monitor, long started) {
        this.qemu = qemu;
        this.tmp = tmp;
        this.serial = serial;
        this.debug = debug;
        this.monitor = monitor;
        this.startedNanos = started;
    }

    static NestedRig start(BootImage image, Options o) {
        Path logs = Path.of(System.getProperty("user.dir"), "target", "e2e");
        Path tmp;
        try {
            Files.createDirectories(logs);
            tmp = Files.createTempDirectory("hg-e2e-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the rig's directories", e);
        }
        Path monitorSocket = tmp.resolve("monitor.sock");
        Path serial2Socket = tmp.resolve("serial2.sock");
        List<String> cmd = new ArrayList<>(List.of(image.upScript().toString(),
                "--timeout", Long.toString(o.hardTimeout().toSeconds()), "--kernel-log",
                "--monitor", monitorSocket.toString()));
        if (o.vga()) {
            if (o.medium() == null) {
                cmd.add("--vga");
            }
            cmd.addAll(List.of("--display", "none"));
        }
        if (o.bare()) {
            cmd.add("--bare");
        }
        if (o.disk() != null) {
            cmd.addAll(List.of("--disk", o.disk().toString()));
        }
        if (o.initrd() != null) {
            cmd.addAll(List.of("--initrd", o.initrd().toString()));
        }
        if (o.uplinkWww() != null) {
            cmd.addAll(List.of("--uplink-www", o.uplinkWww().toString()));
        }
        if (o.medium() != null) {
            cmd.addAll(List.of(o.medium().usbStick() ? "--stick" : "--iso", o.medium().file().toString()));
            if (o.medium().uefi()) {
                cmd.add("--uefi");
            }
        }
        String append = o.append();
        if (o.debugShell()) {
            cmd.addAll(List.of("--serial2", serial2Socket.toString()));
            if (o.medium() == null) {
                append = (append + " hg_debug_shell=ttyS1").strip();
            }
        }
        if (!append.isEmpty()) {
            cmd.addAll(List.of("--append", append));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectError(logs.resolve(o.name() + "-qemu.log").toFile());
        pb.environment().put("HG_ROOT", image.root().toString());
        pb.environment().put("HG_BOOT_IMAGE", image.dir().toString());
        long started = System.nanoTime();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        ConsoleStream serial = null;
        ConsoleStream debug = null;
        Monitor monitor = null;
        try {
            serial = new ConsoleStream("ttyS0", p.getInputStream(), p.getOutputStream(),
                    logs.resolve(o.name() + "-serial.log"));
            monitor = Monitor.connect(monitorSocket, Duration.ofSeconds(30), p.toHandle());
            if (o.debugShell()) {
                SocketChannel ch = connectUnix(serial2Socket);
                debug = new ConsoleStream("ttyS1", Channels.newInputStream(ch), Channels.newOutputStream(ch),
                        logs.resolve(o.name() + "-debug.log"));
            }
            NestedRig rig = new NestedRig(p, tmp, serial, debug, monitor, started);
            rig.startWatchdog(o.hardTimeout().plusSeconds(15));
            return rig;
        } catch (RuntimeException | Error e) {
            kill(p);
            if (serial != null) serial.close();
            if (debug != null) debug.close();
            if (monitor != null) monitor.close();
            deleteTree(tmp);
            throw e;
        }
    }

    /** QEMU made the socket before its monitor came up, so it is there by now. */
    private static SocketChannel connectUnix(Path socket) {
        try {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect to the rig's second serial port " + socket, e);
        }
    }

    private void startWatchdog(Duration after) {
        Thread.ofVirtual().name("rig-watchdog").start(() -> {
            try {
                if (!qemu.waitFor(after.toMillis(), TimeUnit.MILLISECONDS)) {
                    kill(qemu);
                }
            } catch (InterruptedException ignored) {
                // The test JVM is going away; close() or the shutdown of the fork ends QEMU.
            }
        });
    }

    /** The serial console (ttyS0): the hyper-gen shell, or a self-test's output. */
    ConsoleStream serial() {
        return serial;
    }

    /** The busybox shell on ttyS1, once its prompt is up. */
    ConsoleStream debugShell() {
        if (debug == null) {
            throw new IllegalStateException("this rig was started without Options.withDebugShell()");
        }
        return debug;
    }

    /** One QEMU monitor (HMP) command, e.g. {@code sendkey alt-f3}. */
    String monitor(String command) {
        return monitor.command(command, Duration.ofSeconds(30));
    }

    /** Seconds since QEMU was started. */
    double elapsedSeconds() {
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    boolean isAlive() {
        return qemu.isAlive();
    }

    /** Waits for QEMU to exit by itself (the nest rebooted) and returns its exit status. */
    int waitForExit(Duration timeout) {
        try {
            if (!qemu.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("QEMU did not exit within " + timeout + "; serial tail:\n" + serial.tail(1500));
            }
            return qemu.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        if (qemu.isAlive()) {
            try {
                monitor.command("quit", Duration.ofSeconds(3));
            } catch (RuntimeException | AssertionError ignored) {
                // The monitor closes as QEMU quits, or QEMU is stuck: killed below either way.
            }
        }
        kill(qemu);
        monitor.close();
        serial.close();
        if (debug != null) {
            debug.close();
        }
        deleteTree(tmp);
    }

    /** Stops the process and everything under it (timeout -> qemu), politely first, by pid. */
    private static void kill(Process p) {
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        tree.add(p.toHandle());
        try {
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                tree.forEach(ProcessHandle::destroy);
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    tree.forEach(ProcessHandle::destroyForcibly);
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            tree.forEach(ProcessHandle::destroyForcibly);
            Thread.currentThread().interrupt();
        }
        // timeout(1) was killed but its qemu child must not outlive it.
        tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // A temp dir left behind is harmless.
        }
    }
}
