package hg.kvm;

import hg.kvm.sys.Epoll;
import hg.kvm.sys.EventFd;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Guest writes to registered addresses signal eventfds inside the kernel, without an exit. */
class IoEventFdTest {
    static final long CODE = 0x10000;
    static final long MMIO_DOORBELL = 0x3000_1000L;

    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    @Test
    void pioAndMmioIoeventfdsFireAndDatamatchFilters() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000);
             EventFd pio = EventFd.create(true);
             EventFd mmio = EventFd.create(true);
             EventFd matched = EventFd.create(true)) {
            m.vm().registerIoeventfd(pio, VmFd.IoSpace.PIO, 0x600, 1, null);
            m.vm().registerIoeventfd(mmio, VmFd.IoSpace.MMIO, MMIO_DOORBELL, 4, null);
            m.vm().registerIoeventfd(matched, VmFd.IoSpace.PIO, 0x604, 2, 7L);
            LongMode.writeTables(m.memory());
            Asm a = new Asm(CODE)
                    .movDx64(0x600).movAl(1).outDxAl()                 // out 0x600, al: no exit
                    .bytes(0xc7, 0x04, 0x25).bytes(le32((int) MMIO_DOORBELL)).bytes(le32(5)) // mov dword [doorbell], 5
                    .movDx64(0x604).bytes(0x66, 0xb8, 3, 0).bytes(0x66, 0xef)   // out 0x604, ax=3: no match, exits
                    .movDx64(0x604).bytes(0x66, 0xb8, 7, 0).bytes(0x66, 0xef)   // out 0x604, ax=7: matches
                    .movAl(2).outAl(0x11)                              // a normal exit to stop at
                    .hlt();
            m.memory().write(CODE, a.code());
            VcpuFd vcpu = m.vm().createVcpu(0);
            LongMode.enter(vcpu, CODE, 0x7000, 0);

            var unmatched = assertInstanceOf(VcpuExit.IoOut.class, vcpu.run());
            assertEquals(0x604, unmatched.port());
            assertEquals(3, unmatched.value());
            var stop = assertInstanceOf(VcpuExit.IoOut.class, vcpu.run());
            assertEquals(0x11, stop.port());
            assertEquals(1, pio.read());
            assertEquals(1, mmio.read());
            assertEquals(1, matched.read());
            assertEquals(0, pio.read(), "read resets the counter");

            m.vm().unregisterIoeventfd(pio, VmFd.IoSpace.PIO, 0x600, 1, null);
        }
    }

    @Test
    void eventFdCountsWrites() {
        try (EventFd e = EventFd.create(true)) {
            assertEquals(0, e.read());
            e.write(2);
            e.write(3);
            assertEquals(5, e.read());
        }
    }

    @Test
    void epollReportsAReadyEventFdWithItsToken() {
        try (Epoll epoll = Epoll.create(); EventFd a = EventFd.create(true); EventFd b = EventFd.create(true);
             Epoll.Events events = new Epoll.Events(4)) {
            epoll.add(a.fd(), Epoll.IN, 100);
            epoll.add(b.fd(), Epoll.IN, 200);
            assertEquals(0, epoll.await(events, 0));
            b.write(1);
            assertEquals(1, epoll.await(events, 1000));
            assertEquals(200, events.token(0));
            assertEquals(Epoll.IN, events.events(0) & Epoll.IN);
            epoll.remove(b.fd());
            assertEquals(0, epoll.await(events, 0));
        }
    }

    static int[] le32(int v) {
        return new int[] {v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24};
    }
}
