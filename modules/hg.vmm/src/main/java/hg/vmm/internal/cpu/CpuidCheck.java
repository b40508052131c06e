package hg.vmm.internal.cpu;

import hg.kvm.CpuidEntry;

import java.util.List;
import java.util.Optional;

/**
 * Whether a guest that was given one CPUID can go on under another: every feature bit it was
 * shown must be one this host can show too, or the guest would use an instruction that faults.
 */
public final class CpuidCheck {
    /** (leaf, subleaf, register) whose bits are features: 0 eax, 1 ebx, 2 ecx, 3 edx. */
    private static final int[][] FEATURE_WORDS = {
            {0x1, 0, 2}, {0x1, 0, 3}, {0x7, 0, 1}, {0x7, 0, 2}, {0x7, 0, 3}, {0x7, 1, 0}, {0xd, 1, 0},
            {0x80000001, 0, 2}, {0x80000001, 0, 3}, {0x80000008, 0, 1},
    };

    private CpuidCheck() {
    }

    /** Empty when {@code available} covers {@code given}; else one line naming the first lacking word. */
    public static Optional<String> missing(List<CpuidEntry> given, List<CpuidEntry> available) {
        for (int[] w : FEATURE_WORDS) {
            int want = register(find(given, w[0], w[1]), w[2]);
            int have = register(find(available, w[0], w[1]), w[2]);
            int lacking = want & ~have;
            if (lacking != 0) {
                return Optional.of(String.format("this host's CPU lacks features the snapshot's guest was given"
                        + " (CPUID leaf 0x%x.%d %s bits 0x%08x)", w[0], w[1], "e" + "abcd".charAt(w[2]) + "x", lacking));
            }
        }
        return Optional.empty();
    }

    private static CpuidEntry find(List<CpuidEntry> entries, int function, int index) {
        for (CpuidEntry e : entries) {
            if (e.function() == function && (e.index() == index || (e.flags() & CpuidEntry.FLAG_SIGNIFICANT_INDEX) == 0)) {
                return e;
            }
        }
        return null;
    }

    private static int register(CpuidEntry e, int r) {
        if (e == null) {
            return 0;
        }
        return switch (r) {
            case 0 -> e.eax();
            case 1 -> e.ebx();
            case 2 -> e.ecx();
            default -> e.edx();
        };
    }
}
