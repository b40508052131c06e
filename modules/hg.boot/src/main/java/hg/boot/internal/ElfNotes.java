package hg.boot.internal;

import hg.boot.InvalidKernelException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;

/**
 * The PT_NOTE segments of a vmlinux, searched for the Xen PVH entry note. Every kernel_list classifies each
 * file again, so the walk is bounded whatever the headers claim: a few segments, a few KiB of notes, a few
 * hundred notes in all. A real x86-64 vmlinux has one PT_NOTE of a few hundred bytes and a few dozen notes.
 */
final class ElfNotes {
    /** A PT_NOTE segment: {@code size} bytes of notes at {@code offset}, entries aligned to {@code align}. */
    record Segment(int index, long offset, long size, long align) {
    }

    /** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit PVH entry point. */
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    static final int MAX_SEGMENTS = 8;
    /** The bytes of all note segments together: the only part of the file read besides the headers. */
    static final long MAX_BYTES = 64 << 10;
    static final int MAX_NOTES = 1024;

    private ElfNotes() {
    }

    /** The PVH entry of the last segment that has one; refuses note segments beyond the bounds before reading them. */
    static OptionalLong pvhEntry(Source source, List<Segment> segments) throws IOException, InvalidKernelException {
        if (segments.size() > MAX_SEGMENTS) {
            throw new InvalidKernelException("ELF file has " + segments.size() + " note segments; a kernel has one (at most "
                    + MAX_SEGMENTS + " are accepted)");
        }
        long bytes = 0;
        for (Segment s : segments) {
            bytes += s.size(); // each at most the file's size (checked by the caller), so no overflow
        }
        if (bytes > MAX_BYTES) {
            throw new InvalidKernelException(String.format(
                    "ELF note segments hold 0x%x bytes, more than a kernel's notes (at most %d KiB are read)",
                    bytes, MAX_BYTES >> 10));
        }
        int[] notesLeft = {MAX_NOTES};
        OptionalLong pvh = OptionalLong.empty();
        for (Segment s : segments) {
            OptionalLong found = pvhEntry(source.read(s.offset(), (int) s.size()), s, notesLeft);
            if (found.isPresent()) {
                pvh = found;
            }
        }
        return pvh;
    }

    private static OptionalLong pvhEntry(ByteBuffer b, Segment note, int[] notesLeft) throws InvalidKernelException {
        long align = note.align();
        long pos = 0;
        long size = note.size();
        while (size - pos >= 12) {
            if (--notesLeft[0] < 0) {
                throw new InvalidKernelException("ELF note segment " + note.index() + " brings the notes past "
                        + MAX_NOTES + "; a kernel has a few dozen");
            }
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
                return OptionalLong.of(entry(b, (int) desc, descsz));
            }
            pos = Math.min(next, size);
        }
        return OptionalLong.empty();
    }

    private static long entry(ByteBuffer b, int desc, long descsz) throws InvalidKernelException {
        long entry;
        if (descsz == 4) {
            entry = Integer.toUnsignedLong(b.getInt(desc));
        } else if (descsz == 8) {
            entry = b.getLong(desc);
        } else {
            throw new InvalidKernelException("PVH entry note has a " + descsz + "-byte value, expected 4 or 8");
        }
        if (entry < 0 || entry > 0xffffffffL) {
            throw new InvalidKernelException(String.format("PVH entry point 0x%x is above 4 GiB", entry));
        }
        return entry;
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
