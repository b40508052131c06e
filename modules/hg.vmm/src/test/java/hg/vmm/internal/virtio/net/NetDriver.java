package hg.vmm.internal.virtio.net;

import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.MockDriver;
import hg.kvm.GuestMemory;

import java.util.List;

import static hg.vmm.internal.virtio.VirtioMmioTransport.*;

/**
 * The driver side of a virtio-net device for tests: the receive and transmit queues as two
 * {@link MockDriver} rings, programmed through the transport the way Linux does.
 */
final class NetDriver {
    final GuestMemory memory;
    final VirtioMmioTransport transport;
    final MockDriver rx;
    final MockDriver tx;

    NetDriver(GuestMemory memory, VirtioMmioTransport transport, int size, long rxRings, long txRings) {
        this.memory = memory;
        this.transport = transport;
        this.rx = new MockDriver(memory, transport, size, rxRings);
        this.tx = new MockDriver(memory, transport, size, txRings);
    }

    int setUp(long features) {
        MockDriver r = rx;
        r.reg(REG_STATUS, 0);
        r.reg(REG_STATUS, Virtio.STATUS_ACKNOWLEDGE);
        r.reg(REG_STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        r.reg(REG_DRIVER_FEATURES_SEL, 0);
        r.reg(REG_DRIVER_FEATURES, (int) features);
        r.reg(REG_DRIVER_FEATURES_SEL, 1);
        r.reg(REG_DRIVER_FEATURES, (int) (features >>> 32));
        r.reg(REG_STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK);
        if ((r.reg(REG_STATUS) & Virtio.STATUS_FEATURES_OK) == 0) {
            return r.reg(REG_STATUS);
        }
        List<MockDriver> queues = List.of(rx, tx);
        for (int i = 0; i < 2; i++) {
            MockDriver q = queues.get(i);
            r.reg(REG_QUEUE_SEL, i);
            r.reg(REG_QUEUE_NUM, q.size);
            r.reg(REG_QUEUE_DESC_LOW, (int) q.desc);
            r.reg(REG_QUEUE_DESC_HIGH, (int) (q.desc >>> 32));
            r.reg(REG_QUEUE_DRIVER_LOW, (int) q.avail);
            r.reg(REG_QUEUE_DRIVER_HIGH, (int) (q.avail >>> 32));
            r.reg(REG_QUEUE_DEVICE_LOW, (int) q.used);
            r.reg(REG_QUEUE_DEVICE_HIGH, (int) (q.used >>> 32));
            r.reg(REG_QUEUE_READY, 1);
        }
        r.reg(REG_STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK
                | Virtio.STATUS_DRIVER_OK);
        return r.reg(REG_STATUS);
    }

    void notifyRx() {
        rx.reg(REG_QUEUE_NOTIFY, VirtioNet.RX);
    }

    void notifyTx() {
        rx.reg(REG_QUEUE_NOTIFY, VirtioNet.TX);
    }

    int status() {
        return rx.reg(REG_STATUS);
    }

    boolean broken() {
        return (status() & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0;
    }
}
