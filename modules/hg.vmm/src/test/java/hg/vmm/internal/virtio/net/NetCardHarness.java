package hg.vmm.internal.virtio.net;

import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.bus.CountingTrigger;
import hg.kvm.GuestMemory;
import org.junit.jupiter.api.AfterEach;

import java.util.List;

/**
 * What the virtio-net card's tests share: 2 MiB of guest memory, a counting interrupt line, and a
 * card on a fake backend behind its MMIO transport, driven by a {@link NetDriver} with 16-entry
 * queues whose rings sit below {@link #DATA}.
 */
abstract class NetCardHarness {
    /** Where the tests put frame data, above the driver's rings. */
    static final long DATA = 0x40000;

    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x200000)));
    final CountingTrigger irq = new CountingTrigger();
    FakeNetBackend backend;
    VirtioNet net;
    VirtioMmioTransport transport;
    NetDriver driver;

    /** Puts {@code card}, which sends and receives on {@code fake}, behind a transport and a driver. */
    void plug(FakeNetBackend fake, VirtioNet card) {
        backend = fake;
        net = card;
        transport = new VirtioMmioTransport("net", card, memory, irq);
        driver = new NetDriver(memory, transport, 16, 0x1000, 0x3000);
    }

    @AfterEach
    void close() {
        if (transport != null) {
            transport.close();
        }
        memory.close();
    }
}
