/**
 * Guest kernel loading and the x86 boot layout, as pure functions of bytes into a
 * {@link hg.kvm.GuestMemory}: no KVM is touched here.
 *
 * <p>What a VMM calls, in order:
 * <ol>
 *   <li>{@link hg.boot.X86Layout#ramRanges(long)}: the guest RAM ranges for a memory size (RAM below
 *       the MMIO hole at {@link hg.boot.X86Layout#MMIO_HOLE_START}..{@link hg.boot.X86Layout#MMIO_HOLE_END},
 *       the rest above 4 GiB); create the {@code GuestMemory} from them and register it with KVM.
 *       Devices go in the hole.</li>
 *   <li>{@link hg.boot.KernelLoader#load(hg.kvm.GuestMemory, java.nio.file.Path)} (or
 *       {@link hg.boot.ElfLoader} / {@link hg.boot.BzImageLoader} directly): a {@link hg.boot.LoadedKernel}.</li>
 *   <li>Optionally {@link hg.boot.InitrdLoader#load(hg.kvm.GuestMemory, java.nio.file.Path, hg.boot.LoadedKernel)}:
 *       an {@link hg.boot.InitrdPlacement}.</li>
 *   <li>{@link hg.boot.LinuxBoot#configure} (64-bit boot protocol) or {@link hg.boot.LinuxBoot#configurePvh}
 *       (PVH, needs the kernel's PVH note) with a {@link hg.boot.BootConfig} (cmdline, vCPU count, initrd):
 *       a {@link hg.boot.BootSetup} whose {@link hg.boot.VcpuState} is set on vCPU 0 (regs, sregs, FPU, MSRs)
 *       before its first run. The other vCPUs keep KVM's reset state; the guest starts them with INIT/SIPI.</li>
 * </ol>
 * {@link hg.boot.KernelClassifier#classify(java.nio.file.Path)} tells a kernel directory's files apart
 * by their headers. Every refusal is a {@link hg.boot.BootException} subtype naming the problem.
 */
package hg.boot;
