package hg.boot;

import hg.kvm.GuestMemory;
import hg.kvm.Kvm;
import hg.kvm.VcpuExit;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A freestanding test kernel (C, built with gcc here, ELF64 linked at 16 MiB) is loaded by hg.boot
 * and started on this machine's /dev/kvm with hg.boot's registers. It reads what hg.boot wrote
 * (boot_params, or hvm_start_info on the PVH path) and reports it over port I/O.
 */
class KvmBootTest {
    static final long MiB = 1 << 20;
    static final int REPORT_PORT = 0xe9;
    static final int PVH_PORT = 0xea;

    static final String KERNEL_C = """
            typedef unsigned long u64; typedef unsigned int u32; typedef unsigned short u16; typedef unsigned char u8;

            __asm__(".section .text.entry,\\"ax\\"\\n"
                    ".globl _start\\n"
                    "_start:\\n"
                    "  mov %rsi, %rdi\\n"
                    "  call kmain\\n"
                    "1: hlt\\n"
                    "  jmp 1b\\n"
                    /* PVH: 32-bit protected mode, no paging, EBX = hvm_start_info. */
                    ".code32\\n"
                    ".globl pvh_start\\n"
                    "pvh_start:\\n"
                    "  mov $0xea, %dx\\n"
                    "  mov (%ebx), %eax\\n  out %eax, %dx\\n"          /* magic */
                    "  mov 48(%ebx), %eax\\n  out %eax, %dx\\n"        /* memmap_entries */
                    "  mov 40(%ebx), %ecx\\n  mov 16(%ecx), %eax\\n  out %eax, %dx\\n" /* memmap[0].type */
                    "  mov 24(%ebx), %ecx\\n  mov (%ecx), %eax\\n  out %eax, %dx\\n"   /* first 4 cmdline bytes */
                    "  mov 12(%ebx), %eax\\n  out %eax, %dx\\n"        /* nr_modules */
                    "  mov 16(%ebx), %ecx\\n  mov (%ecx), %eax\\n  out %eax, %dx\\n"   /* module paddr */
                    "  mov 8(%ecx), %eax\\n  out %eax, %dx\\n"         /* module size */
                    "  mov %cs, %eax\\n  out %eax, %dx\\n"
                    "  mov %cr0, %eax\\n  out %eax, %dx\\n"
                    "2: hlt\\n"
                    "  jmp 2b\\n"
                    ".code64\\n"
                    ".pushsection .note.Xen,\\"a\\",@note\\n"
                    ".balign 4\\n"
                    ".long 4, 4, 18\\n"
                    ".asciz \\"Xen\\"\\n"
                    ".balign 4\\n"
                    ".long pvh_start\\n"
                    ".popsection\\n"
                    ".text\\n");

            static void outb(u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"((u16) 0xe9)); }
            static void puts_(const char *s) { while (*s) outb(*s++); }
            static void hex(u64 v) {
                char b[17]; int i = 16; b[16] = 0;
                do { b[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
                puts_(b + i);
            }
            static void kv(const char *k, u64 v) { puts_(k); outb(' '); hex(v); outb('\\n'); }
            static u8 sum8(const u8 *p, u32 n) { u8 s = 0; while (n--) s += *p++; return s; }

            void kmain(u8 *bp) {
                kv("zero_page", (u64) bp);
                kv("magic", *(u32 *) (bp + 0x202));
                kv("loader", bp[0x210]);
                u8 n = bp[0x1e8];
                kv("e820_entries", n);
                for (int i = 0; i < n; i++) {
                    u8 *e = bp + 0x2d0 + 20 * i;
                    puts_("e820."); hex(i); outb(' ');
                    hex(*(u64 *) e); outb(' '); hex(*(u64 *) (e + 8)); outb(' '); hex(*(u32 *) (e + 16)); outb('\\n');
                }
                u64 cl = *(u32 *) (bp + 0x228) | (u64) *(u32 *) (bp + 0xc8) << 32;
                puts_("cmdline "); puts_((const char *) cl); outb('\\n');
                u64 rd = *(u32 *) (bp + 0x218) | (u64) *(u32 *) (bp + 0xc0) << 32;
                u64 rs = *(u32 *) (bp + 0x21c) | (u64) *(u32 *) (bp + 0xc4) << 32;
                kv("initrd_addr", rd);
                kv("initrd_size", rs);
                u32 h = 0;
                for (u64 i = 0; i < rs; i++) h = h * 31 + ((u8 *) rd)[i];
                kv("initrd_hash", h);
                u32 cpus = 0;
                for (u8 *p = (u8 *) 0x9fc00; p < (u8 *) 0xa0000; p += 16) {
                    if (p[0] == '_' && p[1] == 'M' && p[2] == 'P' && p[3] == '_' && sum8(p, 16) == 0) {
                        u8 *t = (u8 *) (u64) *(u32 *) (p + 4);
                        if (sum8(t, *(u16 *) (t + 4)) != 0) break;
                        u8 *q = t + 44;
                        for (u32 k = 0; k < *(u16 *) (t + 34); k++) {
                            if (q[0] == 0) { cpus++; q += 20; } else q += 8;
                        }
                        break;
                    }
                }
                kv("mp_cpus", cpus);
                u64 r; u16 cs;
                __asm__ volatile("mov %%cr0, %0" : "=r"(r)); kv("cr0", r);
                __asm__ volatile("mov %%cr3, %0" : "=r"(r)); kv("cr3", r);
                __asm__ volatile("mov %%cr4, %0" : "=r"(r)); kv("cr4", r);
                __asm__ volatile("mov %%cs, %0" : "=r"(cs)); kv("cs", cs);
                __asm__ volatile("mov %%rsp, %0" : "=r"(r)); kv("rsp_in_kmain_below", r <= 0x8ff0);
                puts_("done 1\\n");
            }
            """;

