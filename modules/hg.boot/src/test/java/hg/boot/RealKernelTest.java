package hg.boot;

import hg.kvm.GuestMemory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Loads the guest kernel built from linux-source-6.1 (directory in HG_KERNELS) and checks what
 * hg.boot did against binutils' view of the same file, taken in the same test.
 */
class RealKernelTest {
    static final long MiB = 1 << 20;

    static Path kernels() {
        String dir = System.getenv("HG_KERNELS");
        Assumptions.assumeTrue(dir != null && !dir.isEmpty(),
                "HG_KERNELS is not set: no real guest kernel to load (the launcher sets it to the kernel build output)");
        return Path.of(dir);
    }

    record Load(long offset, long paddr, long filesz, long memsz) {
    }

    @Test
    void guestVmlinuxLoadsAsReadelfDescribesIt() throws Exception {
        Path vmlinux = kernels().resolve("guest-vmlinux");
        assertTrue(Files.isRegularFile(vmlinux), vmlinux + " is missing although HG_KERNELS is set");
        String readelf = run("readelf", "-lnhW", vmlinux.toString());

        long entry = hex(find(readelf, "Entry point address:\\s+0x([0-9a-f]+)"));
        List<Load> loads = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s+LOAD\\s+0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)")
                .matcher(readelf);
        while (m.find()) {
            loads.add(new Load(hex(m.group(1)), hex(m.group(2)), hex(m.group(3)), hex(m.group(4))));
        }
        assertFalse(loads.isEmpty(), "readelf shows no LOAD segment:\n" + readelf);
        String xen = find(readelf, "(?m)^\\s+Xen\\s+0x0+[48]\\s+Unknown note type: \\(0x00000012\\)\\s+description data: ([0-9a-f ]+)");
        long pvh = 0;
        String[] bytes = xen.trim().split(" ");
        for (int i = bytes.length - 1; i >= 0; i--) {
            pvh = (pvh << 8) | Long.parseLong(bytes[i], 16);
        }

        try (GuestMemory memory = GuestMemory.map(X86Layout.ramRanges(256 * MiB));
             FileChannel file = FileChannel.open(vmlinux)) {
            LoadedKernel k = ElfLoader.load(memory, vmlinux);
            assertEquals(entry, k.entry());
            assertEquals(pvh, k.pvhEntry().orElseThrow());
            assertEquals(loads.stream().mapToLong(Load::paddr).min().orElseThrow(), k.start());
            assertEquals(loads.stream().mapToLong(l -> l.paddr() + l.memsz()).max().orElseThrow(), k.end());
            for (Load l : loads) {
                ByteBuffer expected = ByteBuffer.allocateDirect((int) l.filesz());
                file.read(expected, l.offset());
                assertEquals(-1, memory.slice(l.paddr(), l.filesz()).mismatch(MemorySegment.ofBuffer(expected.flip())),
                        "segment at 0x" + Long.toHexString(l.paddr()));
                long bss = l.memsz() - l.filesz();
                assertEquals(-1, memory.slice(l.paddr() + l.filesz(), bss).mismatch(MemorySegment.ofArray(new byte[(int) bss])));
            }
            KernelKind.Vmlinux kind = assertInstanceOf(KernelKind.Vmlinux.class, KernelClassifier.classify(vmlinux));
            assertEquals(entry, kind.entry());
            assertEquals(pvh, kind.pvhEntry().orElseThrow());

            BootSetup s = LinuxBoot.configure(memory, k, new BootConfig("console=ttyS0 reboot=t", 2,
                    InitrdLoader.load(memory, new byte[4096], k)));
            assertEquals(entry, s.bootCpu().regs().rip());
            assertEquals(entry, GuestChecks.walk(memory, s.bootCpu().sregs().cr3(), entry), "entry is identity-mapped");
            assertEquals(pvh, LinuxBoot.configurePvh(memory, k, new BootConfig("", 1)).bootCpu().regs().rip());
        }
    }

    @Test
    void hostBzImageLoadsWithItsOwnSetupHeader() throws Exception {
        Path bz = kernels().resolve("host-bzImage");
        Assumptions.assumeTrue(Files.isRegularFile(bz), "no host-bzImage in HG_KERNELS");
        byte[] head = new byte[0x1000];
        try (FileChannel f = FileChannel.open(bz)) {
            f.read(ByteBuffer.wrap(head), 0);
            ByteBuffer h = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
            int setupSects = Byte.toUnsignedInt(h.get(0x1f1));
            long pmOffset = (setupSects + 1) * 512L;
            long pmSize = f.size() - pmOffset;
            try (GuestMemory memory = GuestMemory.map(X86Layout.ramRanges(512 * MiB))) {
                LoadedKernel k = KernelLoader.load(memory, bz);
                assertEquals(KernelFormat.BZIMAGE, k.format());
                assertEquals(0x100200, k.entry());
                assertEquals(h.getShort(0x206), (short) k.setupHeader().version());
                assertEquals(Integer.toUnsignedLong(h.getInt(0x260)), k.setupHeader().initSize());
                assertEquals(h.getLong(0x258), k.setupHeader().prefAddress());
                assertTrue(k.end() >= k.setupHeader().prefAddress() + k.setupHeader().initSize());
                ByteBuffer pm = ByteBuffer.allocateDirect((int) pmSize);
                f.read(pm, pmOffset);
                assertEquals(-1, memory.slice(0x100000, pmSize).mismatch(MemorySegment.ofBuffer(pm.flip())));
                LinuxBoot.configure(memory, k, new BootConfig("console=ttyS0", 1));
                int headerEnd = 0x202 + Byte.toUnsignedInt(head[0x201]);
                byte[] zeroPage = memory.read(0x7000, 0x1000);
                // Everything but the fields a boot loader writes (type_of_loader, ramdisk, cmd_line_ptr) is the file's.
                for (int[] r : new int[][]{{0x1f1, 0x210}, {0x212, 0x218}, {0x220, 0x228}, {0x22c, headerEnd}}) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(head, r[0], r[1]),
                            java.util.Arrays.copyOfRange(zeroPage, r[0], r[1]), "setup header bytes 0x" + Integer.toHexString(r[0]));
                }
                assertEquals(0xff, Byte.toUnsignedInt(zeroPage[0x210]));
            }
        }
        assertInstanceOf(KernelKind.BzImage.class, KernelClassifier.classify(bz));
    }

    static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in:\n" + text);
        return m.group(1);
    }

    static long hex(String s) {
        return Long.parseUnsignedLong(s, 16);
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        assertEquals(0, p.exitValue(), new String(out, StandardCharsets.UTF_8));
        return new String(out, StandardCharsets.UTF_8);
    }
}
