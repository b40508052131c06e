/*
 * The tiny guest of the create_cpu_ms and mem_per_vm_mib figures, booted by hyper-gen as an
 * ELF "kernel" (64-bit entry, paging on, as hg.boot sets it up for a vmlinux without a PVH
 * note). Its first instruction leads to an MMIO write to hyper-gen's boot timer page: the
 * first exit, time-stamped by the VMM. Then it idles in HLT with interrupts off, which KVM's
 * in-kernel irqchip keeps inside the kernel. The C peer runs the same bytes (vm_runner.c).
 */
    .section .text.start, "ax"
    .globl _start
_start:
    mov $0xd0f00000, %eax
    movl $1, (%rax)
1:  cli
    hlt
    jmp 1b
