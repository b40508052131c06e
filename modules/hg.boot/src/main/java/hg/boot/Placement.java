package hg.boot;

import hg.kvm.GuestMemory;

/** Checks that what a loader is about to write lies in guest RAM where the boot layout allows it. */
final class Placement {
    private Placement() {
    }

    /** [address, address + size) must be in one RAM region, at or above 1 MiB. */
    static void requireKernelRange(GuestMemory memory, String what, long address, long size)
            throws KernelPlacementException {
        if (address < X86Layout.HIMEM_START) {
            throw new KernelPlacementException(String.format(
                    "%s at 0x%x is below 1 MiB, where the boot structures live", what, address));
        }
        if (!memory.contains(address, size)) {
            throw new KernelPlacementException(String.format(
                    "%s at 0x%x..0x%x is outside guest RAM (%s)", what, address, address + size, describe(memory)));
        }
    }

    static String describe(GuestMemory memory) {
        StringBuilder sb = new StringBuilder();
        for (GuestMemory.Region r : memory.regions()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(String.format("0x%x..0x%x", r.guestAddress(), r.end()));
        }
        return "RAM " + sb;
    }
}
