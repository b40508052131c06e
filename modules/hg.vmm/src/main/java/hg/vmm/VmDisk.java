package hg.vmm;

import java.nio.file.Path;

/**
 * One disk of a running VM as {@code vm_list} shows it.
 *
 * @param device   the guest's name for it: vda for the root image, then vdb, vdc, ... in the order given
 * @param path     the image file
 * @param readOnly attached read-only
 */
public record VmDisk(String device, Path path, boolean readOnly) {
}
