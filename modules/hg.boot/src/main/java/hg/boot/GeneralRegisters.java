package hg.boot;

/** The general-purpose registers, instruction pointer and flags of a vCPU (KVM's {@code kvm_regs}). */
public record GeneralRegisters(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
                               long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
                               long rip, long rflags) {
}
