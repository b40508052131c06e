package hg.vmm.internal.virtio.vsock;

import hg.kvm.GuestMemory;
import hg.vmm.internal.log.RateLimitedLog;
import hg.vmm.internal.virtio.DescriptorChain;
import hg.vmm.internal.virtio.VirtQueue;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioDevice;
import hg.vmm.internal.virtio.VirtioException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * virtio-vsock (virtio 1.2 section 5.10), stream sockets only, on a {@link HybridHost}: queue 0
 * carries packets to the guest, queue 1 the guest's packets, queue 2 events (a transport reset
 * after a restore, so the guest drops streams that did not survive; its listeners stay).
 *
 * <p>Everything here runs on the device's turn, serialised by the transport: a queue notification,
 * or the host side's kick when a socket is ready. What a guest can make the VMM hold is bounded:
 * {@link #MAX_CONNECTIONS} streams, {@link VsockConnection#BUF_ALLOC} bytes waiting per stream (the
 * credit it was given; past it the stream is reset), {@link #MAX_RESETS} answers to packets for
 * streams that do not exist, and one receive chain held while a socket has nothing to read.
 */
public final class VirtioVsock implements VirtioDevice {
    public static final int DEVICE_ID = 19;
    public static final int QUEUE_SIZE = 256;
    public static final int RX = 0, TX = 1, EVENT = 2;
    public static final long HOST_CID = 2;
    /** Every guest has CID 3, as Firecracker's clients expect: its host side is a socket of its own, never AF_VSOCK. */
    public static final long GUEST_CID = 3;
    public static final int MAX_CONNECTIONS = 256;
    static final int MAX_RESETS = 256;
    /** The largest payload of one packet either way, as Linux sends and expects. */
    static final int MAX_PAYLOAD = 64 * 1024;
    static final int EVENT_TRANSPORT_RESET = 0;
    /** Host-side ports of streams a host program opened count up from here, clear of the guest's own choice. */
    static final int FIRST_HOST_PORT = 1 << 30;

    private final HybridHost host;
    private final RateLimitedLog warnings;
    private final String name;
    private final Map<Long, VsockConnection> connections = new LinkedHashMap<>();
    private final ArrayDeque<VsockHeader> resets = new ArrayDeque<>();
    private boolean resetEventDue;
    /**
     * The transport reset went to the guest and it has not given the event buffer back yet: until it does, it may
     * still be resetting its streams, a new one among them, so host programs' connections wait.
     */
    private boolean resetUnseen;
    private final ArrayDeque<HostEvent.Connect> deferred = new ArrayDeque<>();
    private int nextHostPort = FIRST_HOST_PORT;

    private GuestMemory memory;
    private List<VirtQueue> queues = List.of();
    private UsedSignal signal;
    /** A receive chain taken for data that turned out not to be there yet; used first next time. */
    private DescriptorChain rxSpare;
    private boolean used;

    /**
     * @param restored the guest was snapshotted with streams open: tell it on activation that they are gone
     */
    public VirtioVsock(Path socket, String name, RateLimitedLog warnings, boolean restored) throws IOException {
        this.host = HybridHost.listen(socket, name + "-vsock");
        this.name = name;
        this.warnings = warnings;
        this.resetEventDue = restored;
    }

    /** What runs the device's turn from the host side: the transport's receive-queue notification. */
    public void onHostEvents(Runnable kick) {
        host.onEvents(kick);
    }

    public Path socket() {
        return host.path();
    }

    /** Streams open now (for vm_list and tests). */
    public synchronized int connections() {
        return connections.size();
    }

    /** Resets waiting for a receive buffer (for tests: at most {@link #MAX_RESETS}). */
    synchronized int pendingResets() {
        return resets.size();
    }

    @Override
    public int deviceType() {
        return DEVICE_ID;
    }

    @Override
    public long deviceFeatures() {
        // Stream sockets only: VIRTIO_VSOCK_F_SEQPACKET is not offered.
        return Virtio.bit(Virtio.F_VERSION_1);
    }

    @Override
    public List<Integer> queueMaxSizes() {
        return List.of(QUEUE_SIZE, QUEUE_SIZE, QUEUE_SIZE);
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            long o = offset + i;
            data[i] = o >= 0 && o < 8 ? (byte) (GUEST_CID >>> (8 * o)) : 0;
        }
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
        // guest_cid is the device's to say
    }

    @Override
    public synchronized void activate(GuestMemory memory, long features, List<VirtQueue> queues, UsedSignal signal)
            throws VirtioException {
        this.memory = memory;
        this.queues = queues;
        this.signal = signal;
        if (queues.size() == 3) {
            used = false;
            sendEvents();
            finishTurn();
        }
    }

    @Override
    public synchronized void reset() {
        for (VsockConnection c : connections.values()) {
            c.close();
        }
        connections.clear();
        resets.clear();
        for (HostEvent.Connect c : deferred) {
            c.key().cancel();
            closeQuietly(c.channel());
        }
        deferred.clear();
        resetUnseen = false;
        rxSpare = null;
        memory = null;
        queues = List.of();
        signal = null;
        drainHostEvents(false);
    }

    @Override
    public synchronized void processQueue(int index) throws VirtioException {
        if (queues.size() != 3) {
            return;
        }
        used = false;
        if (index == EVENT && resetUnseen) {
            resetUnseen = false;   // Linux refills the event queue once it has reset its streams
        }
        drainHostEvents(true);
        if (index == TX) {
            transmit();
        } else if (index == EVENT) {
            sendEvents();
        }
        fillReceive();
        finishTurn();
    }

    private void finishTurn() {
        rearm();
        if (used && anyNeedsInterrupt()) {
            signal.usedBuffers();
        }
    }

    private boolean anyNeedsInterrupt() {
        try {
            for (VirtQueue q : queues) {
                if (q.active() && q.needsInterrupt()) {
                    return true;
                }
            }
            return false;
        } catch (VirtioException e) {
            return true;
        }
    }

    // ---- the host side's events

    private void drainHostEvents(boolean active) {
        while (!resetUnseen && !deferred.isEmpty()) {
            connect(deferred.poll(), active);
        }
        HostEvent e;
        while ((e = host.poll()) != null) {
            switch (e) {
                case HostEvent.Connect c -> {
                    if (active && resetUnseen && deferred.size() < MAX_CONNECTIONS) {
                        deferred.add(c);
                    } else {
                        connect(c, active);
                    }
                }
                case HostEvent.Ready r -> {
                    VsockConnection c = r.connection();
                    if (active && connections.get(c.key()) == c) {
                        ready(c, r.ops());
                    }
                }
            }
        }
    }

    private void connect(HostEvent.Connect c, boolean active) {
        if (active && connections.size() < MAX_CONNECTIONS) {
            hostConnect(c);
        } else {
            c.key().cancel();
            closeQuietly(c.channel());
        }
    }

    private void hostConnect(HostEvent.Connect event) {
        int hostPort = freeHostPort(event.port());
        VsockConnection c = new VsockConnection(event.port(), hostPort, event.channel(), VsockConnection.State.CONNECTING);
        c.key = event.key();
        c.key.attach(c);
        c.sendRequest = true;
        connections.put(c.key(), c);
    }

    private int freeHostPort(int guestPort) {
        while (connections.containsKey(VsockConnection.key(guestPort, nextHostPort))) {
            nextHostPort = nextHostPort == -1 ? FIRST_HOST_PORT : nextHostPort + 1;
        }
        int port = nextHostPort;
        nextHostPort = nextHostPort == -1 ? FIRST_HOST_PORT : nextHostPort + 1;
        return port;
    }

    private void ready(VsockConnection c, int ops) {
        if ((ops & SelectionKey.OP_READ) != 0) {
            c.hostReadable = true;
        }
        if ((ops & SelectionKey.OP_WRITE) != 0) {
            try {
                if (c.flush() && c.guestSendsNoMore) {
                    if (c.guestReceivesNoMore) {
                        reset(c);   // the guest closed and the last of what it sent is with the host program
                    } else {
                        c.host.shutdownOutput();
                    }
                }
            } catch (IOException e) {
                reset(c);
            }
        }
    }

    // ---- the guest's packets

    private void transmit() throws VirtioException {
        VirtQueue q = queues.get(TX);
        if (!q.active()) {
            return;
        }
        do {
            DescriptorChain chain;
            while ((chain = q.pop()) != null) {
                packetFromGuest(chain);
                q.addUsed(chain.head(), 0);
                used = true;
            }
        } while (q.enableNotification());
    }

    private void packetFromGuest(DescriptorChain chain) {
        if (chain.readableBytes() < VsockHeader.SIZE) {
            warnings.log("vsock-short", System.Logger.Level.WARNING, name + ": the guest sent a vsock packet of "
                    + chain.readableBytes() + " bytes, shorter than its header; dropped");
            return;
        }
        VsockHeader h = VsockHeader.decode(readHeader(chain));
        long payload = chain.readableBytes() - VsockHeader.SIZE;
        if (h.srcCid() != GUEST_CID || h.dstCid() != HOST_CID) {
            warnings.log("vsock-cid", System.Logger.Level.WARNING, name + ": a vsock packet from CID " + h.srcCid()
                    + " to CID " + h.dstCid() + " (the guest is " + GUEST_CID + ", the host " + HOST_CID + "); dropped");
            return;
        }
        VsockConnection c = connections.get(VsockConnection.key(h.srcPort(), h.dstPort()));
        if (h.type() != VsockHeader.TYPE_STREAM || Integer.toUnsignedLong(h.len()) > Math.min(payload, MAX_PAYLOAD)) {
            if (c != null) {
                reset(c);
            } else {
                answerReset(h);
            }
            return;
        }
        if (h.op() == VsockHeader.OP_REQUEST) {
            if (c != null) {
                reset(c);   // a second request for a stream that exists: neither is trusted
            } else {
                guestConnect(h);
            }
            return;
        }
        if (c == null) {
            answerReset(h);
            return;
        }
        c.peerCredit(h.bufAlloc(), h.fwdCnt());
        switch (h.op()) {
            case VsockHeader.OP_RESPONSE -> established(c);
            case VsockHeader.OP_RW -> data(c, chain, h.len());
            case VsockHeader.OP_CREDIT_UPDATE -> { }   // the credit came with the header
            case VsockHeader.OP_CREDIT_REQUEST -> c.sendCreditUpdate = true;
            case VsockHeader.OP_SHUTDOWN -> shutdown(c, h.flags());
            case VsockHeader.OP_RST -> drop(c);
            default -> reset(c);
        }
    }

    private byte[] readHeader(DescriptorChain chain) {
        byte[] b = new byte[VsockHeader.SIZE];
        int at = 0;
        for (DescriptorChain.Buffer buf : chain.buffers()) {
            if (buf.writable() || at == b.length) {
                break;
            }
            int n = (int) Math.min(buf.length(), b.length - at);
            memory.read(buf.address(), b, at, n);
            at += n;
        }
        return b;
    }

    private void guestConnect(VsockHeader h) {
        if (connections.size() >= MAX_CONNECTIONS) {
            answerReset(h);
            return;
        }
        SocketChannel ch = host.connect(h.dstPort());
        if (ch == null) {
            answerReset(h);
            return;
        }
        VsockConnection c = new VsockConnection(h.srcPort(), h.dstPort(), ch, VsockConnection.State.ESTABLISHED);
        c.peerCredit(h.bufAlloc(), h.fwdCnt());
        c.sendResponse = true;
        connections.put(c.key(), c);
    }

    private void established(VsockConnection c) {
        if (c.state != VsockConnection.State.CONNECTING) {
            reset(c);
            return;
        }
        c.state = VsockConnection.State.ESTABLISHED;
        ByteBuffer ok = ByteBuffer.wrap(("OK " + Integer.toUnsignedString(c.hostPort) + "\n").getBytes(StandardCharsets.US_ASCII));
        try {
            c.host.write(ok);
        } catch (IOException e) {
            reset(c);
            return;
        }
        if (ok.hasRemaining()) {
            reset(c);   // a fresh socket's buffer takes a dozen bytes; one that does not is not a working client
        }
    }

    private void data(VsockConnection c, DescriptorChain chain, int len) {
        if (c.state != VsockConnection.State.ESTABLISHED || c.guestSendsNoMore) {
            reset(c);
            return;
        }
        if (!c.fitsCredit(len)) {
            warnings.log("vsock-credit", System.Logger.Level.WARNING, name + ": the guest sent " + len
                    + " bytes on vsock port " + Integer.toUnsignedString(c.guestPort) + " past the credit it had; the stream is reset");
            reset(c);
            return;
        }
        try {
            for (ByteBuffer part : views(chain, false, VsockHeader.SIZE, Integer.toUnsignedLong(len))) {
                c.forward(part);
            }
        } catch (IOException e) {
            reset(c);
        }
    }

    private void shutdown(VsockConnection c, int flags) {
        if ((flags & VsockHeader.SHUTDOWN_SEND) != 0) {
            c.guestSendsNoMore = true;
        }
        if ((flags & VsockHeader.SHUTDOWN_RCV) != 0) {
            c.guestReceivesNoMore = true;
        }
        if (c.guestSendsNoMore && c.guestReceivesNoMore) {
            // The guest closed and waits for our reset: it gets it once the host program has all the guest sent
            // (what waits is within the stream's credit); a host socket that takes no more is reset at once.
            try {
                if (c.flush()) {
                    reset(c);
                }
            } catch (IOException e) {
                reset(c);
            }
            return;
        }
        try {
            if (c.guestSendsNoMore && c.waiting() == 0) {
                c.host.shutdownOutput();
            }
        } catch (IOException e) {
            reset(c);
        }
    }

    /** Ends a stream and tells the guest so. */
    private void reset(VsockConnection c) {
        drop(c);
        queueReset(c.hostPort, c.guestPort);
    }

    private void drop(VsockConnection c) {
        connections.remove(c.key());
        c.close();
    }

    private void answerReset(VsockHeader h) {
        if (h.op() != VsockHeader.OP_RST) {
            queueReset(h.dstPort(), h.srcPort());
        }
    }

    private void queueReset(int hostPort, int guestPort) {
        if (resets.size() < MAX_RESETS) {
            resets.add(header(hostPort, guestPort, VsockHeader.OP_RST, 0, 0, 0));
        }
    }

    // ---- packets to the guest

    private VsockHeader header(int hostPort, int guestPort, int op, int len, int flags, int fwdCnt) {
        return new VsockHeader(HOST_CID, GUEST_CID, hostPort, guestPort, len, VsockHeader.TYPE_STREAM, op, flags,
                VsockConnection.BUF_ALLOC, fwdCnt);
    }

    private void fillReceive() throws VirtioException {
        VirtQueue q = queues.get(RX);
        if (!q.active()) {
            return;
        }
        while (somethingDue()) {
            DescriptorChain chain = takeReceiveChain(q);
            if (chain == null) {
                return;
            }
            VsockHeader control = nextControl();
            if (control != null) {
                put(q, chain, control, 0);
                continue;
            }
            VsockConnection sender = nextSender();
            if (sender == null) {
                rxSpare = chain;
                return;
            }
            sendData(q, chain, sender);
        }
    }

    private boolean somethingDue() {
        if (!resets.isEmpty()) {
            return true;
        }
        for (VsockConnection c : connections.values()) {
            if (c.controlDue() || canSend(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean canSend(VsockConnection c) {
        return c.state == VsockConnection.State.ESTABLISHED && c.hostReadable && !c.guestReceivesNoMore && c.credit() > 0;
    }

    private DescriptorChain takeReceiveChain(VirtQueue q) throws VirtioException {
        DescriptorChain chain = rxSpare;
        rxSpare = null;
        while (chain == null) {
            chain = q.pop();
            if (chain == null && !q.enableNotification()) {
                return null;
            }
        }
        if (chain.readableBytes() != 0 || chain.writableBytes() < VsockHeader.SIZE) {
            throw new VirtioException("vsock receive chain " + chain.head() + " is not device-writable space for a header");
        }
        return chain;
    }

    /** A reset, or the next stream's REQUEST, RESPONSE or CREDIT_UPDATE; null when none is due. */
    private VsockHeader nextControl() {
        VsockHeader r = resets.poll();
        if (r != null) {
            return r;
        }
        for (VsockConnection c : connections.values()) {
            if (c.sendRequest) {
                c.sendRequest = false;
                return header(c.hostPort, c.guestPort, VsockHeader.OP_REQUEST, 0, 0, c.fwdCntToTell());
            }
            if (c.sendResponse) {
                c.sendResponse = false;
                return header(c.hostPort, c.guestPort, VsockHeader.OP_RESPONSE, 0, 0, c.fwdCntToTell());
            }
            if (c.sendCreditUpdate) {
                return header(c.hostPort, c.guestPort, VsockHeader.OP_CREDIT_UPDATE, 0, 0, c.fwdCntToTell());
            }
        }
        return null;
    }

    /** The first stream with host bytes to read and guest credit for them; it goes to the back of the line. */
    private VsockConnection nextSender() {
        Iterator<VsockConnection> it = connections.values().iterator();
        while (it.hasNext()) {
            VsockConnection c = it.next();
            if (canSend(c)) {
                it.remove();
                connections.put(c.key(), c);   // round robin: the others go first next time
                return c;
            }
        }
        return null;
    }

    private void put(VirtQueue q, DescriptorChain chain, VsockHeader h, int payload) throws VirtioException {
        writeInto(chain, 0, h.encode());
        q.addUsed(chain.head(), VsockHeader.SIZE + payload);
        used = true;
    }

    /** Reads from the stream's host socket straight into the chain, after the header's place. */
    private void sendData(VirtQueue q, DescriptorChain chain, VsockConnection c) throws VirtioException {
        long room = Math.min(Math.min(chain.writableBytes() - VsockHeader.SIZE, MAX_PAYLOAD), c.credit());
        long n;
        try {
            n = room == 0 ? 0 : c.host.read(views(chain, true, VsockHeader.SIZE, room));
        } catch (IOException e) {
            drop(c);
            put(q, chain, header(c.hostPort, c.guestPort, VsockHeader.OP_RST, 0, 0, 0), 0);
            return;
        }
        if (n < 0) {
            // The host program closed its end: tell the guest both ways are done; its reset answer finds no stream.
            drop(c);
            put(q, chain, header(c.hostPort, c.guestPort, VsockHeader.OP_SHUTDOWN, 0,
                    VsockHeader.SHUTDOWN_RCV | VsockHeader.SHUTDOWN_SEND, c.fwdCnt()), 0);
            return;
        }
        if (n == 0) {
            c.hostReadable = false;
            rxSpare = chain;   // nothing there after all: the chain waits for the next sender
            return;
        }
        c.sentToGuest((int) n);
        put(q, chain, header(c.hostPort, c.guestPort, VsockHeader.OP_RW, (int) n, 0, c.fwdCntToTell()), (int) n);
    }

    /**
     * The chain's writable (or readable) bytes from {@code skip} on, {@code length} of them, as buffers over
     * guest memory: the host socket reads into them or writes from them with no copy.
     */
    private ByteBuffer[] views(DescriptorChain chain, boolean writable, long skip, long length) {
        List<ByteBuffer> out = new ArrayList<>();
        long left = length;
        for (DescriptorChain.Buffer b : chain.buffers()) {
            if (left == 0) {
                break;
            }
            if (b.writable() != writable) {
                continue;
            }
            long from = Math.min(skip, b.length());
            skip -= from;
            long n = Math.min(b.length() - from, left);
            if (n > 0) {
                out.add(memory.slice(b.address() + from, n).asByteBuffer());
                left -= n;
            }
        }
        return out.toArray(ByteBuffer[]::new);
    }

    private void writeInto(DescriptorChain chain, long skip, byte[] bytes) {
        int at = 0;
        for (DescriptorChain.Buffer b : chain.buffers()) {
            if (at == bytes.length) {
                return;
            }
            long from = Math.min(skip, b.length());
            skip -= from;
            int n = (int) Math.min(b.length() - from, bytes.length - at);
            if (n > 0) {
                memory.write(b.address() + from, bytes, at, n);
                at += n;
            }
        }
    }

    private void sendEvents() throws VirtioException {
        VirtQueue q = queues.get(EVENT);
        if (!resetEventDue || !q.active()) {
            return;
        }
        DescriptorChain chain = q.pop();
        if (chain == null) {
            q.enableNotification();
            return;
        }
        if (chain.readableBytes() != 0 || chain.writableBytes() < 4) {
            throw new VirtioException("vsock event chain " + chain.head() + " has no room for an event");
        }
        writeInto(chain, 0, new byte[] {EVENT_TRANSPORT_RESET, 0, 0, 0});
        q.addUsed(chain.head(), 4);
        used = true;
        resetEventDue = false;
        resetUnseen = true;
        q.enableNotification();   // the guest's refill is how it says it is done
    }

    /** Watches each stream's socket for what the stream can use now. */
    private void rearm() {
        boolean changed = false;
        for (Iterator<VsockConnection> it = connections.values().iterator(); it.hasNext(); ) {
            VsockConnection c = it.next();
            int ops = 0;
            if (c.state == VsockConnection.State.ESTABLISHED && !c.hostReadable && !c.guestReceivesNoMore && c.credit() > 0) {
                ops |= SelectionKey.OP_READ;
            }
            if (c.waiting() > 0) {
                ops |= SelectionKey.OP_WRITE;
            }
            if (c.key == null || !c.key.isValid() || c.key.interestOps() != ops) {
                try {
                    host.watch(c, ops);
                    changed = true;
                } catch (IOException | RuntimeException e) {
                    it.remove();
                    c.close();
                    queueReset(c.hostPort, c.guestPort);
                }
            }
        }
        if (changed) {
            host.wakeup();
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // a client we cannot serve
        }
    }

    @Override
    public synchronized void close() {
        for (VsockConnection c : connections.values()) {
            c.close();
        }
        connections.clear();
        host.close();
    }
}
