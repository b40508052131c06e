package hg.vmm.internal.virtio;

import hg.kvm.sys.EventFd;
import hg.kvm.Kvm;
import hg.kvm.KvmException;
import hg.kvm.VmFd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The InterruptACK ioeventfd is in KVM exactly while absorbing, on the register, width and value
 * it should be: KVM refuses a second ioeventfd on the same address, width and datamatch (EEXIST),
 * which tells from outside whether one is there.
 */
class AckIoeventfdTest {
    private static final long BASE = 0xd000_2000L;

    @Test
    void theAckOfTheUsedBufferBitIsInKvmExactlyWhileAbsorbing() {
        assumeTrue(Kvm.present(), "/dev/kvm is absent on this host");
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(); EventFd probe = EventFd.create(true)) {
            AckIoeventfd ack = new AckIoeventfd(vm, BASE);
            long register = BASE + VirtioMmioTransport.REG_INTERRUPT_ACK;
            assertTrue(ack.absorb(true));
            assertTrue(ack.absorb(true));
            KvmException taken = assertThrows(KvmException.class,
                    () -> vm.registerIoeventfd(probe, VmFd.IoSpace.MMIO, register, 4, (long) Virtio.INTERRUPT_USED_BUFFER));
            assertTrue(taken.getMessage().contains("EEXIST"), taken.getMessage());
            // Other values (the config-change bit) still go to the transport: nothing of ours matches them.
            vm.registerIoeventfd(probe, VmFd.IoSpace.MMIO, register, 4, (long) Virtio.INTERRUPT_CONFIG_CHANGE);
            vm.unregisterIoeventfd(probe, VmFd.IoSpace.MMIO, register, 4, (long) Virtio.INTERRUPT_CONFIG_CHANGE);

            assertFalse(ack.absorb(false));
            vm.registerIoeventfd(probe, VmFd.IoSpace.MMIO, register, 4, (long) Virtio.INTERRUPT_USED_BUFFER);
            vm.unregisterIoeventfd(probe, VmFd.IoSpace.MMIO, register, 4, (long) Virtio.INTERRUPT_USED_BUFFER);

            assertTrue(ack.absorb(true));
            ack.close();
            vm.registerIoeventfd(probe, VmFd.IoSpace.MMIO, register, 4, (long) Virtio.INTERRUPT_USED_BUFFER);
            assertFalse(ack.absorb(true), "a closed one takes nothing back into KVM");
            vm.unregisterIoeventfd(probe, VmFd.IoSpace.MMIO, register, 4, (long) Virtio.INTERRUPT_USED_BUFFER);
        }
    }
}
