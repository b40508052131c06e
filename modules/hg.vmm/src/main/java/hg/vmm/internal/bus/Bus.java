package hg.vmm.internal.bus;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * One address space (port I/O or MMIO) that dispatches accesses to devices by range.
 * Registration happens while a VM is being built; lookups run on every vCPU thread, so the
 * map is replaced as a whole (copy on write) and read without locks.
 */
public final class Bus {

    /** A device and the range [base, base + length) it answers. */
    public record Entry(long base, long length, BusDevice device) {
        boolean covers(long address, int width) {
            return address >= base && address - base + width <= length;
        }
    }

    private final String name;
    private volatile TreeMap<Long, Entry> entries = new TreeMap<>();

    public Bus(String name) {
        this.name = name;
    }

    /** Adds a device; refuses a range that is empty, wraps around or overlaps another device. */
    public synchronized void register(long base, long length, BusDevice device) {
        if (length <= 0 || base < 0 || base + length < base) {
            throw new BusConflictException(String.format("%s: bad range 0x%x+0x%x", name, base, length));
        }
        Map.Entry<Long, Entry> below = entries.floorEntry(base + length - 1);
        if (below != null && below.getValue().base() + below.getValue().length() > base) {
            Entry other = below.getValue();
            throw new BusConflictException(String.format("%s: range 0x%x+0x%x overlaps 0x%x+0x%x",
                    name, base, length, other.base(), other.length()));
        }
        TreeMap<Long, Entry> copy = new TreeMap<>(entries);
        copy.put(base, new Entry(base, length, device));
        entries = copy;
    }

    /** The device whose range holds the whole access, or null. */
    public Entry find(long address, int width) {
        Map.Entry<Long, Entry> e = entries.floorEntry(address);
        if (e == null || !e.getValue().covers(address, width)) {
            return null;
        }
        return e.getValue();
    }

    /**
     * Reads into {@code data}; an access no device answers reads as all ones, like an
     * empty ISA bus. Returns whether a device answered.
     */
    public boolean read(long address, byte[] data) {
        Entry e = find(address, data.length);
        if (e == null) {
            Arrays.fill(data, (byte) 0xff);
            return false;
        }
        e.device().read(address - e.base(), data);
        return true;
    }

    /** Writes {@code data}; an access no device answers is dropped. Returns whether one did. */
    public boolean write(long address, byte[] data) {
        Entry e = find(address, data.length);
        if (e == null) {
            return false;
        }
        e.device().write(address - e.base(), data);
        return true;
    }

    @Override
    public String toString() {
        return name + " bus " + entries.values();
    }
}
