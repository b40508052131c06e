package hg.vmm.internal.cpu;

import hg.kvm.CpuidEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * The CPUID a vCPU sees: KVM's supported set with the hypervisor bit, this vCPU's APIC id
 * and a topology of {@code count} single-threaded cores in one package (leaves 0x1, 0x4,
 * 0xB, 0x1F, and AMD's 0x80000001/0x80000008/0x8000001E), no performance counters, and the
 * TSC-deadline timer where KVM's LAPIC has one: KVM emulates that timer but leaves its bit out of
 * the supported set, and a guest without it calibrates and verifies the LAPIC timer against the
 * PIT at boot (slow, and under nesting it fails and falls back to the PIT).
 * A pure function so it is tested without KVM.
 */
public final class CpuidSetup {
    private CpuidSetup() {
    }

    static final int ECX_HYPERVISOR = 1 << 31;
    static final int EDX_HTT = 1 << 28;
    static final int ECX_TSC_DEADLINE = 1 << 24;
    static final int AMD_ECX_CMP_LEGACY = 1 << 1;
    static final int INTEL_EBX = 0x756e6547;   // "Genu"
    static final int AMD_EBX = 0x68747541;     // "Auth"
    static final int HYGON_EBX = 0x6f677948;   // "Hygo"

    public static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, int count, boolean tscDeadline) {
        if (count < 1 || count > 255 || apicId < 0 || apicId >= count) {
            throw new IllegalArgumentException("vCPU " + apicId + " of " + count);
        }
        boolean amd = supported.stream().anyMatch(e -> e.function() == 0
                && (e.ebx() == AMD_EBX || e.ebx() == HYGON_EBX));
        int coreBits = 32 - Integer.numberOfLeadingZeros(count - 1);   // ceil(log2(count))
        List<CpuidEntry> out = new ArrayList<>(supported.size());
        for (CpuidEntry e : supported) {
            out.add(switch (e.function()) {
                case 0x1 -> {
                    int ebx = (apicId << 24) | (count << 16) | (e.ebx() & 0xffff);
                    int edx = count > 1 ? e.edx() | EDX_HTT : e.edx() & ~EDX_HTT;
                    int ecx = e.ecx() | ECX_HYPERVISOR | (tscDeadline ? ECX_TSC_DEADLINE : 0);
                    yield e.withRegisters(e.eax(), ebx, ecx, edx);
                }
                case 0x4 -> {
                    if (amd) {
                        yield e;
                    }
                    int level = (e.eax() >>> 5) & 0x7;
                    int sharing = level == 3 ? count - 1 : 0;   // L3 is shared by the package, L1/L2 per core
                    int eax = (e.eax() & 0x3fff) | (sharing << 14) | ((count - 1) << 26);
                    yield (e.eax() & 0x1f) == 0 ? e : e.withRegisters(eax, e.ebx(), e.ecx(), e.edx());
                }
                case 0xa -> e.withRegisters(0, 0, 0, 0);
                case 0xb, 0x1f -> topology(e, apicId, count, coreBits);
                case 0x80000001 -> amd && count > 1 ? e.withRegisters(e.eax(), e.ebx(), e.ecx() | AMD_ECX_CMP_LEGACY, e.edx()) : e;
                case 0x80000008 -> amd
                        ? e.withRegisters(e.eax(), e.ebx(), (e.ecx() & ~0xf0ff) | (coreBits << 12) | (count - 1), e.edx())
                        : e;
                case 0x8000001e -> amd ? e.withRegisters(apicId, apicId & 0xff, 0, 0) : e;
                default -> e;
            });
        }
        return out;
    }

    private static CpuidEntry topology(CpuidEntry e, int apicId, int count, int coreBits) {
        return switch (e.index()) {
            // SMT level: one thread per core.
            case 0 -> e.withRegisters(0, 1, (1 << 8), apicId);
            // Core level: every vCPU is a core of one package.
            case 1 -> e.withRegisters(coreBits, count, (2 << 8) | 1, apicId);
            default -> e.withRegisters(0, 0, e.index() & 0xff, apicId);
        };
    }
}
