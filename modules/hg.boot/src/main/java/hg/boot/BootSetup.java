package hg.boot;

import java.util.List;

/**
 * The result of configuring a boot: the boot vCPU's initial state and where the boot structures
 * were written.
 *
 * @param bootCpu        state for vCPU 0; other vCPUs keep their reset state
 * @param bootInfo       the zero page (64-bit Linux boot) or hvm_start_info (PVH) address
 * @param cmdlineAddress where the NUL-terminated command line is
 * @param cmdlineLength  command line length without its NUL
 * @param e820           the memory map given to the guest
 * @param mpTableAddress the MP floating pointer
 * @param mpTableSize    bytes of MP floating pointer plus configuration table
 */
public record BootSetup(VcpuState bootCpu, long bootInfo, long cmdlineAddress, int cmdlineLength,
                        List<E820Entry> e820, long mpTableAddress, int mpTableSize) {
    public BootSetup {
        e820 = List.copyOf(e820);
    }
}
