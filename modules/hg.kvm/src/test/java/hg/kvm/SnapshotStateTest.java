package hg.kvm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The state a snapshot adds (XSAVE, debug registers, irqchips, PIT, clock): read from a vCPU and
 * VM that ran a guest which put something into each, written back, and read again unchanged.
 */
class SnapshotStateTest {
    static final long CODE = 0x10000;
    static final int DONE_PORT = 0x31;
    static final int PIT_COUNT = 0x1234;
    static final long DR0 = 0x12_3400L;

    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    /** A guest that programs the PICs and PIT channel 0 and loads DR0, then reports on port 0x31. */
    static VcpuFd guestThatTouchedEverything(KvmTestSupport.Machine m) {
        m.vm().createIrqchip();
        m.vm().createPit2(VmFd.PIT_SPEAKER_DUMMY);
        LongMode.writeTables(m.memory());
        Asm a = new Asm(CODE);
        a.movAl(0x11).outAl(0x20).movAl(0x20).outAl(0x21).movAl(0x04).outAl(0x21).movAl(0x01).outAl(0x21)
                .movAl(0xfe).outAl(0x21)                         // master: vectors 0x20.., only IRQ 0 open
                .movAl(0x11).outAl(0xa0).movAl(0x28).outAl(0xa1).movAl(0x02).outAl(0xa1).movAl(0x01).outAl(0xa1)
                .movAl(0xff).outAl(0xa1)                         // slave: vectors 0x28.., all masked
                .movAl(0x34).outAl(0x43)                         // PIT channel 0, lobyte/hibyte, mode 2
                .movAl(PIT_COUNT & 0xff).outAl(0x40).movAl(PIT_COUNT >>> 8).outAl(0x40)
                .bytes(0x48, 0xc7, 0xc0, (int) DR0 & 0xff, (int) (DR0 >>> 8) & 0xff, (int) (DR0 >>> 16) & 0xff, 0) // mov rax, DR0
                .bytes(0x0f, 0x23, 0xc0)                         // mov dr0, rax
                .movAl(1).outAl(DONE_PORT);
        long halt = a.here();
        a.hlt().jmp(halt);
        m.memory().write(CODE, a.code());
        VcpuFd vcpu = m.vm().createVcpu(0);
        vcpu.setCpuid(m.kvm().supportedCpuid());
        LongMode.enter(vcpu, CODE, 0x7000, 0);
        var done = assertInstanceOf(VcpuExit.IoOut.class, KvmTestSupport.runGuarded(vcpu));
        assertEquals(DONE_PORT, done.port());
        // Completes the OUT without entering the guest again: state read now is consistent.
        vcpu.kick();
        assertInstanceOf(VcpuExit.Interrupted.class, vcpu.run());
        return vcpu;
    }

