package hg.kvm;

import java.io.ByteArrayOutputStream;

/** A few hand-assembled x86 instructions for test guests (encodings valid in 16- and 64-bit mode). */
final class Asm {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final long origin;

    Asm(long origin) {
        this.origin = origin;
    }

    /** Guest address of the next instruction. */
    long here() {
        return origin + out.size();
    }

    Asm bytes(int... b) {
        for (int x : b) {
            out.write(x);
        }
        return this;
    }

    Asm movAl(int imm8) { return bytes(0xb0, imm8); }
    Asm outAl(int port8) { return bytes(0xe6, port8); }
    /** mov dx, imm16 (operand-size prefix in 64-bit mode, none in real mode). */
    Asm movDx16(int imm16) { return bytes(0xba, imm16 & 0xff, imm16 >>> 8); }
    Asm movDx64(int imm16) { return bytes(0x66, 0xba, imm16 & 0xff, imm16 >>> 8); }
    Asm outDxAl() { return bytes(0xee); }
    Asm sti() { return bytes(0xfb); }
    Asm cli() { return bytes(0xfa); }
    Asm hlt() { return bytes(0xf4); }
    Asm iretq() { return bytes(0x48, 0xcf); }
    /** jmp to an earlier or later address within +-127 bytes. */
    Asm jmp(long target) {
        long rel = target - (here() + 2);
        if (rel < -128 || rel > 127) {
            throw new IllegalArgumentException("jump too far");
        }
        return bytes(0xeb, (int) rel & 0xff);
    }

    byte[] code() {
        return out.toByteArray();
    }
}
