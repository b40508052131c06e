package hg.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Small kernels built byte by byte, for the cases real kernels do not exercise. */
final class Fixtures {
    private Fixtures() {
    }

    record Seg(long paddr, byte[] data, long memsz) {
    }

    /** An ELF64 builder: header, program headers, an optional Xen PVH note, then the segment data. */
    static final class Elf {
        int elfClass = 2, dataEncoding = 1, type = 2, machine = 62, phentsize = 56;
        long entry;
        final List<Seg> segments = new ArrayList<>();
        Long pvhEntry;          // null: no note
        int pvhDescSize = 8;
        boolean pvhNoteFirstOtherNote = true;

        Elf entry(long e) {
            entry = e;
            return this;
        }

        Elf segment(long paddr, byte[] data, long memsz) {
            segments.add(new Seg(paddr, data, memsz));
            return this;
        }

        Elf pvh(long e, int descSize) {
            pvhEntry = e;
            pvhDescSize = descSize;
            return this;
        }

        byte[] note() {
            ByteBuffer n = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
            if (pvhNoteFirstOtherNote) { // a GNU build-id note before it, as real kernels have
                n.putInt(4).putInt(8).putInt(3).put("GNU\0".getBytes()).putLong(0x1122334455667788L);
            }
            n.putInt(4).putInt(pvhDescSize).putInt(18).put("Xen\0".getBytes());
            if (pvhDescSize == 8) {
                n.putLong(pvhEntry);
            } else {
                n.putInt((int) (long) pvhEntry);
            }
            byte[] out = new byte[n.position()];
            n.flip().get(out);
            return out;
        }

        byte[] build() {
            int phnum = segments.size() + (pvhEntry != null ? 1 : 0);
            byte[] note = pvhEntry != null ? note() : new byte[0];
            long dataStart = align(64 + 56L * phnum + note.length, 16);
            long total = dataStart;
            for (Seg s : segments) {
                total = align(total + s.data().length, 16);
            }
            ByteBuffer b = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(0x464c457f).put((byte) elfClass).put((byte) dataEncoding).put((byte) 1);
            b.position(16);
            b.putShort((short) type).putShort((short) machine).putInt(1).putLong(entry).putLong(64).putLong(0)
                    .putInt(0).putShort((short) 64).putShort((short) phentsize).putShort((short) phnum)
                    .putShort((short) 64).putShort((short) 0).putShort((short) 0);
            long off = dataStart;
            for (Seg s : segments) {
                b.putInt(1).putInt(7).putLong(off).putLong(0xffffffff80000000L + s.paddr()).putLong(s.paddr())
                        .putLong(s.data().length).putLong(s.memsz()).putLong(0x200000);
                off = align(off + s.data().length, 16);
            }
            if (pvhEntry != null) {
                long noteOff = 64 + 56L * phnum;
                b.putInt(4).putInt(4).putLong(noteOff).putLong(0).putLong(0)
                        .putLong(note.length).putLong(note.length).putLong(4);
                b.put(note);
            }
            off = dataStart;
            for (Seg s : segments) {
                b.put((int) off, s.data());
                off = align(off + s.data().length, 16);
            }
            return b.array();
        }
    }

    /** The vmlinux shape: text+data at 16 MiB with bss, a second segment, and a PVH note. */
    static Elf vmlinux() {
        return new Elf().entry(0x1000000)
                .segment(0x1000000, pattern(0x3000, 1), 0x5000)
                .segment(0x1006000, pattern(0x800, 7), 0x800)
                .pvh(0x1000100, 8);
    }

    /**
     * A hostile vmlinux: one good PT_LOAD at 16 MiB, then {@code noteHeaders} PT_NOTE program headers that all
     * point at one note segment of {@code notesPerSegment} notes, each with {@code nameSize} and {@code descSize}
     * bytes of (zero) name and value. A real kernel has one PT_NOTE with a few dozen notes.
     */
    static byte[] noteFlood(int noteHeaders, int notesPerSegment, int nameSize, int descSize) {
        int phnum = 1 + noteHeaders;
        long noteSize = (long) notesPerSegment * (12 + align(nameSize, 4) + align(descSize, 4));
        long notesAt = align(64 + 56L * phnum, 16);
        long loadAt = align(notesAt + noteSize, 16);
        ByteBuffer b = ByteBuffer.allocate((int) (loadAt + 16)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x464c457f).put((byte) 2).put((byte) 1).put((byte) 1);
        b.position(16);
        b.putShort((short) 2).putShort((short) 62).putInt(1).putLong(0x1000000).putLong(64).putLong(0)
                .putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) phnum)
                .putShort((short) 64).putShort((short) 0).putShort((short) 0);
        b.putInt(1).putInt(7).putLong(loadAt).putLong(0xffffffff81000000L).putLong(0x1000000)
                .putLong(16).putLong(16).putLong(0x200000);
        for (int i = 0; i < noteHeaders; i++) {
            b.putInt(4).putInt(4).putLong(notesAt).putLong(0).putLong(0).putLong(noteSize).putLong(noteSize).putLong(4);
        }
        b.position((int) notesAt);
        for (int i = 0; i < notesPerSegment; i++) {
            b.putInt(nameSize).putInt(descSize).putInt(1);
            b.position(b.position() + (int) align(nameSize, 4) + (int) align(descSize, 4));
        }
        return b.array();
    }

    /** A bzImage builder: boot sector and setup sectors with the setup header, then the protected-mode part. */
    static final class BzImage {
        int setupSects = 4, version = 0x020f, loadflags = 1, xloadflags = 3, headerEnd = 0x26c;
        int bootFlag = 0xaa55, magic = 0x53726448;
        int relocatable = 1;
        long kernelAlignment = 0x200000, prefAddress = 0x1000000, initSize = 0x400000;
        long cmdlineSize = 2047, initrdAddrMax = 0x7fffffff;
        byte[] payload = pattern(0x2000, 3);

        byte[] build() {
            int pm = (setupSects == 0 ? 5 : setupSects + 1) * 512;
            ByteBuffer b = ByteBuffer.allocate(pm + payload.length).order(ByteOrder.LITTLE_ENDIAN);
            b.put(0x1f1, (byte) setupSects);
            b.putInt(0x1f4, (payload.length + 15) / 16);
            b.putShort(0x1fe, (short) bootFlag);
            b.put(0x200, (byte) 0xeb).put(0x201, (byte) (headerEnd - 0x202));
            b.putInt(0x202, magic).putShort(0x206, (short) version);
            b.put(0x211, (byte) loadflags).putInt(0x214, 0x100000);
            b.putInt(0x22c, (int) initrdAddrMax).putInt(0x230, (int) kernelAlignment).put(0x234, (byte) relocatable);
            b.putShort(0x236, (short) xloadflags).putInt(0x238, (int) cmdlineSize);
            b.putLong(0x258, prefAddress).putInt(0x260, (int) initSize);
            b.put(pm, payload);
            return b.array();
        }
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + 1);
            if (b[i] == 0) {
                b[i] = 1;
            }
        }
        return b;
    }

    static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }
}
