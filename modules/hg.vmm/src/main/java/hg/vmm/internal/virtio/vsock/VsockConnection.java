package hg.vmm.internal.virtio.vsock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One stream between a guest port and a host Unix socket, with the credit of both directions
 * (virtio 1.2 section 5.10.6.3). Counters are free-running u32 values as on the ring.
 *
 * <p>Guest to host: what the host socket does not take at once waits in {@link #toHost}, which never
 * holds more than the {@link #BUF_ALLOC} the guest was told, so a guest that keeps to its credit never
 * loses a byte and one that does not is reset. Host to guest: read straight into the guest's receive
 * buffers, never more than the guest's free buffer space.
 */
final class VsockConnection {
    /** The receive buffer hyper-gen announces for each stream; also the most it keeps for a slow host socket. */
    static final int BUF_ALLOC = 256 * 1024;
    /** Taken out of that buffer since the last report: past this, the guest is told without asking. */
    static final int CREDIT_UPDATE_AFTER = BUF_ALLOC / 4;

    enum State {
        /** A host program asked for a guest port; the REQUEST is sent or to be sent, no answer yet. */
        CONNECTING,
        ESTABLISHED
    }

    final int guestPort;
    final int hostPort;
    final SocketChannel host;
    SelectionKey key;
    State state;

    // guest to host
    private ByteBuffer toHost;
    private int fwdCnt;
    private int fwdCntTold;
    boolean guestSendsNoMore;

    // host to guest
    private int peerBufAlloc;
    private int peerFwdCnt;
    private int txCnt;
    boolean guestReceivesNoMore;
    /** The host socket said it has bytes (or its end) that have not been read yet. */
    boolean hostReadable;

    // what the guest is still to be sent besides data
    boolean sendRequest;
    boolean sendResponse;
    boolean sendCreditUpdate;

    VsockConnection(int guestPort, int hostPort, SocketChannel host, State state) {
        this.guestPort = guestPort;
        this.hostPort = hostPort;
        this.host = host;
        this.state = state;
    }

    static long key(int guestPort, int hostPort) {
        return (long) guestPort << 32 | Integer.toUnsignedLong(hostPort);
    }

    long key() {
        return key(guestPort, hostPort);
    }

    /** Every guest header carries its buffer and what it has taken: the credit for host-to-guest data. */
    void peerCredit(int bufAlloc, int fwd) {
        peerBufAlloc = bufAlloc;
        peerFwdCnt = fwd;
    }

    /** Bytes the guest can take now. */
    int credit() {
        long inFlight = Integer.toUnsignedLong(txCnt - peerFwdCnt);
        long free = Integer.toUnsignedLong(peerBufAlloc) - inFlight;
        return (int) Math.max(0, Math.min(free, Integer.MAX_VALUE));
    }

    void sentToGuest(int bytes) {
        txCnt += bytes;
    }

    int fwdCnt() {
        return fwdCnt;
    }

    /** The credit fields of a header to the guest; reporting them resets the count towards the next update. */
    int fwdCntToTell() {
        fwdCntTold = fwdCnt;
        sendCreditUpdate = false;
        return fwdCnt;
    }

    /** Bytes from the guest still waiting for the host socket. */
    int waiting() {
        return toHost == null ? 0 : toHost.position();
    }

    /** Whether the guest may send {@code len} more bytes by the credit it was given. */
    boolean fitsCredit(int len) {
        return len >= 0 && (long) waiting() + len <= BUF_ALLOC;
    }

    /**
     * Passes guest bytes to the host socket: what is waiting first, then {@code payload}; what the
     * socket does not take is kept. The caller checked {@link #fitsCredit}.
     */
    void forward(ByteBuffer payload) throws IOException {
        flush();
        if (waiting() == 0) {
            forwarded(host.write(payload));
        }
        if (payload.hasRemaining()) {
            if (toHost == null) {
                toHost = ByteBuffer.allocate(BUF_ALLOC);
            }
            toHost.put(payload);
        }
    }

    /** Writes what is waiting as far as the host socket takes it; true when nothing is left. */
    boolean flush() throws IOException {
        if (toHost == null || toHost.position() == 0) {
            return true;
        }
        toHost.flip();
        try {
            forwarded(host.write(toHost));
        } finally {
            toHost.compact();
        }
        if (toHost.position() == 0) {
            toHost = null;  // an idle stream keeps no buffer
            return true;
        }
        return false;
    }

    private void forwarded(int n) {
        fwdCnt += n;
        if (Integer.toUnsignedLong(fwdCnt - fwdCntTold) >= CREDIT_UPDATE_AFTER) {
            sendCreditUpdate = true;
        }
    }

    /** Whether anything besides data is due to the guest. */
    boolean controlDue() {
        return sendRequest || sendResponse || sendCreditUpdate;
    }

    void close() {
        if (key != null) {
            key.cancel();
        }
        try {
            host.close();
        } catch (IOException ignored) {
            // nothing more to say to a socket that is going
        }
    }
}
