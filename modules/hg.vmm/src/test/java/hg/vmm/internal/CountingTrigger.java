package hg.vmm.internal;

import java.util.concurrent.atomic.AtomicInteger;

/** An interrupt line that counts edges. */
final class CountingTrigger implements InterruptTrigger {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public void trigger() {
        count.incrementAndGet();
    }

    int count() {
        return count.get();
    }

    int take() {
        return count.getAndSet(0);
    }
}
