package hg.vmm.internal.bus;

/**
 * A device on the port I/O or MMIO bus. Offsets are relative to the range the device was
 * registered at; {@code data.length} is the access width (1, 2, 4 or 8 bytes, little endian).
 * Implementations must not throw for any offset or width a guest can produce.
 */
public interface BusDevice {
    void read(long offset, byte[] data);

    void write(long offset, byte[] data);
}