    @Test
    void debugRegistersRoundTrip() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            VcpuFd vcpu = guestThatTouchedEverything(m);
            DebugRegs d = vcpu.debugRegs();
            assertEquals(DR0, d.db()[0], "the guest's mov to DR0");
            vcpu.setDebugRegs(d);
            assertEquals(d, vcpu.debugRegs());
            DebugRegs other = new DebugRegs(new long[] {0x1000, 0x2000, 0x3000, 0x4000}, d.dr6(), 0x400 | 0x3, 0);
            vcpu.setDebugRegs(other);
            assertEquals(other, vcpu.debugRegs());
            assertThrows(KvmException.class, () -> vcpu.setDebugRegs(new DebugRegs(new long[4], d.dr6(), d.dr7(), 1)),
                    "KVM refuses flags");
        }
    }

    @Test
    void xsaveRoundTripsAndCarriesTheXmmRegisters() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            VcpuFd vcpu = guestThatTouchedEverything(m);
            Xsave x = vcpu.xsave();
            assertEquals(m.vm().xsaveSize(), x.size());
            vcpu.setXsave(x);
            assertEquals(x, vcpu.xsave());

            byte[] region = x.region();
            for (int i = 0; i < 16; i++) {
                region[160 + i] = (byte) (0xa0 + i);              // XMM0 in the legacy area
            }
            region[512] |= 0x2;                                   // XSTATE_BV: SSE state is not in its init state
            vcpu.setXsave(new Xsave(region));
            Xsave back = vcpu.xsave();
            assertArrayEquals(Arrays.copyOfRange(region, 160, 176), Arrays.copyOfRange(back.region(), 160, 176));
            assertArrayEquals(Arrays.copyOfRange(region, 160, 176), Arrays.copyOf(vcpu.fpu().xmm(), 16),
                    "KVM_GET_FPU sees what KVM_SET_XSAVE wrote");
            vcpu.setXsave(back);
            assertEquals(back, vcpu.xsave());
        }
    }

    @Test
    void irqchipsRoundTrip() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            guestThatTouchedEverything(m);
            IrqchipState master = m.vm().irqchip(IrqchipState.PIC_MASTER);
            IrqchipState slave = m.vm().irqchip(IrqchipState.PIC_SLAVE);
            // struct kvm_pic_state: imr at 2, irq_base at 5
            assertEquals((byte) 0xfe, master.data()[2]);
            assertEquals(0x20, master.data()[5]);
            assertEquals((byte) 0xff, slave.data()[2]);
            assertEquals(0x28, slave.data()[5]);
            for (int chip = 0; chip <= 2; chip++) {
                IrqchipState s = m.vm().irqchip(chip);
                m.vm().setIrqchip(s);
                assertEquals(s, m.vm().irqchip(chip));
            }
            // struct kvm_ioapic_state: redirtbl[] from 24, 8 bytes each; pin 3 to vector 0x33, masked, level
            IrqchipState ioapic = m.vm().irqchip(IrqchipState.IOAPIC);
            byte[] data = ioapic.data();
            ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putLong(24 + 3 * 8, 0x33L | 1L << 15 | 1L << 16);
            IrqchipState changed = new IrqchipState(IrqchipState.IOAPIC, data);
            assertNotEquals(ioapic, changed);
            m.vm().setIrqchip(changed);
            assertEquals(changed, m.vm().irqchip(IrqchipState.IOAPIC));
            assertThrows(IllegalArgumentException.class, () -> m.vm().irqchip(3));
        }
    }

    @Test
    void pitRoundTripsButForTheLoadTimesKvmRestarts() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            guestThatTouchedEverything(m);
            PitState p = m.vm().pit();
            ByteBuffer b = ByteBuffer.wrap(p.raw()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(PIT_COUNT, b.getInt(0), "channel 0 count");
            assertEquals(2, b.get(13), "channel 0 mode");
            m.vm().setPit(p);
            PitState back = m.vm().pit();
            assertArrayEquals(withoutLoadTimes(p), withoutLoadTimes(back));
        }
    }

    /** The state with each channel's count_load_time (host ns, reset by KVM_SET_PIT2) zeroed. */
    static byte[] withoutLoadTimes(PitState p) {
        ByteBuffer b = ByteBuffer.wrap(p.raw()).order(ByteOrder.LITTLE_ENDIAN);
        for (int ch = 0; ch < 3; ch++) {
            b.putLong(24 * ch + 16, 0);
        }
        return b.array();
    }

    @Test
    void clockSetTakesWhatGetReportsAndRealtimeAddsTheElapsedTime() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            guestThatTouchedEverything(m);
            ClockData c = m.vm().clock();
            m.vm().setClock(c); // KVM_GET_CLOCK's own flags (TSC_STABLE, HOST_TSC, REALTIME) are fine
            assertTrue(m.vm().clock().clock() >= c.clock());

            m.vm().setClock(c.withoutRealtime());
            long paused = m.vm().clock().clock() - c.clock();
            assertTrue(paused >= 0 && paused < 500_000_000L, "resumes where it was read: +" + paused + " ns");

            if ((c.flags() & ClockData.FLAG_REALTIME) != 0) {
                ClockData aSecondAgo = new ClockData(c.clock(), ClockData.FLAG_REALTIME, c.realtime() - 1_000_000_000L, 0);
                m.vm().setClock(aSecondAgo);
                assertTrue(m.vm().clock().clock() >= c.clock() + 1_000_000_000L, "wall time since then is added");
            }
        }
    }

    @Test
    void vcpuEventsRoundTripAfterARun() {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            VcpuFd vcpu = guestThatTouchedEverything(m);
            VcpuEvents e = vcpu.vcpuEvents();
            assertEquals(VcpuEvents.VALID_NMI_PENDING | VcpuEvents.VALID_SHADOW | VcpuEvents.VALID_SMM,
                    e.flags() & (VcpuEvents.VALID_NMI_PENDING | VcpuEvents.VALID_SHADOW | VcpuEvents.VALID_SMM));
            vcpu.setVcpuEvents(e);
            assertEquals(e, vcpu.vcpuEvents());
            VcpuEvents nmi = new VcpuEvents(e.exception(), e.interrupt(), new VcpuEvents.Nmi(false, true, false),
                    e.sipiVector(), e.flags(), e.smi(), e.tripleFaultPending(), e.exceptionHasPayload(),
                    e.exceptionPayload());
            vcpu.setVcpuEvents(nmi);
            assertTrue(vcpu.vcpuEvents().nmi().pending(), "a pending NMI is carried over");
        }
    }

    @Test
    void recordsRejectBadShapes() {
        assertThrows(IllegalArgumentException.class, () -> new Xsave(new byte[4092]));
        assertThrows(IllegalArgumentException.class, () -> new Xsave(new byte[4098]));
        assertEquals(4100, new Xsave(new byte[4100]).size());
        assertThrows(IllegalArgumentException.class, () -> new DebugRegs(new long[3], 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new IrqchipState(3, new byte[512]));
        assertThrows(IllegalArgumentException.class, () -> new IrqchipState(-1, new byte[512]));
        assertThrows(IllegalArgumentException.class, () -> new IrqchipState(0, new byte[511]));
        assertThrows(IllegalArgumentException.class, () -> new PitState(new byte[111]));
        byte[] raw = new byte[PitState.SIZE];
        PitState p = new PitState(raw);
        raw[0] = 1;
        assertEquals(0, p.raw()[0], "copied in");
        p.raw()[1] = 1;
        assertEquals(0, p.raw()[1], "copied out");
        long[] db = {1, 2, 3, 4};
        DebugRegs d = new DebugRegs(db, 0, 0, 0);
        db[0] = 9;
        assertEquals(new DebugRegs(new long[] {1, 2, 3, 4}, 0, 0, 0), d);
        assertEquals(new DebugRegs(new long[] {1, 2, 3, 4}, 0, 0, 0).hashCode(), d.hashCode());
    }
}
