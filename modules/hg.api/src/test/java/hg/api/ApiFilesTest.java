package hg.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.api.RawHttp.Answer;
import hg.host.Machines;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET and PUT /vms/{id}/files over the wire, against a stand-in for VM 1's vsock socket that speaks the agent's
 * protocol (guest/agent/PROTOCOL.md): the bytes stream through both ways, the mode travels in a header, and a
 * copy that fails half-way is never taken for a whole file.
 */
class ApiFilesTest {
    @TempDir
    Path tmp;
    private Daemon daemon;
    private ServerSocketChannel agentSocket;
    private final CompletableFuture<ByteArrayOutputStream> received = new CompletableFuture<>();

    /** What the stand-in agent does with one connection, after the CONNECT handshake. */
    interface Agent {
        void serve(DataInputStream in, OutputStream out) throws IOException;
    }

    @BeforeEach
    void start() throws IOException {
        Path kernels = Files.createDirectories(tmp.resolve("kernels"));
        Path images = Files.createDirectories(tmp.resolve("images"));
        daemon = Daemon.start(tmp, kernels, images, new OneRunningVm(tmp.resolve("vm1.vsock")));
    }

    @AfterEach
    void stop() throws IOException {
        daemon.close();
        if (agentSocket != null) {
            agentSocket.close();
        }
    }

    private void agent(Agent agent) throws IOException {
        agentSocket = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        agentSocket.bind(UnixDomainSocketAddress.of(tmp.resolve("vm1.vsock")));
        Thread.ofVirtual().start(() -> {
            try (SocketChannel ch = agentSocket.accept()) {
                DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
                OutputStream out = Channels.newOutputStream(ch);
                while (in.read() != '\n') {
                    // the CONNECT line
                }
                out.write("OK 1073741824\n".getBytes(StandardCharsets.US_ASCII));
                agent.serve(in, out);
            } catch (IOException e) {
                // the daemon went
            }
        });
    }

