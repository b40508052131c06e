package hg.vmm.internal.bus;

/**
 * Delivers one edge on a device's interrupt line (an irqfd in a VM, a counter in tests).
 * Devices call it when an interrupt condition becomes pending.
 */
@FunctionalInterface
public interface InterruptTrigger {
    void trigger();
}
