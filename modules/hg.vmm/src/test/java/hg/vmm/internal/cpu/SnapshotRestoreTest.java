package hg.vmm.internal.cpu;

import hg.kvm.DescriptorTable;
import hg.kvm.GuestMemory;
import hg.kvm.Kvm;
import hg.kvm.LapicState;
import hg.kvm.MsrEntry;
import hg.kvm.Regs;
import hg.kvm.Segment;
import hg.kvm.Sregs;
import hg.kvm.VcpuExit;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A counting guest with a periodic LAPIC timer and a PIT interrupt is snapshotted (vCPU state,
 * VM state, memory), its VM destroyed, and the snapshot restored into a new VM: the count goes
 * on from where it was and both timers keep interrupting.
 */
class SnapshotRestoreTest {
    static final int MEMORY = 0x20_0000;
    static final long CODE = 0x10000;
    static final long COUNT = 0x8000;
    static final long LAPIC_TICKS = 0x8008;
    static final long PIT_TICKS = 0x8010;
    static final int COUNT_PORT = 0x10;
    /** The guest reports every 65536 rounds of its loop. */
    static final long STEP = 0x10000;
    static final int PIT_VECTOR = 0x20;
    static final int LAPIC_VECTOR = 0x40;

    static final long GDT = 0x500;
    static final long IDT = 0x600;
    static final long PML4 = 0x2000;
    static final long PDPT = 0x3000;
    static final long PD_LOW = 0x4000;
    static final long PD_APIC = 0x5000;
    static final int CODE_SELECTOR = 0x8;
    static final int DATA_SELECTOR = 0x10;

