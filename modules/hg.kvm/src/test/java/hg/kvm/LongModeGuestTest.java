package hg.kvm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LongModeGuestTest {
    static final long CODE = 0x10000;
    static final long MMIO = 0x3000_0000L; // mapped by the page tables, backed by no memory slot
    static final long RESULT = 0x8000;

    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    @Test
    void portIoMmioReadAndWriteAndHlt() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            LongMode.writeTables(m.memory());
            ByteArrayOutputStream code = new ByteArrayOutputStream();
            code.writeBytes(new byte[] {0x66, (byte) 0xba, 0x10, 0x00});               // mov dx, 0x10
            code.writeBytes(new byte[] {(byte) 0xb8, 0x78, 0x56, 0x34, 0x12});          // mov eax, 0x12345678
            code.write(0xef);                                                          // out dx, eax
            code.writeBytes(new byte[] {0x48, (byte) 0xbb});                            // mov rbx, MMIO
            code.writeBytes(le64(MMIO));
            code.writeBytes(new byte[] {0x48, (byte) 0x8b, 0x03});                      // mov rax, [rbx]
            code.writeBytes(new byte[] {0x48, (byte) 0x89, 0x04, 0x25, 0x00, (byte) 0x80, 0, 0}); // mov [0x8000], rax
            code.writeBytes(new byte[] {(byte) 0xc7, 0x43, 0x08, (byte) 0xbe, (byte) 0xba, (byte) 0xfe, (byte) 0xca}); // mov dword [rbx+8], 0xcafebabe
            code.write(0xf4);                                                          // hlt
            m.memory().write(CODE, code.toByteArray());
            VcpuFd vcpu = m.vm().createVcpu(0);
            LongMode.enter(vcpu, CODE, 0x7000, 0);

            var out = assertInstanceOf(VcpuExit.IoOut.class, vcpu.run());
            assertEquals(0x10, out.port());
            assertEquals(4, out.size());
            assertEquals(0x12345678L, out.value());

            var read = assertInstanceOf(VcpuExit.MmioRead.class, vcpu.run());
            assertEquals(MMIO, read.address());
            assertEquals(8, read.length());
            read.setValue(0x1122334455667788L);

            var write = assertInstanceOf(VcpuExit.MmioWrite.class, vcpu.run());
            assertEquals(MMIO + 8, write.address());
            assertEquals(4, write.length());
            assertEquals(0xcafebabeL, write.value());
            // the read answer went into the guest's rax and from there to memory
            assertEquals(0x1122334455667788L, m.memory().readU64(RESULT));

            assertInstanceOf(VcpuExit.Hlt.class, vcpu.run());
            Sregs s = vcpu.sregs();
            assertTrue((s.efer() & Sregs.EFER_LMA) != 0, "guest ran in long mode");
            assertTrue(s.cs().l());
            assertEquals(0x1122334455667788L, vcpu.regs().rax());
        }
    }

    static byte[] le64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }
}
