package hg.vmm.internal.bus;

import java.util.concurrent.atomic.AtomicInteger;

/** An interrupt line that counts edges. */
public final class CountingTrigger implements InterruptTrigger {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public void trigger() {
        count.incrementAndGet();
    }

    public int count() {
        return count.get();
    }

    public int take() {
        return count.getAndSet(0);
    }
}