    /**
     * <pre>
     *   movabs rbx, 0xfee00000
     *   mov dword [rbx+0xf0], 0x1ff        ; LAPIC on, spurious vector 0xff
     *   mov dword [rbx+0x3e0], 0xb         ; timer divide by 1
     *   mov dword [rbx+0x320], 0x20040     ; timer periodic, vector 0x40
     *   mov dword [rbx+0x380], 1000000     ; initial count
     *   (PIC: ICW1..ICW4, vectors 0x20.., only IRQ 0 unmasked)
     *   (PIT channel 0: mode 2, lobyte/hibyte, count 0x4a9: about 1 kHz)
     *   xor r12, r12
     *   sti
     * loop:
     *   inc r12
     *   inc qword [0x8000]
     *   test r12d, 0xffff
     *   jnz loop
     *   mov eax, r12d
     *   mov dx, 0x10
     *   out dx, eax
     *   jmp loop
     * lapic_handler:                       ; 0x74
     *   inc qword [0x8008]
     *   mov dword [rbx+0xb0], 0            ; EOI
     *   iretq
     * pit_handler:                         ; 0x88
     *   push rax
     *   inc qword [0x8010]
     *   mov al, 0x20
     *   out 0x20, al                       ; EOI
     *   pop rax
     *   iretq
     * </pre>
     */
    static final int[] GUEST = {
            0x48, 0xbb, 0x00, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, 0xc7, 0x83,
            0xf0, 0x00, 0x00, 0x00, 0xff, 0x01, 0x00, 0x00, 0xc7, 0x83, 0xe0, 0x03,
            0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0xc7, 0x83, 0x20, 0x03, 0x00, 0x00,
            0x40, 0x00, 0x02, 0x00, 0xc7, 0x83, 0x80, 0x03, 0x00, 0x00, 0x40, 0x42,
            0x0f, 0x00, 0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x20, 0xe6, 0x21, 0xb0, 0x04,
            0xe6, 0x21, 0xb0, 0x01, 0xe6, 0x21, 0xb0, 0xfe, 0xe6, 0x21, 0xb0, 0x34,
            0xe6, 0x43, 0xb0, 0xa9, 0xe6, 0x40, 0xb0, 0x04, 0xe6, 0x40, 0x4d, 0x31,
            0xe4, 0xfb, 0x49, 0xff, 0xc4, 0x48, 0xff, 0x04, 0x25, 0x00, 0x80, 0x00,
            0x00, 0x41, 0xf7, 0xc4, 0xff, 0xff, 0x00, 0x00, 0x75, 0xec, 0x44, 0x89,
            0xe0, 0x66, 0xba, 0x10, 0x00, 0xef, 0xeb, 0xe2, 0x48, 0xff, 0x04, 0x25,
            0x08, 0x80, 0x00, 0x00, 0xc7, 0x83, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x48, 0xcf, 0x50, 0x48, 0xff, 0x04, 0x25, 0x10, 0x80, 0x00,
            0x00, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0x48, 0xcf};
    static final long LAPIC_HANDLER = CODE + 0x74;
    static final long PIT_HANDLER = CODE + 0x88;

    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vcpu-watchdog");
        t.setDaemon(true);
        return t;
    });

    @BeforeEach
    void kvm() {
        Assumptions.assumeTrue(Kvm.present(), "/dev/kvm is absent on this host: KVM tests cannot run");
    }

    /** A VM with the in-kernel irqchip and PIT, its memory and one vCPU with KVM's CPUID. */
    record Machine(Kvm kvm, VmFd vm, GuestMemory memory, VcpuFd vcpu) implements AutoCloseable {
        static Machine create(Kvm kvm) {
            VmFd vm = kvm.createVm();
            GuestMemory memory = null;
            try {
                memory = GuestMemory.map(List.of(new GuestMemory.Range(0, MEMORY)));
                vm.registerMemory(memory);
                vm.createIrqchip();
                vm.createPit2(VmFd.PIT_SPEAKER_DUMMY);
                VcpuFd vcpu = vm.createVcpu(0);
                vcpu.setCpuid(kvm.supportedCpuid());
                return new Machine(kvm, vm, memory, vcpu);
            } catch (RuntimeException e) {
                vm.close();
                if (memory != null) {
                    memory.close();
                }
                throw e;
            }
        }

        @Override
        public void close() {
            vm.close();
            memory.close();
        }
    }

    /** Loads the guest and puts the vCPU at its first instruction in long mode. */
    static void boot(Machine m) {
        GuestMemory mem = m.memory();
        byte[] code = new byte[GUEST.length];
        for (int i = 0; i < code.length; i++) {
            code[i] = (byte) GUEST[i];
        }
        mem.write(CODE, code);
        mem.writeU64(GDT + 8, 0x00af9b000000ffffL);
        mem.writeU64(GDT + 16, 0x00cf93000000ffffL);
        mem.writeU64(PML4, PDPT | 3);
        mem.writeU64(PDPT, PD_LOW | 3);
        mem.writeU64(PDPT + 3 * 8, PD_APIC | 3); // the 4th GiB, where the LAPIC's page is
        for (int i = 0; i < 512; i++) {
            mem.writeU64(PD_LOW + 8L * i, ((long) i << 21) | 0x83);
            mem.writeU64(PD_APIC + 8L * i, (3L << 30 | (long) i << 21) | 0x93); // uncached
        }
        gate(mem, PIT_VECTOR, PIT_HANDLER);
        gate(mem, LAPIC_VECTOR, LAPIC_HANDLER);
        VcpuFd vcpu = m.vcpu();
        // LINT0 takes the PIC's output, as firmware sets it up
        vcpu.setLapic(vcpu.lapic().withRegister(LapicState.LVT_LINT0, LapicState.DELIVERY_MODE_EXTINT << 8)
                .withRegister(LapicState.LVT_LINT1, LapicState.DELIVERY_MODE_NMI << 8));
        Sregs s = vcpu.sregs();
        vcpu.setSregs(s.toBuilder()
                .cs(Segment.code64(CODE_SELECTOR))
                .dataSegments(Segment.flatData(DATA_SELECTOR))
                .gdt(new DescriptorTable(GDT, 3 * 8 - 1))
                .idt(new DescriptorTable(IDT, 16 * (LAPIC_VECTOR + 1) - 1))
                .cr3(PML4)
                .cr4(Sregs.CR4_PAE)
                .cr0(Sregs.CR0_PE | Sregs.CR0_ET | Sregs.CR0_NE | Sregs.CR0_PG)
                .efer(Sregs.EFER_LME | Sregs.EFER_LMA)
                .build());
        vcpu.setRegs(Regs.builder().rip(CODE).rsp(0x7000).rflags(2).build());
    }

    static void gate(GuestMemory mem, int vector, long handler) {
        long at = IDT + 16L * vector;
        mem.writeU64(at, (handler & 0xffff) | ((long) CODE_SELECTOR << 16) | (0x8EL << 40)
                | ((handler >>> 16) & 0xffff) << 48);
        mem.writeU64(at + 8, handler >>> 32);
    }

    /**
     * Runs to the next count report, checking the guest's memory word agrees with its register;
     * returns the count.
     */
    static long nextCount(Machine m) {
        VcpuFd vcpu = m.vcpu();
        vcpu.bindToCurrentThread();
        var kick = WATCHDOG.schedule(vcpu::kick, 10, TimeUnit.SECONDS);
        try {
            VcpuExit exit = vcpu.run();
            if (!(exit instanceof VcpuExit.IoOut out) || out.port() != COUNT_PORT) {
                return fail("expected a count report, got " + exit);
            }
            long count = out.value();
            assertEquals(count, m.memory().readU64(COUNT), "register and memory count agree");
            return count;
        } finally {
            kick.cancel(false);
            vcpu.unbindThread();
        }
    }

    /** Runs until both timers have ticked {@code ticks} more times; returns the last count. */
    static long runUntilTicked(Machine m, long from, int ticks) {
        long lapic = m.memory().readU64(LAPIC_TICKS);
        long pit = m.memory().readU64(PIT_TICKS);
        long count = from;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (m.memory().readU64(LAPIC_TICKS) < lapic + ticks || m.memory().readU64(PIT_TICKS) < pit + ticks) {
            long next = nextCount(m);
            assertEquals(count + STEP, next, "the count goes up one step per report");
            count = next;
            if (System.nanoTime() > deadline) {
                fail("timers did not tick: LAPIC " + lapic + " -> " + m.memory().readU64(LAPIC_TICKS)
                        + ", PIT " + pit + " -> " + m.memory().readU64(PIT_TICKS));
            }
        }
        return count;
    }

    /** Completes the pending OUT without entering the guest, so the state is between instructions. */
    static void stop(VcpuFd vcpu) {
        vcpu.kick();
        assertInstanceOf(VcpuExit.Interrupted.class, vcpu.run());
    }

    record Snapshot(VcpuState vcpu, MachineState machine, byte[] memory) {}

    static Snapshot snapshot(Machine m, int[] msrs) {
        stop(m.vcpu());
        VcpuState vcpu = VcpuState.capture(m.vcpu(), msrs);
        MachineState machine = MachineState.capture(m.vm());
        return new Snapshot(vcpu, machine, m.memory().read(0, MEMORY));
    }

    static void restore(Snapshot s, Machine into) {
        into.memory().write(0, s.memory());
        s.machine().restoreInto(into.vm());
        s.vcpu().restoreInto(into.vcpu());
    }

    static long tsc(VcpuFd vcpu) {
        return vcpu.msrs(VcpuState.MSR_IA32_TSC).getFirst().data();
    }

    @Test
    void theCountAndTheTimersGoOnInANewVm() {
        try (Kvm kvm = Kvm.open()) {
            int[] msrs = MsrsToSave.of(kvm);
            Snapshot snap;
            long last;
            int tscKhz;
            try (Machine first = Machine.create(kvm)) {
                boot(first);
                long count = nextCount(first);
                assertEquals(STEP, count);
                last = runUntilTicked(first, count, 3);
                snap = snapshot(first, msrs);
                tscKhz = first.vcpu().tscKhz();
            }
            assertEquals(last, snap.vcpu().regs().r12());
            assertNotEquals(0, snap.vcpu().lapic().register(0x380), "the LAPIC timer was armed");
            long savedTsc = snap.vcpu().msrs().stream().filter(e -> e.index() == VcpuState.MSR_IA32_TSC)
                    .mapToLong(MsrEntry::data).findFirst().orElseThrow();

            try (Machine second = Machine.create(kvm)) {
                restore(snap, second);
                long tscNow = tsc(second.vcpu());
                assertTrue(tscNow >= savedTsc && tscNow - savedTsc < 5_000L * tscKhz,
                        "the TSC goes on from the snapshot: " + savedTsc + " -> " + tscNow);
                assertEquals(last + STEP, nextCount(second), "the count goes on, neither restarted nor skipped");
                runUntilTicked(second, last + STEP, 3);
                assertTrue(tsc(second.vcpu()) > tscNow);
            }
        }
    }

    @Test
    void restoringTwiceAndRollingBackTheSameVmWork() {
        try (Kvm kvm = Kvm.open()) {
            int[] msrs = MsrsToSave.of(kvm);
            try (Machine m = Machine.create(kvm)) {
                boot(m);
                long last = runUntilTicked(m, 0, 2);
                Snapshot snap = snapshot(m, msrs);
                long later = runUntilTicked(m, last, 2);
                assertTrue(later > last);

                stop(m.vcpu());
                restore(snap, m);
                restore(snap, m);
                VcpuState again = VcpuState.capture(m.vcpu(), msrs);
                assertEquals(snap.vcpu().regs(), again.regs());
                assertEquals(snap.vcpu().sregs(), again.sregs());
                assertEquals(snap.vcpu().xsave(), again.xsave());
                assertEquals(snap.vcpu().debugRegs(), again.debugRegs());
                assertEquals(snap.vcpu().events(), again.events());
                assertEquals(snap.vcpu().mpState(), again.mpState());
                assertEquals(last + STEP, nextCount(m), "back to the snapshot's count");
                runUntilTicked(m, last + STEP, 2);
            }
        }
    }

    @Test
    void msrsToSaveAreReadableAndHoldTheTsc() {
        try (Kvm kvm = Kvm.open(); Machine m = Machine.create(kvm)) {
            int[] msrs = MsrsToSave.of(kvm);
            assertTrue(Arrays.stream(msrs).anyMatch(i -> i == VcpuState.MSR_IA32_TSC));
            assertTrue(msrs.length <= kvm.msrIndexList().length);
            assertEquals(msrs.length, m.vcpu().msrs(msrs).size());
            assertArrayEquals(msrs, MsrsToSave.of(kvm), "cached");
        }
    }

    @Test
    void theTscGoesFirstAndTheDeadlineLast() {
        List<MsrEntry> in = List.of(new MsrEntry(0x6e0, 1), new MsrEntry(0x174, 2), new MsrEntry(0x10, 3),
                new MsrEntry(0x3b, 4));
        assertEquals(List.of(new MsrEntry(0x10, 3), new MsrEntry(0x174, 2), new MsrEntry(0x3b, 4),
                new MsrEntry(0x6e0, 1)), VcpuState.tscFirstDeadlineLast(in));
    }
}
