/**
 * Virtual machines on KVM: the API the shell uses.
 *
 * <pre>{@code
 * try (VmManager vms = new VmManager()) {
 *     int id = vms.create(VmConfig.of(vmlinux, rootImage).withMemory(512L << 20).withVcpus(2));
 *     Vm vm = vms.require(id);
 *     Console.Attachment a = vm.console().attach(bytes -> terminal.write(bytes)); // replay, then live
 *     vm.console().input("ls\n".getBytes());
 *     a.close();                                   // detach; the VM runs on
 *     vms.list();                                  // VmInfo: id, kernel, image, vCPUs, memory, state, uptime
 *     vms.destroy(id);                             // stops vCPUs, closes fds, unmaps memory, unlocks the image
 * }
 * }</pre>
 *
 * <p>A VM that stops by itself (guest reset, triple fault, debug exit, internal error) releases
 * its resources at once and stays listed as {@link hg.vmm.VmState.Stopped} with its
 * {@link hg.vmm.StopReason} until destroyed. Every failure to create a VM is one
 * {@link hg.vmm.VmException} (an {@link hg.vmm.ImageBusyException} for a locked image, a
 * {@link hg.vmm.MemoryRefusedException} when the guest memory does not fit beside the running
 * VMs' in the {@link hg.vmm.MemoryAdmission}) whose message names the problem; nothing is left
 * half-made.
 */
package hg.vmm;
