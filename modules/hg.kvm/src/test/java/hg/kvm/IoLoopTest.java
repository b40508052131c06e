package hg.kvm;

import hg.kvm.sys.Epoll;
import hg.kvm.sys.EventFd;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The shape of a VM's I/O loop: the guest rings an MMIO doorbell (ioeventfd, no exit), an I/O
 * thread waiting in epoll wakes up and answers with an interrupt through an irqfd, and the
 * guest's handler runs.
 */
class IoLoopTest {
    static final long CODE = 0x10000;
    static final long DOORBELL = 0x3000_2000L;
    static final int IRQ = 5;

    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    @Test
    void doorbellWakesTheIoThreadWhichInterruptsTheGuest() throws Exception {
        try (var m = KvmTestSupport.Machine.create(0x20_0000);
             EventFd doorbell = EventFd.create(true);
             EventFd irq = EventFd.create();
             Epoll epoll = Epoll.create()) {
            m.vm().createIrqchip();
            m.vm().registerIoeventfd(doorbell, VmFd.IoSpace.MMIO, DOORBELL, 4, null);
            m.vm().registerIrqfd(irq, IRQ);
            epoll.add(doorbell, 1);
            LongMode.writeTables(m.memory());
            Asm a = new Asm(CODE)
                    .movAl(0x11).outAl(0x20).movAl(0x20).outAl(0x21).movAl(0x04).outAl(0x21).movAl(0x01).outAl(0x21)
                    .movAl(~(1 << IRQ) & 0xff).outAl(0x21)
                    .sti()
                    .bytes(0xc7, 0x04, 0x25).bytes(IoEventFdTest.le32((int) DOORBELL)).bytes(IoEventFdTest.le32(1));
            long halt = a.here();
            a.hlt().jmp(halt);
            long handler = a.here();
            a.movAl(0x20).outAl(0x20).movAl(0x99).outAl(0x30).iretq();
            m.memory().write(CODE, a.code());
            LongMode.writeGate(m.memory(), 0x20 + IRQ, handler);
            VcpuFd vcpu = m.vm().createVcpu(0);
            LongMode.enter(vcpu, CODE, 0x7000, 0x20 + IRQ + 1);

            AtomicReference<Throwable> ioFailure = new AtomicReference<>();
            Thread io = new Thread(() -> {
                try (Epoll.Events events = new Epoll.Events(8)) {
                    int n = epoll.await(events, 10_000);
                    assertEquals(1, n);
                    assertEquals(1, events.token(0));
                    assertEquals(1, doorbell.read());
                    irq.write(1);
                } catch (Throwable t) {
                    ioFailure.set(t);
                }
            }, "io-loop");
            io.start();
            var out = assertInstanceOf(VcpuExit.IoOut.class, KvmTestSupport.runGuarded(vcpu));
            assertEquals(0x30, out.port());
            assertEquals(0x99, out.value());
            io.join(10_000);
            assertNull(ioFailure.get());
        }
    }
}
