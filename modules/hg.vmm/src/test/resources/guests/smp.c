/* Starts every other vCPU (INIT, SIPI, SIPI through the local APIC) at a real-mode
 * trampoline that counts itself in and prints its APIC id digit; exits with the number of
 * vCPUs that came up, the boot vCPU included. The vCPU count comes from the MP table via
 * the kernel command line ("smp_vcpus=N"). */
#include "guest.h"

#define TRAMPOLINE 0x10000UL
#define COUNTER (TRAMPOLINE + 0x100)

/* 16-bit code: ds = cs = 0x1000; lock inc [0x100]; read the APIC id from CPUID leaf 1 and
 * print '0' + id on COM1; halt forever. */
static const u8 trampoline[] = {
    0xfa,                         /* cli */
    0x8c, 0xc8,                   /* mov ax, cs */
    0x8e, 0xd8,                   /* mov ds, ax */
    0xf0, 0xfe, 0x06, 0x00, 0x01, /* lock inc byte [0x100] */
    0x66, 0xb8, 0x01, 0, 0, 0,    /* mov eax, 1 */
    0x0f, 0xa2,                   /* cpuid */
    0x66, 0xc1, 0xeb, 0x18,       /* shr ebx, 24 */
    0x88, 0xd8,                   /* mov al, bl */
    0x04, 0x30,                   /* add al, '0' */
    0xba, 0xf8, 0x03,             /* mov dx, 0x3f8 */
    0xee,                         /* out dx, al */
    0xf4,                         /* hlt */
    0xeb, 0xfd,                   /* jmp $-3 (back to hlt) */
};

static void icr(u32 high, u32 low) {
    w32(LAPIC + 0x310, high);
    w32(LAPIC + 0x300, low);
    while (r32(LAPIC + 0x300) & (1 << 12)) {}   /* delivery status */
}

static void delay(void) { for (volatile int i = 0; i < 100000; i++) {} }

int main(u8 *zero_page) {
    const char *cmdline = (const char *)(u64)*(u32 *)(zero_page + 0x228);
    int n = 0;
    for (const char *p = cmdline; *p; p++) {
        static const char key[] = "smp_vcpus=";
        int i = 0;
        while (key[i] && p[i] == key[i]) i++;
        if (!key[i]) { for (p += i; *p >= '0' && *p <= '9'; p++) n = n * 10 + (*p - '0'); break; }
    }
    if (n < 2) debug_exit(200);
    for (unsigned i = 0; i < sizeof(trampoline); i++) ((volatile u8 *)TRAMPOLINE)[i] = trampoline[i];
    *(volatile u8 *)COUNTER = 0;
    w32(LAPIC + 0xf0, 0x1ff);
    for (int id = 1; id < n; id++) {
        icr((u32)id << 24, 0x4500);                          /* INIT */
        delay();
        icr((u32)id << 24, 0x4600 | (TRAMPOLINE >> 12));     /* SIPI */
        delay();
        icr((u32)id << 24, 0x4600 | (TRAMPOLINE >> 12));     /* SIPI again, as the MP spec says */
    }
    for (long spin = 0; *(volatile u8 *)COUNTER < n - 1; spin++) {
        if (spin > 2000000000L) debug_exit(201);
        __asm__ volatile("pause");
    }
    debug_exit(1 + *(volatile u8 *)COUNTER);
}
