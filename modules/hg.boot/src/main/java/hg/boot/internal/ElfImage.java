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
 * the program headers and the notes only.
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

    /** A PT_NOTE segment: {@code size} bytes of notes at {@code offset}, entries aligned to {@code align}. */
    private record Notes(int index, long offset, long size, long align) {
    }

    static final int EHDR_SIZE = 64;
    static final int PHDR_SIZE = 56;
    static final int ELFCLASS64 = 2;
    static final int ELFDATA2LSB = 1;
    static final int ET_EXEC = 2;
    static final int EM_X86_64 = 62;
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    /** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit PVH entry point. */
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    /** Notes sections of a kernel are a few hundred bytes; a larger one is refused rather than read. */
    static final long MAX_NOTE_SEGMENT = 1 << 20;

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
        long tableSize = (long) phnum * PHDR_SIZE;
        if (phoff < 0 || phoff > source.size() - tableSize) {
            throw new InvalidKernelException(String.format(
                    "truncated ELF file: program header table at 0x%x (%d entries) ends past the file end (%d bytes)",
                    phoff, phnum, source.size()));
        }
        ByteBuffer ph = source.read(phoff, (int) tableSize);
        List<Segment> loads = new ArrayList<>();
        List<Notes> notes = new ArrayList<>();
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
                notes.add(new Notes(i, offset, filesz, align == 8 ? 8 : 4));
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
        OptionalLong pvh = OptionalLong.empty();
        for (Notes n : notes) {
            OptionalLong found = pvhEntry(source, n);
            if (found.isPresent()) {
                long e = found.getAsLong();
                if (!anyHolds(loads, e)) {
                    throw new InvalidKernelException(String.format(
                            "PVH entry point 0x%x (Xen note) is outside every loadable segment", e));
                }
                pvh = found;
            }
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

    private static OptionalLong pvhEntry(Source source, Notes note) throws IOException, InvalidKernelException {
        if (note.size() > MAX_NOTE_SEGMENT) {
            throw new InvalidKernelException(String.format("ELF note segment %d is 0x%x bytes, more than a kernel's notes",
                    note.index(), note.size()));
        }
        long align = note.align();
        ByteBuffer b = source.read(note.offset(), (int) note.size());
        long pos = 0;
        long size = note.size();
        while (size - pos >= 12) {
            long namesz = Integer.toUnsignedLong(b.getInt((int) pos));
            long descsz = Integer.toUnsignedLong(b.getInt((int) pos + 4));
            int type = b.getInt((int) pos + 8);
            long name = pos + 12;
            long desc = name + alignUp(namesz, align);
            long next = desc + alignUp(descsz, align);
            if (desc + descsz > size || name + namesz > size) {
                throw new InvalidKernelException(String.format(
                        "ELF note segment %d: note at offset 0x%x runs past the end of the segment", note.index(), pos));
            }
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && isXen(b, (int) name, namesz)) {
                long entry;
                if (descsz == 4) {
                    entry = Integer.toUnsignedLong(b.getInt((int) desc));
                } else if (descsz == 8) {
                    entry = b.getLong((int) desc);
                } else {
                    throw new InvalidKernelException("PVH entry note has a " + descsz + "-byte value, expected 4 or 8");
                }
                if (entry < 0 || entry > 0xffffffffL) {
                    throw new InvalidKernelException(String.format("PVH entry point 0x%x is above 4 GiB", entry));
                }
                return OptionalLong.of(entry);
            }
            pos = Math.min(next, size);
        }
        return OptionalLong.empty();
    }

    private static boolean isXen(ByteBuffer b, int at, long namesz) {
        if (namesz != 3 && namesz != 4) {
            return false;
        }
        return b.get(at) == 'X' && b.get(at + 1) == 'e' && b.get(at + 2) == 'n' && (namesz == 3 || b.get(at + 3) == 0);
    }

    private static long alignUp(long v, long a) {
        return (v + a - 1) & -a;
    }
}
