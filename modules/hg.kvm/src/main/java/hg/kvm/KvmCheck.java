package hg.kvm;

import hg.kvm.sys.Confinement;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What /dev/kvm is on this host: API version, CPU vendor, and whether it is a PVM
 * (pagetable-based nested KVM), where tiny guests run but stock Linux guests do not.
 */
public final class KvmCheck {
    private KvmCheck() {}

    static final Path PVM_MODULE = Path.of("/sys/module/kvm_pvm");

    /** The findings; {@code problem} is empty when /dev/kvm opened fine. */
    public record Report(boolean present, int apiVersion, String vendor, boolean pvm, String problem) {
        public boolean usable() {
            return present && problem.isEmpty();
        }

        /** Human-readable lines, as the launcher and the shell print them. */
        public List<String> lines() {
            List<String> out = new ArrayList<>();
            if (!present) {
                out.add("kvm: /dev/kvm is absent: no VM can run on this host");
                return out;
            }
            if (!problem.isEmpty()) {
                out.add("kvm: /dev/kvm cannot be used: " + problem);
                return out;
            }
            out.add("kvm: /dev/kvm API version " + apiVersion + ", CPU vendor " + vendor);
            if (pvm) {
                out.add("kvm: this is a PVM host (kvm_pvm, pagetable-based nested KVM): tiny guests run here,"
                        + " but stock Linux guests will not boot on it");
            }
            return out;
        }
    }

    public static Report check() {
        String vendor = vendorFromCpuinfo();
        boolean pvm = Files.isDirectory(PVM_MODULE);
        if (!Kvm.present()) {
            return new Report(false, 0, vendor, pvm, "");
        }
        try (Kvm kvm = Kvm.open()) {
            if (vendor.equals("unknown")) {
                vendor = vendorFromCpuid(kvm.supportedCpuid());
            }
            return new Report(true, kvm.apiVersion(), vendor, pvm, "");
        } catch (KvmException e) {
            return new Report(true, 0, vendor, pvm, e.getMessage());
        }
    }

    /** The report as text, one finding per line, then what the kernel offers for confinement (--confine). */
    public static String describe() {
        List<String> lines = new ArrayList<>(check().lines());
        try {
            lines.addAll(Confinement.support().lines());
        } catch (RuntimeException | LinkageError e) {
            lines.add("confinement: the check failed (" + e + ")");
        }
        return String.join(System.lineSeparator(), lines);
    }

    static String vendorName(String vendorId) {
        return switch (vendorId) {
            case "GenuineIntel" -> "Intel";
            case "AuthenticAMD" -> "AMD";
            case "HygonGenuine" -> "Hygon";
            default -> vendorId.isEmpty() ? "unknown" : vendorId;
        };
    }

    private static String vendorFromCpuinfo() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.startsWith("vendor_id")) {
                    return vendorName(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through: CPUID through KVM is the second source
        }
        return "unknown";
    }

    static String vendorFromCpuid(List<CpuidEntry> entries) {
        for (CpuidEntry e : entries) {
            if (e.function() == 0) {
                byte[] b = new byte[12];
                int[] regs = {e.ebx(), e.edx(), e.ecx()};
                for (int i = 0; i < 12; i++) {
                    b[i] = (byte) (regs[i / 4] >>> (8 * (i % 4)));
                }
                return vendorName(new String(b, StandardCharsets.US_ASCII));
            }
        }
        return "unknown";
    }

    public static void main(String[] args) {
        System.out.println(describe());
    }
}
