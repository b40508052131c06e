package hg.e2e.nest;

import hg.kvm.GuestMemory;
import hg.kvm.Kvm;
import hg.kvm.Regs;
import hg.kvm.Sregs;
import hg.kvm.VcpuExit;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;
import java.util.List;

/**
 * Runs inside the nest (added to a copy of the initramfs by the e2e tests, started by the boot
 * image's kvm self-test): a real-mode guest on the nest's /dev/kvm through hg.kvm's API that adds
 * two registers, writes the sum to a port, writes a byte to an address outside its RAM and halts.
 * Prints what it saw; exit status 0 only when every exit was the expected one.
 */
public final class TinyGuestCheck {
    private static final long RAM = 0x8000;
    private static final long CODE = 0x1000;
    private static final long HOLE = 0xf000;
    private static final byte[] PROGRAM = {
            0x01, (byte) 0xd8,                               // add ax, bx
            (byte) 0xba, (byte) 0xf8, 0x03,                  // mov dx, 0x3f8
            (byte) 0xee,                                     // out dx, al
            (byte) 0xc6, 0x06, 0x00, (byte) 0xf0, (byte) 0xab, // mov byte [0xf000], 0xab
            (byte) 0xf4};                                    // hlt

    private TinyGuestCheck() {}

    public static void main(String[] args) {
        try {
            run();
            System.out.println("tiny guest: ok");
        } catch (RuntimeException | AssertionError e) {
            System.out.println("tiny guest: FAILED: " + e);
            System.exit(1);
        }
    }

    private static void run() {
        try (Kvm kvm = Kvm.open();
             VmFd vm = kvm.createVm();
             GuestMemory memory = GuestMemory.map(List.of(new GuestMemory.Range(0, RAM)))) {
            vm.registerMemory(memory);
            memory.write(CODE, PROGRAM);
            try (VcpuFd vcpu = vm.createVcpu(0)) {
                Sregs s = vcpu.sregs();
                vcpu.setSregs(s.toBuilder().cs(s.cs().withBase(0).withSelector(0)).build());
                vcpu.setRegs(Regs.builder().rip(CODE).rax(2).rbx(3).rflags(Regs.RFLAGS_RESERVED).build());

                VcpuExit exit = vcpu.run();
                if (!(exit instanceof VcpuExit.IoOut out) || out.port() != 0x3f8 || out.value() != 5) {
                    throw new AssertionError("expected OUT 0x3f8 <- 5, got " + exit);
                }
                System.out.println("tiny guest: OUT 0x3f8 <- " + out.value());
                exit = vcpu.run();
                if (!(exit instanceof VcpuExit.MmioWrite w) || w.address() != HOLE || w.length() != 1
                        || w.value() != 0xab) {
                    throw new AssertionError("expected an MMIO write of 0xab at 0xf000, got " + exit);
                }
                System.out.println("tiny guest: MMIO write at 0x" + Long.toHexString(w.address()) + " <- 0xab");
                exit = vcpu.run();
                if (!(exit instanceof VcpuExit.Hlt)) {
                    throw new AssertionError("expected HLT, got " + exit);
                }
                long rip = vcpu.regs().rip();
                if (rip != CODE + PROGRAM.length) {
                    throw new AssertionError("halted at rip 0x" + Long.toHexString(rip) + ", expected 0x"
                            + Long.toHexString(CODE + PROGRAM.length));
                }
                System.out.println("tiny guest: HLT at rip 0x" + Long.toHexString(rip));
            }
        }
    }
}
