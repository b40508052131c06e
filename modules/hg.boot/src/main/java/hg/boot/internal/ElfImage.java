package hg.boot.internal;

import hg.boot.InvalidKernelException;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The parts of an ELF64 x86-64 executable a VMM needs: entry point, PT_LOAD segments (placed at
 * their physical addresses) and the PVH entry from a Xen PT_NOTE. Parsing reads the file header,
 * the program headers and the notes only, each within a bound ({@link #MAX_PROGRAM_HEADERS},
 * {@link ElfNotes}), so a crafted file is refused after a few KiB rather than read for minutes.
 */
public record ElfImage(long entry, List<Segment> loads, OptionalLong pvhEntry) {

    /** A PT_LOAD segment: {@code fileSize} bytes from {@code offset}, zero-filled up to {@code memSize}. */
    public record Segment(int index, long offset, long physAddress, long fileSize, long memSize) {
        public long end() {
            return physAddress + memSize;
        }

        boolean holds(long address) {
            return address >= physAddress && address < end();
        }
    }


    static final int EHDR_SIZE = 64;
    static final int PHDR_SIZE = 56;
    static final int ELFCLASS64 = 2;
    static final int ELFDATA2LSB = 1;
    static final int ET_EXEC = 2;
    static final int EM_X86_64 = 62;
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    /**
     * A vmlinux has 4 to 6 program headers (text, data, percpu, init, notes); a longer table is refused before
     * it is read, so a crafted file (up to 65,534 headers) costs one read of the file header.
     */
    static final int MAX_PROGRAM_HEADERS = 64;

    /** Whether the bytes start with the ELF magic. */
    public static boolean hasMagic(Source source) throws IOException {
        if (source.size() < 4) {
            return false;
        }
        return source.read(0, 4).getInt() == 0x464c457f;
    }

    public static ElfImage parse(Source source) throws IOException, InvalidKernelException {
        try {
            return parseChecked(source);
        } catch (EOFException e) {
            throw new InvalidKernelException("truncated ELF file: " + e.getMessage(), e);
        }
    }

    private static ElfImage parseChecked(Source source) throws IOException, InvalidKernelException {
        if (source.size() < EHDR_SIZE) {
            throw new InvalidKernelException("truncated ELF file: " + source.size()
                    + " bytes, shorter than the 64-byte ELF64 header");
        }
        ByteBuffer h = source.read(0, EHDR_SIZE);
        if (h.getInt(0) != 0x464c457f) {
            throw new InvalidKernelException("not an ELF file (no \\x7fELF magic)");
        }
        int cls = Byte.toUnsignedInt(h.get(4));
        if (cls != ELFCLASS64) {
            throw new InvalidKernelException("ELF class " + cls + (cls == 1 ? " (32-bit)" : "")
                    + ": a 64-bit (ELFCLASS64) vmlinux is needed");
        }
        int data = Byte.toUnsignedInt(h.get(5));
        if (data != ELFDATA2LSB) {
            throw new InvalidKernelException("ELF data encoding " + data + ": little-endian (ELFDATA2LSB) is needed");
        }
        int type = Short.toUnsignedInt(h.getShort(16));
        if (type != ET_EXEC) {
            throw new InvalidKernelException("ELF type " + type + (type == 3 ? " (ET_DYN)" : type == 1 ? " (ET_REL)" : "")
                    + ": a vmlinux is an executable (ET_EXEC)");
        }
        int machine = Short.toUnsignedInt(h.getShort(18));
        if (machine != EM_X86_64) {
            throw new InvalidKernelException("ELF machine " + machine + ": x86-64 (EM_X86_64 = 62) is needed");
        }
        long entry = h.getLong(24);
        long phoff = h.getLong(32);
        int phentsize = Short.toUnsignedInt(h.getShort(54));
        int phnum = Short.toUnsignedInt(h.getShort(56));
        if (phentsize != PHDR_SIZE) {
            throw new InvalidKernelException("ELF program header entry size " + phentsize + ", expected 56");
        }
        if (phnum == 0 || phnum == 0xffff) {
            throw new InvalidKernelException("ELF file has " + (phnum == 0 ? "no" : "an extended count of")
                    + " program headers");
        }
        if (phnum > MAX_PROGRAM_HEADERS) {
            throw new InvalidKernelException("ELF file has " + phnum + " program headers; a kernel has a handful (at most "
                    + MAX_PROGRAM_HEADERS + " are accepted)");
        }
        long tableSize = (long) phnum * PHDR_SIZE;
        if (phoff < 0 || phoff > source.size() - tableSize) {
            throw new InvalidKernelException(String.format(
                    "truncated ELF file: program header table at 0x%x (%d entries) ends past the file end (%d bytes)",
                    phoff, phnum, source.size()));
        }
        ByteBuffer ph = source.read(phoff, (int) tableSize);
        List<Segment> loads = new ArrayList<>();
        List<ElfNotes.Segment> notes = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int base = i * PHDR_SIZE;
            int pType = ph.getInt(base);
            if (pType != PT_LOAD && pType != PT_NOTE) {
                continue;
            }
            long offset = ph.getLong(base + 8);
            long paddr = ph.getLong(base + 24);
            long filesz = ph.getLong(base + 32);
            long memsz = ph.getLong(base + 40);
            long align = ph.getLong(base + 48);
            if (offset < 0 || filesz < 0 || offset > source.size() - filesz) {
                throw new InvalidKernelException(String.format(
                        "truncated ELF file: segment %d (file offset 0x%x, 0x%x bytes) ends past the file end (%d bytes)",
                        i, offset, filesz, source.size()));
            }
            if (pType == PT_NOTE) {
                notes.add(new ElfNotes.Segment(i, offset, filesz, align == 8 ? 8 : 4));
                continue;
            }
            if (memsz < filesz) {
                throw new InvalidKernelException(String.format(
                        "ELF segment %d: memory size 0x%x is smaller than its file size 0x%x", i, memsz, filesz));
            }
            if (paddr < 0 || memsz < 0 || paddr + memsz < paddr) {
                throw new InvalidKernelException(String.format(
                        "ELF segment %d: physical range 0x%x+0x%x overflows", i, paddr, memsz));
            }
            if (memsz > 0) {
                loads.add(new Segment(i, offset, paddr, filesz, memsz));
            }
        }
        if (loads.isEmpty()) {
            throw new InvalidKernelException("ELF file has no loadable (PT_LOAD) segment");
        }
        if (!anyHolds(loads, entry)) {
            throw new InvalidKernelException(String.format("ELF entry point 0x%x is outside every loadable segment", entry));
        }
        OptionalLong pvh = ElfNotes.pvhEntry(source, notes);
        if (pvh.isPresent() && !anyHolds(loads, pvh.getAsLong())) {
            throw new InvalidKernelException(String.format(
                    "PVH entry point 0x%x (Xen note) is outside every loadable segment", pvh.getAsLong()));
        }
        return new ElfImage(entry, List.copyOf(loads), pvh);
    }

    private static boolean anyHolds(List<Segment> loads, long address) {
        for (Segment s : loads) {
            if (s.holds(address)) {
                return true;
            }
        }
        return false;
    }
}
