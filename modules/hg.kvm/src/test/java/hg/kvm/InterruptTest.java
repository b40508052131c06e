package hg.kvm;

import hg.kvm.sys.EventFd;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Interrupts through the in-kernel irqchip (PIC) reaching a handler in a long-mode guest. */
class InterruptTest {
    static final long CODE = 0x10000;
    static final int IRQ = 5;
    static final int VECTOR = 0x20 + IRQ;
    static final int READY_PORT = 0x31;
    static final int HANDLER_PORT = 0x30;

    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    /** Guest: program the master PIC (vectors 0x20..), unmask IRQ 5, say ready, then halt forever. */
    static VcpuFd guestWaitingForIrq(KvmTestSupport.Machine m) {
        m.vm().createIrqchip();
        LongMode.writeTables(m.memory());
        Asm a = new Asm(CODE);
        a.movAl(0x11).outAl(0x20)   // ICW1: init, ICW4 follows
                .movAl(0x20).outAl(0x21)   // ICW2: vector base 0x20
                .movAl(0x04).outAl(0x21)   // ICW3: slave on IRQ 2
                .movAl(0x01).outAl(0x21)   // ICW4: 8086 mode
                .movAl(~(1 << IRQ) & 0xff).outAl(0x21) // mask all but IRQ 5
                .sti()
                .movAl(1).outAl(READY_PORT);
        long halt = a.here();
        a.hlt().jmp(halt);
        long handler = a.here();
        a.movAl(0x20).outAl(0x20)   // EOI
                .movAl(0x77).outAl(HANDLER_PORT)
                .iretq();
        m.memory().write(CODE, a.code());
        LongMode.writeGate(m.memory(), VECTOR, handler);
        VcpuFd vcpu = m.vm().createVcpu(0);
        // LINT0 takes the PIC's output (ExtINT), LINT1 is NMI: what firmware sets up.
        LapicState lapic = vcpu.lapic()
                .withRegister(LapicState.LVT_LINT0, LapicState.DELIVERY_MODE_EXTINT << 8)
                .withRegister(LapicState.LVT_LINT1, LapicState.DELIVERY_MODE_NMI << 8);
        vcpu.setLapic(lapic);
        assertEquals(0x700, vcpu.lapic().register(LapicState.LVT_LINT0));
        LongMode.enter(vcpu, CODE, 0x7000, VECTOR + 1);
        return vcpu;
    }

    private void interruptReachesHandler(BiConsumer<KvmTestSupport.Machine, VcpuFd> raise) {
        try (var m = KvmTestSupport.Machine.create(0x20_0000)) {
            VcpuFd vcpu = guestWaitingForIrq(m);
            var ready = assertInstanceOf(VcpuExit.IoOut.class, vcpu.run());
            assertEquals(READY_PORT, ready.port());
            raise.accept(m, vcpu);
            var handled = assertInstanceOf(VcpuExit.IoOut.class, KvmTestSupport.runGuarded(vcpu));
            assertEquals(HANDLER_PORT, handled.port());
            assertEquals(0x77, handled.value());
        }
    }

    @Test
    void irqLineReachesTheGuestHandler() {
        interruptReachesHandler((m, vcpu) -> {
            m.vm().irqLine(IRQ, true);
            m.vm().irqLine(IRQ, false);
        });
    }

    @Test
    void irqfdReachesTheGuestHandler() {
        try (EventFd irq = EventFd.create()) {
            interruptReachesHandler((m, vcpu) -> {
                m.vm().registerIrqfd(irq, IRQ);
                irq.write(1);
            });
        }
    }

    @Test
    void gsiRoutingSendsAnotherGsiToThePicPin() {
        try (EventFd irq = EventFd.create()) {
            interruptReachesHandler((m, vcpu) -> {
                m.vm().setGsiRouting(java.util.List.of(new IrqRoute.Irqchip(10, IrqRoute.Chip.PIC_MASTER, IRQ)));
                m.vm().registerIrqfd(irq, 10);
                irq.write(1);
            });
        }
    }
}
