package hg.vmm;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@link Vm#snapshot} wrote.
 *
 * @param memoryBytes     the guest's RAM
 * @param memoryDataBytes of it, the bytes written (all-zero pages are holes in the memory file)
 * @param diskBytes       the copies of the writable disks, as their logical size
 * @param paused          how long the guest stood still
 */
public record SnapshotInfo(Path dir, long memoryBytes, long memoryDataBytes, long diskBytes, Duration paused) {
}
