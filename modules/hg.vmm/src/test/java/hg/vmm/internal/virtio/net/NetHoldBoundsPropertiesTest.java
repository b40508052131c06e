package hg.vmm.internal.virtio.net;

import hg.kvm.GuestMemory;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile receive driver: random heads, heads offered again while the card holds them, empty
 * and huge descriptors, avail index jumps, frames of any size, resets. Whatever it does, the
 * card holds at most one chain per queue entry and at most one buffer per descriptor of those.
 */
class NetHoldBoundsPropertiesTest {

    static final int QUEUE = 16;
    static final long RX_RINGS = 0x1000, TX_RINGS = 0x3000, INDIRECT = 0x8000, DATA = 0x10000;
    static final long MEMORY = 0x200000;
    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC)
            | Virtio.bit(Virtio.F_EVENT_IDX);
    static final int[] LENGTHS = {0, 0, 1, 12, 60, 1526, 4096, 65562, 0x100000, 0x7fff_ffff, -1};

    sealed interface Step {
    }

    /** Puts {@code head} in the avail ring, publishes it and maybe notifies, as drivers mostly do. */
    record Offer(int head, boolean kick) implements Step {
    }

    /** Rewrites descriptor {@code index} of the receive table. */
    record Describe(int index, int lengthChoice, int flags, int next) implements Step {
    }

    /** Moves the avail index by {@code by} without writing ring entries. */
    record Jump(int by) implements Step {
    }

    /** The host has a frame of {@code length} bytes for the guest. */
    record Frame(int length) implements Step {
    }

    record Notify() implements Step {
    }

    /** The driver resets the card and sets it up again. */
    record Reset() implements Step {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> offer = Combinators.combine(Arbitraries.frequencyOf(
                Tuple.of(39, Arbitraries.integers().between(0, QUEUE - 1)),
                Tuple.of(1, Arbitraries.integers().between(0, 0xffff))), Arbitraries.of(true, false)).as(Offer::new);
        Arbitrary<Step> describe = Combinators.combine(Arbitraries.integers().between(0, QUEUE - 1),
                Arbitraries.integers().between(0, LENGTHS.length - 1),
                Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.just(Virtio.DESC_F_WRITE)),
                        Tuple.of(2, Arbitraries.just(Virtio.DESC_F_WRITE | Virtio.DESC_F_NEXT)),
                        Tuple.of(1, Arbitraries.integers().between(0, 7))),
                Arbitraries.integers().between(0, QUEUE)).as(Describe::new);
        Arbitrary<Step> jump = Arbitraries.oneOf(Arbitraries.integers().between(1, QUEUE + 1),
                Arbitraries.integers().between(1, 0xffff)).map(Jump::new);
        Arbitrary<Step> frame = Arbitraries.oneOf(Arbitraries.integers().between(1, 200),
                Arbitraries.integers().between(1, VirtioNet.MAX_FRAME)).map(Frame::new);
        return Arbitraries.frequencyOf(
                Tuple.of(20, offer), Tuple.of(3, describe), Tuple.of(1, jump), Tuple.of(3, frame),
                Tuple.of(3, Arbitraries.just(new Notify())), Tuple.of(1, Arbitraries.just(new Reset())))
                .list().ofMinSize(1).ofMaxSize(300);
    }

    // Long random step lists are the point; jqwik's edge cases (empty and one-step lists) are not.
    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void theCardHoldsNoMoreThanItsQueue(@ForAll("steps") List<Step> steps, @ForAll boolean mergeable) {
        try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, MEMORY)))) {
            FakeNetBackend backend = new FakeNetBackend(true);
            VirtioNet net = new VirtioNet(backend, new byte[6]);
            VirtioMmioTransport transport = new VirtioMmioTransport("hostile", net, memory, () -> { });
            try {
                NetDriver driver = new NetDriver(memory, transport, QUEUE, RX_RINGS, TX_RINGS);
                long features = FEATURES | (mergeable ? Virtio.bit(VirtioNet.F_MRG_RXBUF) : 0);
                driver.setUp(features);
                // Every descriptor starts as a small writable buffer, so offers are served until the driver turns hostile.
                for (int i = 0; i < QUEUE; i++) {
                    driver.rx.writeDesc(driver.rx.desc, i, DATA + 0x1000L * i, 1 + 7 * i, Virtio.DESC_F_WRITE, 0);
                }
                // An indirect table of small writable buffers, for descriptors that point at it.
                for (int i = 0; i < QUEUE; i++) {
                    driver.rx.writeDesc(INDIRECT, i, DATA + 64L * i, 64,
                            Virtio.DESC_F_WRITE | (i < QUEUE - 1 ? Virtio.DESC_F_NEXT : 0), i + 1);
                }
                int availIdx = 0;
                for (Step step : steps) {
                    switch (step) {
                        case Offer(int head, boolean kick) -> {
                            memory.writeU16(driver.rx.avail + 4 + 2L * (availIdx % QUEUE), head);
                            availIdx = (availIdx + 1) & 0xffff;
                            memory.writeU16(driver.rx.avail + 2, availIdx);
                            if (kick) {
                                driver.notifyRx();
                            }
                        }
                        case Describe(int index, int lengthChoice, int flags, int next) -> {
                            boolean indirect = (flags & Virtio.DESC_F_INDIRECT) != 0;
                            driver.rx.writeDesc(driver.rx.desc, index, indirect ? INDIRECT : DATA + 0x1000L * index,
                                    indirect ? 16 * QUEUE : LENGTHS[lengthChoice], flags, next);
                        }
                        case Jump(int by) -> {
                            availIdx = (availIdx + by) & 0xffff;
                            memory.writeU16(driver.rx.avail + 2, availIdx);
                        }
                        case Frame(int length) -> backend.inbound.add(new byte[length]);
                        case Notify() -> driver.notifyRx();
                        case Reset() -> availIdx = reset(driver, net, features);
                    }
                    // A guest in a reset loop: a broken card is set up again at once.
                    if (driver.broken()) {
                        availIdx = reset(driver, net, features);
                    }
                    assertTrue(net.rxHeldChains() <= QUEUE, "chains held: " + net.rxHeldChains());
                    assertTrue(net.rxHeldBuffers() <= (long) QUEUE * QUEUE, "buffers held: " + net.rxHeldBuffers());
                }
            } finally {
                transport.close();
            }
        }
    }

    /** Resets the card, clears the rings and sets it up again; returns the avail index to go on from. */
    private static int reset(NetDriver driver, VirtioNet net, long features) {
        driver.rx.reg(VirtioMmioTransport.REG_STATUS, 0);
        assertEquals(0, net.rxHeldChains(), "a reset gives every chain back");
        driver.memory.fill(driver.rx.avail, 4, (byte) 0);
        driver.memory.fill(driver.rx.used, 4, (byte) 0);
        driver.setUp(features);
        return 0;
    }
}
