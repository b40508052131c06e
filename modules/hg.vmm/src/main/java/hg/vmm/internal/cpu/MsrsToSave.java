package hg.vmm.internal.cpu;

import hg.kvm.Kvm;
import hg.kvm.MsrEntry;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The MSRs a snapshot saves on this host: those KVM lists (KVM_GET_MSR_INDEX_LIST) that a fresh
 * vCPU both reads and takes back. KVM lists some the host CPU or configuration does not back;
 * KVM_GET_MSRS and KVM_SET_MSRS stop at the first of those, so a snapshot must leave them out.
 */
public final class MsrsToSave {
    private MsrsToSave() {
    }

    /** Which MSRs KVM handles is a property of the host's KVM, not of one /dev/kvm fd. */
    private static int[] cached;

    /** The indices, probed once per process (on a throwaway VM) and then shared. */
    public static synchronized int[] of(Kvm kvm) {
        if (cached == null) {
            cached = probe(kvm);
        }
        return cached.clone();
    }

    private static int[] probe(Kvm kvm) {
        int[] listed = kvm.msrIndexList();
        try (VmFd vm = kvm.createVm()) {
            // The in-kernel LAPIC and the CPUID real vCPUs get make the probe vCPU answer as
            // theirs will (x2APIC and TSC-deadline MSRs need the LAPIC; some MSRs follow CPUID).
            vm.createIrqchip();
            VcpuFd vcpu = vm.createVcpu(0);
            vcpu.setCpuid(kvm.supportedCpuid());
            List<MsrEntry> readable = readable(vcpu, listed);
            return writable(vcpu, readable).stream().mapToInt(MsrEntry::index).toArray();
        }
    }

    private static List<MsrEntry> readable(VcpuFd vcpu, int[] indices) {
        List<MsrEntry> out = new ArrayList<>(indices.length);
        int[] rest = indices;
        while (rest.length > 0) {
            List<MsrEntry> read = vcpu.msrsUntilRefused(rest);
            out.addAll(read);
            rest = Arrays.copyOfRange(rest, Math.min(rest.length, read.size() + 1), rest.length);
        }
        return out;
    }

    private static List<MsrEntry> writable(VcpuFd vcpu, List<MsrEntry> entries) {
        List<MsrEntry> out = new ArrayList<>(entries.size());
        List<MsrEntry> rest = entries;
        while (!rest.isEmpty()) {
            int written = vcpu.setMsrsUntilRefused(rest);
            out.addAll(rest.subList(0, written));
            rest = rest.subList(Math.min(rest.size(), written + 1), rest.size());
        }
        return out;
    }
}
