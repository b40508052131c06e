/**
 * Typed access to /dev/kvm through the FFM API, shaped like rust-vmm's kvm-ioctls: one closeable
 * wrapper per file descriptor, each {@code create*} returning the child.
 *
 * <pre>{@code
 * try (Kvm kvm = Kvm.open();
 *      VmFd vm = kvm.createVm();
 *      GuestMemory ram = GuestMemory.map(List.of(new GuestMemory.Range(0, 64 << 20)))) {
 *     vm.registerMemory(ram);                 // one memory slot per region
 *     vm.createIrqchip();
 *     VcpuFd vcpu = vm.createVcpu(0);
 *     vcpu.setCpuid(kvm.supportedCpuid());
 *     vcpu.setSregs(vcpu.sregs().toBuilder()...build());
 *     vcpu.setRegs(Regs.builder().rip(entry).build());
 *     vcpu.bindToCurrentThread();             // so another thread can kick() it
 *     while (true) {
 *         switch (vcpu.run()) {
 *             case VcpuExit.IoOut out -> bus.write(out.port(), out.data());
 *             case VcpuExit.IoIn in -> bus.read(in.port(), in.data());
 *             case VcpuExit.MmioWrite w -> bus.write(w.address(), w.data());
 *             case VcpuExit.MmioRead r -> bus.read(r.address(), r.data());
 *             case VcpuExit.Interrupted i -> { if (stopping) return; }
 *             case VcpuExit.Hlt h -> ...
 *             default -> ...                     // Shutdown, FailEntry, InternalError, SystemEvent, Unknown
 *         }
 *     }
 * }
 * }</pre>
 *
 * Every failed call throws a {@link hg.kvm.KvmException} naming the call (the ioctl) and the
 * errno. The I/O and MMIO exits are reused views of the vCPU's kvm_run page: the exit loop
 * allocates nothing. {@link hg.kvm.sys.EventFd} and {@link hg.kvm.sys.Epoll} carry irqfd/ioeventfd
 * notifications; {@link hg.kvm.KvmCheck} says what kind of /dev/kvm this host has.
 */
package hg.kvm;

