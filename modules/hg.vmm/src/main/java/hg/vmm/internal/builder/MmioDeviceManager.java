package hg.vmm.internal.builder;

import hg.vmm.VmException;
import hg.vmm.internal.virtio.VirtioMmioTransport;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands each virtio-mmio device of a VM its place: a 4 KiB register page from {@link #BASE} up and
 * the next free interrupt line from {@link #FIRST_IRQ}, and keeps the command line entries that
 * announce them to the guest, in order. The lines are the IOAPIC's pins above the legacy devices
 * (PIT 0, keyboard 1, COM1 4), so a VM has at most {@link #MAX_DEVICES} virtio devices.
 */
public final class MmioDeviceManager {
    /** First device's registers, in the MMIO hole below 4 GiB. */
    public static final long BASE = 0xd000_0000L;
    /** The first virtio device's interrupt line; ISA lines 5, 6, 7, ... are free on this machine. */
    public static final int FIRST_IRQ = 5;
    /** Pins of KVM's in-kernel IOAPIC, which the MP table routes one to one. */
    public static final int IOAPIC_PINS = 24;
    public static final int MAX_DEVICES = IOAPIC_PINS - FIRST_IRQ;

    private final List<String> cmdlineEntries = new ArrayList<>();
    private int next;

    /** The next slot; refuses with one line once every interrupt line is taken. */
    public MmioSlot allocate(String what) {
        if (next >= MAX_DEVICES) {
            throw new VmException("a VM has at most " + MAX_DEVICES + " virtio devices (interrupt lines "
                    + FIRST_IRQ + " to " + (IOAPIC_PINS - 1) + "); no line is left for its " + what);
        }
        MmioSlot slot = new MmioSlot(next, BASE + next * VirtioMmioTransport.SIZE, FIRST_IRQ + next);
        next++;
        cmdlineEntries.add(slot.cmdlineEntry());
        return slot;
    }

    /** The announcements of every slot handed out, in order: the guest numbers its disks in this order. */
    public List<String> cmdlineEntries() {
        return List.copyOf(cmdlineEntries);
    }
}
