package hg.vmm.internal.virtio.vsock;

import hg.kvm.GuestMemory;
import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.MockDriver.Buf;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioMmioTransport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static hg.vmm.internal.virtio.VirtioMmioTransport.*;

/**
 * The guest's side of a virtio-vsock device for tests, as Linux drives it: receive buffers of a
 * header and 4 KiB, packets sent as a header buffer and a payload buffer, event buffers of 4 bytes.
 */
final class VsockDriver {
    static final int SIZE = 16;
    static final int RX_BUF = VsockHeader.SIZE + 4096;
    static final long RX_DATA = 0x40000;
    static final long TX_DATA = 0x80000;
    static final long EVENT_DATA = 0xc0000;

    /** A packet the device put in a receive buffer. */
    record Packet(VsockHeader header, byte[] payload) {
    }

    final GuestMemory memory;
    final VirtioMmioTransport transport;
    final MockDriver rx;
    final MockDriver tx;
    final MockDriver events;
    private final Map<Integer, Long> rxAddress = new HashMap<>();
    private final Map<Integer, Long> eventAddress = new HashMap<>();
    private int rxSlot;

    VsockDriver(GuestMemory memory, VirtioMmioTransport transport) {
        this.memory = memory;
        this.transport = transport;
        this.rx = new MockDriver(memory, transport, SIZE, 0x1000);
        this.tx = new MockDriver(memory, transport, SIZE, 0x3000);
        this.events = new MockDriver(memory, transport, SIZE, 0x5000);
    }

    int setUp() {
        return MockDriver.setUp(List.of(rx, tx, events));
    }

    boolean broken() {
        return (rx.reg(REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0;
    }

    /** Offers {@code n} receive buffers and notifies. */
    void offerReceive(int n) {
        for (int i = 0; i < n; i++) {
            long address = RX_DATA + (long) (rxSlot++ % SIZE) * RX_BUF;
            int head = rx.chain(List.of(Buf.in(address, RX_BUF)));
            rxAddress.put(head, address);
            rx.offer(head);
        }
        rx.reg(REG_QUEUE_NOTIFY, VirtioVsock.RX);
    }

    void offerEvent() {
        int head = events.chain(List.of(Buf.in(EVENT_DATA, 4)));
        eventAddress.put(head, EVENT_DATA);
        events.offer(head);
        rx.reg(REG_QUEUE_NOTIFY, VirtioVsock.EVENT);
    }

    List<Integer> takeEvents() {
        List<Integer> out = new ArrayList<>();
        for (int[] u : events.takeUsed()) {
            out.add(memory.readU32(eventAddress.get(u[0])));
        }
        return out;
    }

    /** Sends one packet: a header buffer and, when there is one, a payload buffer. */
    void send(VsockHeader h, byte[] payload) {
        memory.write(TX_DATA, h.encode());
        List<Buf> bufs = new ArrayList<>(List.of(Buf.out(TX_DATA, VsockHeader.SIZE)));
        if (payload.length > 0) {
            memory.write(TX_DATA + 0x1000, payload);
            bufs.add(Buf.out(TX_DATA + 0x1000, payload.length));
        }
        tx.offer(tx.chain(bufs));
        rx.reg(REG_QUEUE_NOTIFY, VirtioVsock.TX);
    }

    /** What the device put in receive buffers since the last call. */
    List<Packet> received() {
        List<Packet> out = new ArrayList<>();
        for (int[] u : rx.takeUsed()) {
            long address = rxAddress.get(u[0]);
            VsockHeader h = VsockHeader.decode(memory.read(address, VsockHeader.SIZE));
            int n = u[1] - VsockHeader.SIZE;
            out.add(new Packet(h, n > 0 ? memory.read(address + VsockHeader.SIZE, n) : new byte[0]));
        }
        return out;
    }

    /** Waits until the device has put a packet in a receive buffer (the host side runs on its own thread). */
    Packet awaitPacket() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (backlog.isEmpty()) {
                backlog.addAll(received());
            }
            if (!backlog.isEmpty()) {
                return backlog.removeFirst();
            }
            Thread.sleep(2);
        }
        throw new AssertionError("no packet from the device within 5 s");
    }

    private final List<Packet> backlog = new ArrayList<>();

    /** Packets the device sent that {@link #awaitPacket} has not handed out yet, then what is new. */
    List<Packet> drain() {
        List<Packet> out = new ArrayList<>(backlog);
        backlog.clear();
        out.addAll(received());
        return out;
    }
}
