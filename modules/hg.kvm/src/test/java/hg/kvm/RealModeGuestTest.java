package hg.kvm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class RealModeGuestTest {

    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    @Test
    void writesAPortReadsOneAndHalts() {
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            m.memory().write(0x1000, new byte[] {
                    (byte) 0xb0, 0x42,             // mov al, 0x42
                    (byte) 0xe6, 0x10,             // out 0x10, al
                    (byte) 0xba, (byte) 0xf8, 0x03, // mov dx, 0x3f8
                    (byte) 0xec,                   // in al, dx
                    (byte) 0xe6, 0x11,             // out 0x11, al
                    (byte) 0xf4});                 // hlt
            VcpuFd vcpu = m.realModeVcpu(0, 0x1000);

            var out = assertInstanceOf(VcpuExit.IoOut.class, vcpu.run());
            assertEquals(0x10, out.port());
            assertEquals(1, out.size());
            assertEquals(1, out.count());
            assertEquals(0x42, out.value());

            var in = assertInstanceOf(VcpuExit.IoIn.class, vcpu.run());
            assertEquals(0x3f8, in.port());
            in.setValue(0x99);

            var echoed = assertInstanceOf(VcpuExit.IoOut.class, vcpu.run());
            assertEquals(0x11, echoed.port());
            assertEquals(0x99, echoed.value());

            assertInstanceOf(VcpuExit.Hlt.class, vcpu.run());
            assertEquals(0x100b, vcpu.regs().rip());
        }
    }
}