    private static void frame(OutputStream out, int type, byte[] p) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) type).putInt(p.length);
        out.write(h.array());
        out.write(p);
        out.flush();
    }

    private static byte[] payload(DataInputStream in, int expectedType) throws IOException {
        int type = in.read();
        assertEquals(expectedType, type, "frame type");
        byte[] len = in.readNBytes(4);
        byte[] p = new byte[ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt()];
        in.readFully(p);
        return p;
    }

    private static byte[] fileHead(int mode, long size) {
        return ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(mode).putLong(size).array();
    }

    @Test
    void aGuestFileStreamsOutWithItsMode() throws Exception {
        byte[] file = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(file);
        agent((in, out) -> {
            assertEquals("/var/log/big.bin\0", new String(payload(in, 7), StandardCharsets.UTF_8));
            frame(out, 8, fileHead(0750, file.length));
            for (int at = 0; at < file.length; at += 65536) {
                frame(out, 9, java.util.Arrays.copyOfRange(file, at, Math.min(file.length, at + 65536)));
            }
            frame(out, 10, new byte[0]);
        });
        Answer a = RawHttp.get(daemon.socket, "/vms/1/files?path=/var/log/big.bin");
        assertEquals(200, a.status(), a.text());
        assertEquals("application/octet-stream", a.header("content-type"));
        assertEquals("0750", a.header("hyper-gen-file-mode"));
        assertArrayEquals(file, a.body());
    }

    @Test
    void aFileThatShrinksMidCopyEndsTheAnswerShort() throws Exception {
        agent((in, out) -> {
            payload(in, 7);
            frame(out, 8, fileHead(0644, 100_000));
            frame(out, 9, new byte[1000]);
            frame(out, 10, new byte[0]);
        });
        byte[] raw = rawAnswer("GET /vms/1/files?path=/tmp/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String head = new String(raw, StandardCharsets.ISO_8859_1);
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        assertTrue(head.contains("Content-Length: 100000"), head);
        int body = head.indexOf("\r\n\r\n") + 4;
        assertTrue(raw.length - body < 100_000, "the answer ends short of its length, so no client takes it whole");
    }

    @Test
    void aFileTheAgentRefusesIsOneLine() throws Exception {
        agent((in, out) -> {
            payload(in, 7);
            frame(out, 6, "/nope: No such file or directory".getBytes(StandardCharsets.UTF_8));
        });
        Answer a = RawHttp.get(daemon.socket, "/vms/1/files?path=/nope");
        assertEquals(500, a.status());
        assertEquals("vm 1: /nope: No such file or directory", a.error());
    }

    @Test
    void aPutStreamsTheBodyInWithTheModeOfItsHeader() throws Exception {
        byte[] file = new byte[1024 * 1024 + 3];
        new Random(9).nextBytes(file);
        agent((in, out) -> {
            byte[] write = payload(in, 11);
            assertEquals(0600, (write[0] & 0xff) | (write[1] & 0xff) << 8);
            assertEquals("/root/in.bin\0", new String(write, 4, write.length - 4, StandardCharsets.UTF_8));
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            int type;
            while ((type = in.read()) == 9) {
                byte[] len = in.readNBytes(4);
                data.write(in.readNBytes(ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt()));
            }
            assertEquals(10, type);
            in.readNBytes(4);
            received.complete(data);
            frame(out, 12, new byte[0]);
        });
        Answer a = RawHttp.send(daemon.socket, "PUT", "/vms/1/files?path=/root/in.bin", "application/octet-stream", file,
                "Hyper-Gen-File-Mode: 0600");
        assertEquals(204, a.status(), a.text());
        assertArrayEquals(file, received.get(5, TimeUnit.SECONDS).toByteArray());
    }

    @Test
    void badPathsAndModesAreRefusedBeforeTheGuestIsAsked() throws Exception {
        assertEquals("give the guest's file as an absolute path: ?path=/etc/hostname",
                RawHttp.get(daemon.socket, "/vms/1/files").error());
        assertEquals("give the guest's file as an absolute path: ?path=/etc/hostname, not etc/passwd",
                RawHttp.get(daemon.socket, "/vms/1/files?path=etc/passwd").error());
        Answer mode = RawHttp.send(daemon.socket, "PUT", "/vms/1/files?path=/x", "application/octet-stream", new byte[1],
                "Hyper-Gen-File-Mode: 4755");
        assertEquals(400, mode.status());
        assertEquals("header Hyper-Gen-File-Mode takes permission bits in octal, e.g. 0644, not 4755", mode.error());
        assertEquals(404, RawHttp.get(daemon.socket, "/vms/2/files?path=/x").status());
        // Nobody listens on VM 1's socket: one line, no hang.
        Answer none = RawHttp.get(daemon.socket, "/vms/1/files?path=/x");
        assertEquals(500, none.status());
        assertTrue(none.error().startsWith("vm 1 has no vsock socket at "), none.error());
    }

    private byte[] rawAnswer(String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(daemon.socket));
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
            return Channels.newInputStream(ch).readAllBytes();
        }
    }

    /** One running VM, id 1, whose vsock socket is {@code vsock}; nothing else is asked of it here. */
    private record OneRunningVm(Path vsock) implements Machines {
        @Override
        public int maxVcpus() {
            return 1;
        }

        @Override
        public String memoryRule() {
            return "none";
        }

        @Override
        public List<Info> list() {
            return List.of(new Info(1, Path.of("/k"), List.of(), 1, 64L << 20, new State.Running(), Duration.ZERO, "-",
                    Counters.NONE, Optional.of(vsock)));
        }

        @Override
        public int create(Spec spec) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Console attach(int id, OutputStream sink) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void pause(int id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void resume(int id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Snapshot snapshot(int id, Path dir, boolean stop) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int restore(Path dir, boolean paused) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<Integer> clone(int id, int count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void destroy(int id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {}
    }
}