    static Path kernel;

    @BeforeAll
    static void build(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Kvm.present(), "/dev/kvm is absent on this host: the boot test cannot run a guest");
        Path c = Files.writeString(dir.resolve("kernel.c"), KERNEL_C);
        kernel = dir.resolve("kernel.elf");
        run("gcc", "-ffreestanding", "-nostdlib", "-static", "-no-pie", "-fno-pic", "-mgeneral-regs-only",
                "-mno-red-zone", "-fno-stack-protector", "-O2", "-Wl,-Ttext-segment=0x1000000", "-Wl,--build-id=none",
                "-o", kernel.toString(), c.toString());
    }

    @Test
    void longModeKernelReadsWhatHgBootWrote() throws Exception {
        byte[] initrd = new byte[100_000];
        for (int i = 0; i < initrd.length; i++) {
            initrd[i] = (byte) (i * 7 + i / 251);
        }
        String cmdline = "console=ttyS0 hello=world panic=-1";
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm();
             GuestMemory memory = GuestMemory.map(X86Layout.ramRanges(64 * MiB))) {
            vm.registerMemory(memory);
            LoadedKernel k = KernelLoader.load(memory, kernel);
            assertEquals(KernelFormat.VMLINUX, k.format());
            assertTrue(k.start() >= 0x1000000);
            InitrdPlacement rd = InitrdLoader.load(memory, initrd, k);
            BootSetup boot = LinuxBoot.configure(memory, k, new BootConfig(cmdline, 4, rd));
            Map<String, String> report;
            try (VcpuFd vcpu = vm.createVcpu(0)) {
                KvmState.apply(vcpu, boot.bootCpu());
                report = runText(vcpu);
            }
            assertEquals("1", report.get("done"), report.toString());
            assertEquals("7000", report.get("zero_page"));
            assertEquals("53726448", report.get("magic"));
            assertEquals("ff", report.get("loader"));
            assertEquals(Integer.toHexString(boot.e820().size()), report.get("e820_entries"));
            for (int i = 0; i < boot.e820().size(); i++) {
                E820Entry e = boot.e820().get(i);
                assertEquals(String.format("%x %x %x", e.address(), e.size(), e.type()), report.get("e820." + i));
            }
            assertEquals(cmdline, report.get("cmdline"));
            assertEquals(Long.toHexString(rd.address()), report.get("initrd_addr"));
            assertEquals(Long.toHexString(initrd.length), report.get("initrd_size"));
            int h = 0;
            for (byte b : initrd) {
                h = h * 31 + Byte.toUnsignedInt(b);
            }
            assertEquals(Integer.toHexString(h), report.get("initrd_hash"));
            assertEquals("4", report.get("mp_cpus"));
            assertEquals("10", report.get("cs"));
            assertEquals("9000", report.get("cr3"));
            assertEquals(1L << 31, Long.parseLong(report.get("cr0"), 16) & (1L << 31), "paging on");
            assertEquals(0x20, Long.parseLong(report.get("cr4"), 16) & 0x20, "PAE on");
            assertEquals("1", report.get("rsp_in_kmain_below"));
        }
    }

    @Test
    void pvhEntryRunsIn32BitModeWithStartInfo() throws Exception {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm();
             GuestMemory memory = GuestMemory.map(X86Layout.ramRanges(64 * MiB))) {
            vm.registerMemory(memory);
            LoadedKernel k = ElfLoader.load(memory, kernel);
            assertTrue(k.pvhEntry().isPresent(), "the test kernel's Xen note was found");
            InitrdPlacement rd = InitrdLoader.load(memory, new byte[12345], k);
            BootSetup boot = LinuxBoot.configurePvh(memory, k, new BootConfig("abcd efgh", 1, rd));
            List<Long> words = new java.util.ArrayList<>();
            try (VcpuFd vcpu = vm.createVcpu(0)) {
                KvmState.apply(vcpu, boot.bootCpu());
                for (int exits = 0; exits < 100; exits++) {
                    VcpuExit e = vcpu.run();
                    if (e instanceof VcpuExit.IoOut out && out.port() == PVH_PORT) {
                        words.add(out.value());
                    } else if (e instanceof VcpuExit.Hlt) {
                        break;
                    } else {
                        fail("unexpected exit " + e + " after " + words);
                    }
                }
            }
            long cmdline4 = ByteBufferLe.u32("abcd".getBytes(StandardCharsets.US_ASCII));
            assertEquals(List.of(0x336ec578L, (long) boot.e820().size(), 1L, cmdline4, 1L, rd.address(), 12345L,
                    (long) LinuxBoot.CODE32_SELECTOR, 0x11L), words);
        }
    }

    static final class ByteBufferLe {
        static long u32(byte[] b) {
            return Integer.toUnsignedLong(java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt());
        }
    }

    /** Runs until HLT, collecting the text the guest writes to the report port as "key value" lines. */
    static Map<String, String> runText(VcpuFd vcpu) {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        for (int exits = 0; ; exits++) {
            assertTrue(exits < 20_000, "guest never halted; output so far:\n" + text);
            VcpuExit e = vcpu.run();
            if (e instanceof VcpuExit.IoOut out && out.port() == REPORT_PORT) {
                text.write((int) out.value());
            } else if (e instanceof VcpuExit.Hlt) {
                break;
            } else {
                fail("unexpected exit " + e + "; output so far:\n" + text);
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : text.toString(StandardCharsets.UTF_8).split("\n")) {
            int sp = line.indexOf(' ');
            if (sp > 0) {
                out.put(line.substring(0, sp), line.substring(sp + 1));
            }
        }
        return out;
    }

    static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "gcc did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + new String(out, StandardCharsets.UTF_8));
    }
}
