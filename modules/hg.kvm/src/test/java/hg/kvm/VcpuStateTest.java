package hg.kvm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every state accessor, set and read back through the real /dev/kvm. */
class VcpuStateTest {
    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    @Test
    void systemQueries() {
        try (Kvm kvm = Kvm.open()) {
            assertEquals(Kvm.API_VERSION, kvm.apiVersion());
            assertTrue(kvm.vcpuMmapSize() >= 4096);
            assertTrue(kvm.checkExtension(KvmCap.USER_MEMORY) > 0);
            assertTrue(kvm.checkExtension(KvmCap.NR_MEMSLOTS) > 0);
            List<CpuidEntry> cpuid = kvm.supportedCpuid();
            assertTrue(cpuid.stream().anyMatch(e -> e.function() == 0), "leaf 0 is always there");
            assertTrue(cpuid.stream().anyMatch(e -> e.function() == 0x80000000), "extended leaves too");
            int[] msrs = kvm.msrIndexList();
            assertTrue(msrs.length > 0);
            assertTrue(java.util.Arrays.stream(msrs).anyMatch(i -> i == 0x10), "IA32_TSC is saved by KVM");
        }
    }

    @Test
    void registersRoundTrip() {
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            VcpuFd vcpu = m.vm().createVcpu(0);
            Regs r = Regs.builder().rax(1).rbx(2).rcx(3).rdx(4).rsi(5).rdi(6).rsp(7).rbp(8).r8(9).r9(10).r10(11)
                    .r11(12).r12(13).r13(14).r14(15).r15(-1L).rip(0xfff0).rflags(0x202).build();
            vcpu.setRegs(r);
            assertEquals(r, vcpu.regs());

            Sregs s = vcpu.sregs();
            Sregs changed = s.toBuilder().cs(s.cs().withBase(0x10000).withSelector(0x1000))
                    .gdt(new DescriptorTable(0x500, 23)).idt(new DescriptorTable(0, 0x3ff)).cr2(0x1234).build();
            vcpu.setSregs(changed);
            Sregs back = vcpu.sregs();
            assertEquals(changed.cs(), back.cs());
            assertEquals(changed.gdt(), back.gdt());
            assertEquals(changed.idt(), back.idt());
            assertEquals(0x1234, back.cr2());

            byte[] xmm = new byte[256];
            for (int i = 0; i < xmm.length; i++) {
                xmm[i] = (byte) i;
            }
            Fpu fpu = new Fpu(new byte[128], 0x37f, 0, 0, 0, 0, 0, xmm, 0x1f80);
            vcpu.setFpu(fpu);
            Fpu fpuBack = vcpu.fpu();
            assertEquals(0x37f, fpuBack.fcw());
            // (KVM_GET_FPU does not report MXCSR: the kernel leaves that field 0)
            assertEquals(java.util.Arrays.toString(xmm), java.util.Arrays.toString(fpuBack.xmm()));
        }
    }

    @Test
    void msrsCpuidMpStateEventsAndXcrs() {
        try (Kvm kvm = Kvm.open(); var m = KvmTestSupport.Machine.create(0x10000)) {
            m.vm().createIrqchip();
            VcpuFd vcpu = m.vm().createVcpu(0);

            int sysenterCs = 0x174;
            vcpu.setMsrs(List.of(new MsrEntry(sysenterCs, 0x10)));
            assertEquals(List.of(new MsrEntry(sysenterCs, 0x10)), vcpu.msrs(sysenterCs));
            KvmException unknownMsr = assertThrows(KvmException.class, () -> vcpu.msrs(0x12345678));
            assertTrue(unknownMsr.getMessage().contains("0x12345678"), unknownMsr.getMessage());

            List<CpuidEntry> supported = kvm.supportedCpuid();
            vcpu.setCpuid(supported);
            // KVM adjusts some leaves (e.g. XSAVE sizes, OSXSAVE) and may drop empty ones; the
            // vendor leaf comes back as set.
            List<CpuidEntry> back = vcpu.cpuid();
            assertEquals(supported.stream().filter(e -> e.function() == 0).toList(),
                    back.stream().filter(e -> e.function() == 0).toList());
            assertTrue(back.size() > 1 && back.size() <= supported.size());
            // The same list laid out once (CpuidTable) reaches a second vCPU as the list did the first.
            VcpuFd second = m.vm().createVcpu(1);
            second.setCpuid(CpuidTable.of(supported));
            assertEquals(back, second.cpuid());

            assertTrue(vcpu.tscKhz() > 100_000, "TSC of at least 100 MHz: " + vcpu.tscKhz());
            assertEquals(VcpuFd.MP_STATE_RUNNABLE, vcpu.mpState());
            vcpu.setMpState(VcpuFd.MP_STATE_HALTED);
            assertEquals(VcpuFd.MP_STATE_HALTED, vcpu.mpState());
            vcpu.setMpState(VcpuFd.MP_STATE_RUNNABLE);

            VcpuEvents events = vcpu.vcpuEvents();
            assertFalse(events.exception().injected());
            vcpu.setVcpuEvents(events);
            assertEquals(events, vcpu.vcpuEvents());

            if (kvm.checkExtension(KvmCap.XCRS) > 0) {
                List<Xcr> xcrs = vcpu.xcrs();
                assertTrue(xcrs.stream().anyMatch(x -> x.xcr() == 0 && (x.value() & 1) == 1), "XCR0 has x87");
                vcpu.setXcrs(xcrs);
            }
        }
    }

    @Test
    void vmLevelSetup() {
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            m.vm().setTssAddress(0xfffb_d000L);
            m.vm().setIdentityMapAddress(0xfffb_c000L);
            m.vm().createIrqchip();
            m.vm().createPit2(VmFd.PIT_SPEAKER_DUMMY);
            ClockData clock = m.vm().clock();
            m.vm().setClock(new ClockData(clock.clock() + 1_000_000_000L, 0, 0, 0));
            assertTrue(m.vm().clock().clock() >= clock.clock() + 1_000_000_000L);
        }
    }

    @Test
    void badRequestsFailWithTheCallAndErrnoNamed() {
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            // slot 1 over the same guest range as slot 0: the kernel says EEXIST
            long host = m.memory().regions().getFirst().host().address();
            KvmException overlap = assertThrows(KvmException.class,
                    () -> m.vm().setUserMemoryRegion(new MemoryRegion(1, 0, 0, 0x10000, host)));
            assertEquals("KVM_SET_USER_MEMORY_REGION", overlap.call());
            assertEquals("EEXIST", overlap.errnoName());
            m.vm().createVcpu(0);
            KvmException twice = assertThrows(KvmException.class, () -> m.vm().createVcpu(0));
            assertEquals("KVM_CREATE_VCPU", twice.call());
            assertEquals("EEXIST", twice.errnoName());
        }
    }

    @Test
    void tripleFaultIsAShutdownExit() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            LongMode.writeTables(m.memory());
            m.memory().write(0x10000, new byte[] {0x0f, 0x0b}); // ud2 with no IDT: #UD -> #DF -> triple fault
            VcpuFd vcpu = m.vm().createVcpu(0);
            LongMode.enter(vcpu, 0x10000, 0x7000, 0);
            assertInstanceOf(VcpuExit.Shutdown.class, vcpu.run());
        }
    }
}
