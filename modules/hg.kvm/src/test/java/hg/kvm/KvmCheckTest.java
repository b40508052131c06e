package hg.kvm;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvmCheckTest {

    @Test
    void vendorIsDecodedFromCpuidLeafZero() {
        // "GenuineIntel" in ebx, edx, ecx order
        CpuidEntry intel = new CpuidEntry(0, 0, 0, 0x16, 0x756e6547, 0x6c65746e, 0x49656e69);
        assertEquals("Intel", KvmCheck.vendorFromCpuid(List.of(intel)));
        CpuidEntry amd = new CpuidEntry(0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);
        assertEquals("AMD", KvmCheck.vendorFromCpuid(List.of(amd)));
        assertEquals("unknown", KvmCheck.vendorFromCpuid(List.of()));
    }

    @Test
    void reportSaysWhatThisHostIs() {
        KvmCheck.Report r = KvmCheck.check();
        String text = String.join("\n", r.lines());
        if (!Kvm.present()) {
            assertTrue(text.contains("absent"), text);
            return;
        }
        assertTrue(r.usable(), text);
        assertEquals(Kvm.API_VERSION, r.apiVersion());
        assertTrue(text.contains("API version 12"), text);
        assertTrue(List.of("Intel", "AMD", "Hygon").contains(r.vendor()), r.vendor());
        assertEquals(Files.isDirectory(KvmCheck.PVM_MODULE), r.pvm());
        if (r.pvm()) {
            assertTrue(text.contains("PVM") && text.contains("stock Linux guests will not"), text);
        }
    }

    @Test
    void kvmVendorAgreesWithProcCpuinfo() {
        KvmTestSupport.assumeKvm();
        try (Kvm kvm = Kvm.open()) {
            assertEquals(KvmCheck.check().vendor(), KvmCheck.vendorFromCpuid(kvm.supportedCpuid()));
        }
    }
}
