package hg.host;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The host side of the agent protocol against a stand-in for a VM's vsock socket that speaks it as
 * guest/agent/PROTOCOL.md says: the CONNECT handshake, then frames.
 */
class GuestAgentTest {
    @TempDir
    Path dir;
    private ServerSocketChannel listener;
    private Thread server;

    interface Script {
        void serve(DataInputStream in, OutputStream out) throws IOException;
    }

    private Path vsock(boolean answerConnect, Script script) throws IOException {
        Path socket = dir.resolve("vm1.vsock");
        Files.deleteIfExists(socket);
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        server = Thread.ofVirtual().start(() -> {
            try (SocketChannel ch = listener.accept()) {
                DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
                OutputStream out = Channels.newOutputStream(ch);
                StringBuilder line = new StringBuilder();
                int b;
                while ((b = in.read()) != '\n' && b >= 0) {
                    line.append((char) b);
                }
                assertEquals("CONNECT 1024", line.toString());
                if (!answerConnect) {
                    return;
                }
                out.write("OK 1073741824\n".getBytes(StandardCharsets.US_ASCII));
                script.serve(in, out);
            } catch (IOException e) {
                // the client went
            }
        });
        return socket;
    }

    @AfterEach
    void stop() throws Exception {
        if (listener != null) {
            listener.close();
        }
        if (server != null) {
            server.join(5000);
        }
    }

    static int frameType(DataInputStream in, List<byte[]> payloads) throws IOException {
        int type = in.read();
        byte[] h = new byte[4];
        in.readFully(h);
        int len = (h[0] & 0xff) | (h[1] & 0xff) << 8 | (h[2] & 0xff) << 16 | (h[3] & 0xff) << 24;
        byte[] p = new byte[len];
        in.readFully(p);
        payloads.add(p);
        return type;
    }

    static void frame(OutputStream out, int type, byte[] p) throws IOException {
        out.write(new byte[] {(byte) type, (byte) p.length, (byte) (p.length >>> 8), (byte) (p.length >>> 16),
                (byte) (p.length >>> 24)});
        out.write(p);
        out.flush();
    }

    @Test
    void execSendsTheCommandAndStreamsItsOutputAndStatus() throws Exception {
        List<byte[]> seen = new ArrayList<>();
        Path socket = vsock(true, (in, out) -> {
            assertEquals(1, frameType(in, seen));          // EXEC
            assertEquals(2, frameType(in, seen));          // STDIN, empty: no input
            assertEquals(0, seen.get(1).length);
            frame(out, 3, "hello\n".getBytes(StandardCharsets.UTF_8));
            frame(out, 4, "oops\n".getBytes(StandardCharsets.UTF_8));
            frame(out, 5, new byte[] {3, 0, 0, 0});
        });
        ByteArrayOutputStream stdout = new ByteArrayOutputStream(), stderr = new ByteArrayOutputStream();
        int status = new GuestAgent(1, socket).exec(new GuestAgent.Command(List.of("sh", "-c", "exit 3"), Map.of("A", "1"),
                "/tmp"), null, stdout, stderr, Duration.ofSeconds(10));
        assertEquals(3, status);
        assertEquals("hello\n", stdout.toString(StandardCharsets.UTF_8));
        assertEquals("oops\n", stderr.toString(StandardCharsets.UTF_8));
        byte[] exec = seen.getFirst();
        assertArrayEquals(GuestAgent.execPayload(new GuestAgent.Command(List.of("sh", "-c", "exit 3"), Map.of("A", "1"),
                "/tmp")), exec);
        assertEquals(3, exec[0], "argc");
        assertEquals(1, exec[4], "envc");
        assertEquals("sh\0-c\0exit 3\0A=1\0/tmp\0", new String(exec, 8, exec.length - 8, StandardCharsets.UTF_8));
    }

    @Test
    void aGuestWithoutAnAgentIsOneLine() throws Exception {
        Path socket = vsock(false, (in, out) -> { });
        HostException e = assertThrows(HostException.class, () -> new GuestAgent(1, socket).version());
        assertEquals("vm 1: no agent listens on vsock port 1024 (the guest has no hg-agent, or it has not started yet)",
                e.getMessage());
    }

