package hg.boot;

/** The guest kernel file formats hyper-gen boots. */
public enum KernelFormat {
    /** An uncompressed ELF64 x86-64 kernel, entered at its ELF entry in 64-bit mode (or via PVH). */
    VMLINUX,
    /** A compressed kernel with a real-mode setup header, entered at its 64-bit entry. */
    BZIMAGE
}
