package hg.boot;

/** GDTR or IDTR: base address and limit (size in bytes minus one). */
public record TableRegister(long base, int limit) {
}
