package hg.kvm;

/** The general-purpose registers of a vCPU (struct kvm_regs). */
public record Regs(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
                   long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
                   long rip, long rflags) {

    /** rflags bit 1 is reserved and always set; a vCPU with it clear fails entry. */
    public static final long RFLAGS_RESERVED = 0x2;

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().rax(rax).rbx(rbx).rcx(rcx).rdx(rdx).rsi(rsi).rdi(rdi).rsp(rsp).rbp(rbp)
                .r8(r8).r9(r9).r10(r10).r11(r11).r12(r12).r13(r13).r14(r14).r15(r15).rip(rip).rflags(rflags);
    }

    /** Builds a {@link Regs}; every register starts at 0 except rflags, which starts at 0x2. */
    public static final class Builder {
        private long rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip;
        private long rflags = RFLAGS_RESERVED;

        private Builder() {}

        public Builder rax(long v) { rax = v; return this; }
        public Builder rbx(long v) { rbx = v; return this; }
        public Builder rcx(long v) { rcx = v; return this; }
        public Builder rdx(long v) { rdx = v; return this; }
        public Builder rsi(long v) { rsi = v; return this; }
        public Builder rdi(long v) { rdi = v; return this; }
        public Builder rsp(long v) { rsp = v; return this; }
        public Builder rbp(long v) { rbp = v; return this; }
        public Builder r8(long v) { r8 = v; return this; }
        public Builder r9(long v) { r9 = v; return this; }
        public Builder r10(long v) { r10 = v; return this; }
        public Builder r11(long v) { r11 = v; return this; }
        public Builder r12(long v) { r12 = v; return this; }
        public Builder r13(long v) { r13 = v; return this; }
        public Builder r14(long v) { r14 = v; return this; }
        public Builder r15(long v) { r15 = v; return this; }
        public Builder rip(long v) { rip = v; return this; }
        public Builder rflags(long v) { rflags = v; return this; }

        public Regs build() {
            return new Regs(rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags);
        }
    }
}
