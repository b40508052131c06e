package hg.kvm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** REP OUTSB / REP INSB: several items in one exit, all in {@code data()}. */
class StringIoTest {
    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    @Test
    void repOutsbAndRepInsbMoveAllItems() {
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            m.memory().write(0x2000, new byte[] {1, 2, 3, 4});
            Asm a = new Asm(0x1000)
                    .bytes(0xbe, 0x00, 0x20).bytes(0xb9, 4, 0).movDx16(0x20).bytes(0xf3, 0x6e)  // rep outsb from 0x2000
                    .bytes(0xbf, 0x00, 0x21).bytes(0xb9, 4, 0).movDx16(0x21).bytes(0xf3, 0x6c)  // rep insb to 0x2100
                    .hlt();
            m.memory().write(0x1000, a.code());
            VcpuFd vcpu = m.realModeVcpu(0, 0x1000);

            ByteArrayOutputStream written = new ByteArrayOutputStream();
            VcpuExit exit = vcpu.run();
            while (exit instanceof VcpuExit.IoOut out) {
                assertEquals(0x20, out.port());
                written.writeBytes(out.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                exit = vcpu.run();
            }
            assertArrayEquals(new byte[] {1, 2, 3, 4}, written.toByteArray());

            byte next = 10;
            while (exit instanceof VcpuExit.IoIn in) {
                assertEquals(0x21, in.port());
                var data = in.data();
                for (long i = 0; i < data.byteSize(); i++) {
                    data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, next++);
                }
                exit = vcpu.run();
            }
            assertInstanceOf(VcpuExit.Hlt.class, exit);
            assertArrayEquals(new byte[] {10, 11, 12, 13}, m.memory().read(0x2100, 4));
        }
    }
}