    @Test
    void aCommandPastItsTimeoutIsEndedWithOneLine() throws Exception {
        Path socket = vsock(true, (in, out) -> {
            while (in.read() >= 0) {
                // says nothing and waits
            }
        });
        HostException e = assertThrows(HostException.class, () -> new GuestAgent(1, socket).exec(
                new GuestAgent.Command(List.of("sleep", "100"), Map.of(), ""), null, OutputStream.nullOutputStream(),
                OutputStream.nullOutputStream(), Duration.ofSeconds(1)));
        assertEquals("vm 1: sleep did not end within 1 s and was killed", e.getMessage());
    }

    @Test
    void copyOutWritesTheFileWholeWithItsMode() throws Exception {
        List<byte[]> seen = new ArrayList<>();
        Path socket = vsock(true, (in, out) -> {
            assertEquals(7, frameType(in, seen));
            frame(out, 8, new byte[] {(byte) 0xe8, 1, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0});
            frame(out, 9, "ab".getBytes(StandardCharsets.UTF_8));
            frame(out, 9, "cde".getBytes(StandardCharsets.UTF_8));
            frame(out, 10, new byte[0]);
        });
        Path local = dir.resolve("out.bin");
        assertEquals(5, new GuestAgent(1, socket).copyOut("/etc/x", local));
        assertEquals("/etc/x\0", new String(seen.getFirst(), StandardCharsets.UTF_8));
        assertEquals("abcde", Files.readString(local));
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(local)));
    }

    @Test
    void aCopyOutTheAgentRefusesLeavesNothing() throws Exception {
        Path socket = vsock(true, (in, out) -> {
            frameType(in, new ArrayList<>());
            frame(out, 6, "/nope: No such file or directory".getBytes(StandardCharsets.UTF_8));
        });
        Path local = dir.resolve("out.bin");
        HostException e = assertThrows(HostException.class, () -> new GuestAgent(1, socket).copyOut("/nope", local));
        assertEquals("vm 1: /nope: No such file or directory", e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("vm1.vsock"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void copyInSendsModePathAndData() throws Exception {
        List<byte[]> seen = new ArrayList<>();
        Path socket = vsock(true, (in, out) -> {
            assertEquals(11, frameType(in, seen));
            int t;
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            while ((t = frameType(in, seen)) == 9) {
                data.write(seen.getLast());
            }
            assertEquals(10, t);
            assertEquals(70_000, data.size());
            frame(out, 12, new byte[0]);
        });
        Path local = dir.resolve("in.bin");
        Files.write(local, new byte[70_000]);
        Files.setPosixFilePermissions(local, PosixFilePermissions.fromString("rw-r-----"));
        assertEquals(70_000, new GuestAgent(1, socket).copyIn(local, "/root/in.bin"));
        byte[] write = seen.getFirst();
        assertEquals(0640, (write[0] & 0xff) | (write[1] & 0xff) << 8);
        assertEquals("/root/in.bin\0", new String(write, 4, write.length - 4, StandardCharsets.UTF_8));
    }

    @Test
    void aClonesNetworkAndSeedGoAsTheProtocolSays() throws Exception {
        List<byte[]> seen = new ArrayList<>();
        Path socket = vsock(true, (in, out) -> {
            assertEquals(14, frameType(in, seen));
            frame(out, 12, new byte[0]);
        });
        new GuestAgent(1, socket).setNetwork("eth0", new byte[] {2, 0x68, 0x67, 0, 0, 9}, "172.30.0.10/16", "172.30.0.1");
        assertArrayEquals(("eth0\u0000\u0002hg\u0000\u0000\u0009172.30.0.10/16\u0000172.30.0.1\u0000").getBytes(StandardCharsets.ISO_8859_1),
                seen.getFirst());
        stop();

        seen.clear();
        socket = vsock(true, (in, out) -> {
            assertEquals(15, frameType(in, seen));
            frame(out, 6, "reseed: Operation not permitted".getBytes(StandardCharsets.UTF_8));
        });
        Path s = socket;
        HostException e = assertThrows(HostException.class, () -> new GuestAgent(1, s).reseed(new byte[64]));
        assertEquals("vm 1: reseed: Operation not permitted", e.getMessage());
        assertEquals(64, seen.getFirst().length);
        assertThrows(IllegalArgumentException.class, () -> new GuestAgent(1, s).reseed(new byte[GuestAgent.MAX_SEED + 1]));
    }
}
