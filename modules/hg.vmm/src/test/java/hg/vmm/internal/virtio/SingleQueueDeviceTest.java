package hg.vmm.internal.virtio;

import hg.kvm.GuestMemory;
import hg.vmm.internal.bus.CountingTrigger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A device that serves several chains at once: how many, in which order they return, and who waits for them. */
class SingleQueueDeviceTest {

    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_EVENT_IDX);
    static final long DATA = 0x10000;
    static final Duration PATIENCE = Duration.ofSeconds(10);

    /**
     * Serves a chain once the test lets its head go (one not let go yet would wait, so it goes to a
     * helper); counts how many it serves at once.
     */
    static class GatedDevice extends SingleQueueDevice {
        final Map<Integer, Semaphore> gates = new ConcurrentHashMap<>();
        final AtomicInteger serving = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        final AtomicInteger served = new AtomicInteger();

        GatedDevice(ExecutorService helpers, int maxInFlight) {
            super(helpers, maxInFlight);
        }

        Semaphore gate(int head) {
            return gates.computeIfAbsent(head, h -> new Semaphore(0));
        }

        void release(int head) {
            gate(head).release();
        }

        @Override
        protected int serveWithoutWaiting(DescriptorChain chain) throws VirtioException {
            return gate(chain.head()).availablePermits() > 0 ? serve(chain) : WOULD_WAIT;
        }

        @Override
        protected int serve(DescriptorChain chain) throws VirtioException {
            mostAtOnce.accumulateAndGet(serving.incrementAndGet(), Math::max);
            try {
                if (!gate(chain.head()).tryAcquire(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new VirtioException("the test never let head " + chain.head() + " go");
                }
                memory().writeU8(chain.buffers().getFirst().address(), 0x5a);
                served.incrementAndGet();
                return 1;
            } catch (InterruptedException e) {
                throw new VirtioException("interrupted");
            } finally {
                serving.decrementAndGet();
            }
        }

        @Override
        public int deviceType() {
            return 42;
        }

        @Override
        public long deviceFeatures() {
            return FEATURES;
        }

        @Override
        public List<Integer> queueMaxSizes() {
            return List.of(64);
        }

        @Override
        public void readConfig(long offset, byte[] data) {
        }

        @Override
        public void writeConfig(long offset, byte[] data) {
        }

        @Override
        public void close() {
            quiesce();
        }
    }

    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x40000)));
    final CountingTrigger irq = new CountingTrigger();
    final ExecutorService helpers = Executors.newCachedThreadPool();
    /** Plays the vCPU that notifies: its notification serves a chain on it, so it must not be the test's. */
    final ExecutorService vcpu = Executors.newSingleThreadExecutor();
    GatedDevice device;
    VirtioMmioTransport transport;
    MockDriver driver;

    @AfterEach
    void close() {
        if (device != null) {
            device.gates.values().forEach(g -> g.release(1000));
        }
        vcpu.close();
        if (transport != null) {
            transport.close();
        }
        helpers.close();
        memory.close();
    }

    void attach(int maxInFlight) {
        device = new GatedDevice(helpers, maxInFlight);
        transport = new VirtioMmioTransport("gated", device, memory, irq);
        driver = new MockDriver(memory, transport, 64, 0x1000);
        assertNotEquals(0, driver.setUp(FEATURES) & Virtio.STATUS_DRIVER_OK);
    }

    List<Integer> offer(int chains) {
        List<Integer> heads = new ArrayList<>();
        for (int i = 0; i < chains; i++) {
            int head = driver.chain(List.of(Buf.in(DATA + 16L * heads.size(), 1)));
            driver.offer(head);
            heads.add(head);
        }
        return heads;
    }

    void notifyFromVcpu() {
        vcpu.execute(driver::notifyQueue);
    }

    static void await(BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("still waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    @Test
    void chainsOfferedTogetherAreServedAtOnceButNeverMoreThanTheLimit() throws InterruptedException {
        attach(4);
        List<Integer> heads = offer(10);
        notifyFromVcpu();
        await(() -> device.serving.get() == 4, "four chains served at once");
        Thread.sleep(100);
        assertEquals(4, device.mostAtOnce.get(), "six chains wait in the ring while four are out");
        heads.forEach(device::release);
        driver.awaitUsed(10);
        assertEquals(4, device.mostAtOnce.get());
        assertEquals(10, device.served.get());
        // A helper thread publishes the used index before it raises the interrupt.
        await(() -> irq.count() > 0, "the driver to hear of them");
        for (int i = 0; i < 10; i++) {
            assertEquals(0x5a, memory.readU8(DATA + 16L * i));
        }
    }

    @Test
    void aChainThatFinishesFirstIsReturnedFirst() {
        attach(2);
        List<Integer> heads = offer(2);
        notifyFromVcpu();
        await(() -> device.serving.get() == 2, "both chains out");
        device.release(heads.get(1));
        driver.awaitUsed(1);
        device.release(heads.get(0));
        driver.awaitUsed(2);
        List<int[]> used = driver.takeUsed();
        assertEquals(heads.get(1), used.get(0)[0]);
        assertEquals(heads.get(0), used.get(1)[0]);
    }

    @Test
    void aResetWaitsForTheChainsOutAndNothingIsServedAfterIt() throws InterruptedException {
        attach(4);
        List<Integer> heads = offer(3);
        notifyFromVcpu();
        await(() -> device.serving.get() == 3, "three chains out");
        Thread reset = Thread.ofPlatform().start(() -> driver.reg(VirtioMmioTransport.REG_STATUS, 0));
        reset.join(200);
        assertTrue(reset.isAlive(), "the reset waits while chains are out");
        heads.forEach(device::release);
        reset.join(PATIENCE.toMillis());
        assertTrue(!reset.isAlive(), "the reset ends once they are back");
        assertEquals(3, device.served.get());
        assertEquals(0, transport.status());
    }

    @Test
    void aSnapshotWaitsForTheChainsOutAndTakesNoneUntilItIsOver() throws InterruptedException {
        attach(4);
        List<Integer> first = offer(2);
        notifyFromVcpu();
        await(() -> device.serving.get() == 2, "two chains out");
        Thread snapshot = Thread.ofPlatform().start(transport::beforeSnapshot);
        snapshot.join(200);
        assertTrue(snapshot.isAlive(), "the snapshot waits while chains are out");
        first.forEach(device::release);
        snapshot.join(PATIENCE.toMillis());
        assertTrue(!snapshot.isAlive());
        assertEquals(2, driver.usedIdx(), "what was out is in the used ring the snapshot reads");
        List<Integer> later = offer(2);
        later.forEach(device::release);
        driver.notifyQueue();
        Thread.sleep(100);
        assertEquals(2, device.served.get(), "nothing is taken while the snapshot is written");
        transport.afterSnapshot();
        driver.awaitUsed(4);
    }

    @Test
    void chainsThatNeedNoWaitAreServedOnTheNotifiedThread() {
        attach(4);
        List<Integer> heads = offer(6);
        heads.forEach(device::release);
        Thread notifier = Thread.ofPlatform().name("notifier").start(driver::notifyQueue);
        await(() -> !notifier.isAlive(), "the notification served");
        assertEquals(6, driver.usedIdx(), "all returned before the notification did");
        assertEquals(1, device.mostAtOnce.get(), "one after the other");
        assertEquals(1, irq.count(), "one interrupt for the batch");
    }

    @Test
    void aSerialDeviceServesOnTheNotifiedThreadInOrder() {
        device = new GatedDevice(null, 1) {
            @Override
            protected int serve(DescriptorChain chain) throws VirtioException {
                assertEquals("notifier", Thread.currentThread().getName());
                return super.serve(chain);
            }
        };
        transport = new VirtioMmioTransport("serial", device, memory, irq);
        driver = new MockDriver(memory, transport, 64, 0x1000);
        driver.setUp(FEATURES);
        List<Integer> heads = offer(5);
        heads.forEach(device::release);
        Thread notifier = Thread.ofPlatform().name("notifier").start(driver::notifyQueue);
        await(() -> !notifier.isAlive(), "the notification served");
        assertEquals(5, driver.usedIdx(), "all served before the notification returned");
        assertEquals(1, device.mostAtOnce.get());
        List<int[]> used = driver.takeUsed();
        for (int i = 0; i < 5; i++) {
            assertEquals(heads.get(i), used.get(i)[0]);
        }
        assertEquals(1, irq.count(), "one interrupt for the batch");
    }

    /** virtio's vring_need_event: whether an index moving from {@code old} to {@code now} passed {@code event}. */
    static boolean needEvent(int event, int now, int old) {
        return ((now - event - 1) & 0xffff) < ((now - old) & 0xffff);
    }

    /**
     * A driver that behaves as Linux's with event-idx: it notifies only when the device's avail event asks,
     * and looks at the used ring only after an interrupt (acknowledged, then re-armed through used event).
     * Any notification or interrupt the device fails to ask for or raise stalls it, and the test fails.
     */
    @Test
    void aDriverThatNotifiesAndListensOnlyWhenAskedNeverStalls() {
        java.util.Random random = new java.util.Random(7);
        device = new GatedDevice(helpers, 4) {
            @Override
            protected int serveWithoutWaiting(DescriptorChain chain) {
                return java.util.concurrent.ThreadLocalRandom.current().nextBoolean() ? serve(chain) : WOULD_WAIT;
            }

            @Override
            protected int serve(DescriptorChain chain) {
                mostAtOnce.accumulateAndGet(serving.incrementAndGet(), Math::max);
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.ThreadLocalRandom.current().nextInt(40_000));
                memory().writeU8(chain.buffers().getFirst().address(), 0x5a);
                served.incrementAndGet();
                serving.decrementAndGet();
                return 1;
            }
        };
        transport = new VirtioMmioTransport("lively", device, memory, irq);
        driver = new MockDriver(memory, transport, 64, 0x1000);
        driver.setUp(FEATURES);
        java.util.ArrayDeque<Integer> free = new java.util.ArrayDeque<>();
        for (int h = 0; h < 64; h++) {
            free.add(h);
        }
        int total = 3000;
        int submitted = 0;
        int completed = 0;
        int lastUsed = 0;
        driver.usedEvent(0);
        while (completed < total) {
            int old = memory.readU16(driver.avail + 2);
            int burst = 1 + random.nextInt(8);
            for (int i = 0; i < burst && submitted < total && !free.isEmpty(); i++) {
                int head = free.poll();
                driver.writeDesc(driver.desc, head, DATA + 16L * head, 1, Virtio.DESC_F_WRITE, 0);
                driver.offer(head);
                submitted++;
            }
            int now = memory.readU16(driver.avail + 2);
            java.lang.invoke.VarHandle.fullFence();
            if (now != old && needEvent(driver.availEvent(), now, old)) {
                driver.notifyQueue();
            }
            if (free.isEmpty() || submitted == total) {
                int left = total - completed;
                await(() -> irq.count() > 0, "an interrupt with " + left + " requests out (" + device.served.get() + " served)");
            }
            if (irq.take() > 0) {
                driver.reg(VirtioMmioTransport.REG_INTERRUPT_ACK, driver.reg(VirtioMmioTransport.REG_INTERRUPT_STATUS));
                do {
                    for (int[] e : driver.takeUsed()) {
                        free.add(e[0]);
                        completed++;
                        lastUsed = (lastUsed + 1) & 0xffff;
                    }
                    driver.usedEvent(lastUsed);
                    java.lang.invoke.VarHandle.fullFence();
                } while (driver.usedIdx() != lastUsed);
            }
        }
        assertEquals(total, device.served.get());
        assertTrue(device.mostAtOnce.get() <= 4);
    }
}
