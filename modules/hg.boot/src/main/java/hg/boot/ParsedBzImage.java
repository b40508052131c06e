package hg.boot;

import hg.boot.internal.Source;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A parsed bzImage: its setup header and where its protected-mode part starts in the file. */
record ParsedBzImage(SetupHeader header, long protectedModeOffset, long protectedModeSize) {

    /** Whether the bytes carry the "HdrS" setup header magic at 0x202. */
    static boolean hasMagic(Source source) throws IOException {
        return source.size() >= 0x206 && source.read(0x202, 4).getInt() == SetupHeader.MAGIC_HDRS;
    }

    static ParsedBzImage parse(Source source) throws IOException, InvalidKernelException {
        try {
            return parseChecked(source);
        } catch (EOFException e) {
            throw new InvalidKernelException("truncated bzImage: " + e.getMessage(), e);
        }
    }

    private static ParsedBzImage parseChecked(Source source) throws IOException, InvalidKernelException {
        long size = source.size();
        if (size < 0x206) {
            throw new InvalidKernelException("truncated bzImage: " + size + " bytes, too short for a setup header");
        }
        ByteBuffer b = source.read(0, 0x206);
        if (b.getInt(0x202) != SetupHeader.MAGIC_HDRS) {
            throw new InvalidKernelException("not a bzImage (no \"HdrS\" setup header magic at 0x202)");
        }
        if (Short.toUnsignedInt(b.getShort(0x1fe)) != SetupHeader.BOOT_FLAG) {
            throw new InvalidKernelException(String.format("bzImage boot flag is 0x%04x, expected 0xaa55",
                    Short.toUnsignedInt(b.getShort(0x1fe))));
        }
        int headerEnd = 0x202 + Byte.toUnsignedInt(b.get(0x201));
        if (size < 0x208) {
            throw new InvalidKernelException("truncated bzImage: " + size + " bytes, setup header cut short");
        }
        int version = Short.toUnsignedInt(source.read(0x206, 2).getShort());
        if (version < 0x0206) {
            throw new InvalidKernelException(String.format(
                    "bzImage boot protocol %d.%02d is older than 2.06", version >> 8, version & 0xff));
        }
        if (version < 0x020c) {
            throw new InvalidKernelException(String.format(
                    "bzImage boot protocol %d.%02d has no 64-bit entry (xloadflags needs 2.12)", version >> 8, version & 0xff));
        }
        if (headerEnd < 0x268 || headerEnd > SetupHeader.LIMIT) {
            throw new InvalidKernelException(String.format(
                    "bzImage setup header ends at 0x%x, expected 0x268..0x290 for protocol %d.%02d",
                    headerEnd, version >> 8, version & 0xff));
        }
        if (size < headerEnd) {
            throw new InvalidKernelException(String.format(
                    "truncated bzImage: %d bytes, setup header ends at 0x%x", size, headerEnd));
        }
        byte[] raw = new byte[headerEnd - SetupHeader.OFFSET];
        source.readFully(SetupHeader.OFFSET, ByteBuffer.wrap(raw));
        SetupHeader h = SetupHeader.copyOf(raw, raw.length);
        if ((h.xloadFlags() & SetupHeader.XLF_KERNEL_64) == 0) {
            throw new InvalidKernelException("bzImage has no 64-bit entry point (XLF_KERNEL_64 not set in xloadflags)");
        }
        if ((h.loadFlags() & SetupHeader.LOADED_HIGH) == 0) {
            throw new InvalidKernelException("bzImage is a zImage (LOADED_HIGH not set): only bzImages load at 1 MiB");
        }
        long pmOffset = (h.setupSects() + 1L) * 512;
        if (pmOffset >= size) {
            throw new InvalidKernelException(String.format(
                    "truncated bzImage: no protected-mode code after %d setup sectors (%d bytes)", h.setupSects(), size));
        }
        long declared = h.sysSize() * 16;
        if (declared > size - pmOffset + 15) {
            throw new InvalidKernelException(String.format(
                    "truncated bzImage: protected-mode part is %d bytes, its header (syssize) says %d",
                    size - pmOffset, declared));
        }
        if (h.relocatable() && Long.bitCount(h.kernelAlignment()) != 1) {
            throw new InvalidKernelException(String.format(
                    "bzImage kernel_alignment 0x%x is not a power of two", h.kernelAlignment()));
        }
        if (h.initSize() == 0) {
            throw new InvalidKernelException("bzImage init_size is 0");
        }
        if (h.prefAddress() < X86Layout.HIMEM_START || h.prefAddress() >= X86Layout.MAX_MEMORY_SIZE) {
            throw new InvalidKernelException(String.format("bzImage pref_address 0x%x is not a usable address",
                    h.prefAddress()));
        }
        return new ParsedBzImage(h, pmOffset, size - pmOffset);
    }
}
