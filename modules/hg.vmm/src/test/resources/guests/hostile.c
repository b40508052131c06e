/* A hostile driver: for every virtio-mmio device on the kernel command line it runs rounds of
 * half-right handshakes with random features, queue sizes and ring addresses (inside a garbage
 * area of its own, outside RAM, or wrapping around), fills that area with random descriptors
 * (chains, loops, huge lengths, indirect flags, addresses anywhere), notifies every queue and
 * writes random values of random widths to random register and config offsets. Then it ends as
 * "hostile_end=" says: "triple" (a triple fault), "spin" (a loop with interrupts off, never
 * exiting), or else a debug exit 0. Needs at least 64 MiB of guest memory. */
#include "guest.h"

#define GARBAGE_SIZE (16 * 1024)
#define ROUNDS 12
#define MAX_DEVICES 8

/* Far above the program and its stack (the guest has 64 MiB): a descriptor that points into the
 * area with a length past its end still lands on memory nothing uses. */
#define garbage ((u8 *)0x2000000UL)
static u64 bases[MAX_DEVICES];
static int devices;
static u64 rng_state = 0x9e3779b97f4a7c15UL;

static u64 rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Every "virtio_mmio.device=SIZE@0xBASE:IRQ" of the command line. */
static void find_devices(const char *cmdline) {
    static const char key[] = "virtio_mmio.device=";
    for (const char *p = cmdline; *p && devices < MAX_DEVICES; p++) {
        int i = 0;
        while (key[i] && p[i] == key[i]) i++;
        if (key[i]) continue;
        p += i;
        while (*p && *p != '@') p++;
        if (p[0] != '@' || p[1] != '0' || p[2] != 'x') continue;
        p += 3;
        bases[devices++] = parse_hex(&p);
    }
}

static int has(const char *cmdline, const char *word) {
    for (const char *p = cmdline; *p; p++) {
        int i = 0;
        while (word[i] && p[i] == word[i]) i++;
        if (!word[i]) return 1;
    }
    return 0;
}

/* A ring address: mostly inside the garbage area, sometimes outside RAM or at the top of the address space. */
static u64 ring_address(void) {
    switch (rnd() % 5) {
    case 0: return rnd();
    case 1: return 0xfffffffffffff000UL + (rnd() % 4096);
    case 2: return (u64)garbage + (rnd() % GARBAGE_SIZE);
    default: return (u64)garbage + (rnd() % GARBAGE_SIZE & ~0xfUL);
    }
}

/* Random bytes, with every other 16-byte slot made a descriptor that points back into the area. */
static void fill_garbage(void) {
    for (int i = 0; i < GARBAGE_SIZE; i += 8) *(u64 *)(garbage + i) = rnd();
    for (int i = 0; i < GARBAGE_SIZE; i += 32) {
        u64 *d = (u64 *)(garbage + i);
        u64 r = rnd();
        d[0] = (u64)garbage + (r % GARBAGE_SIZE);
        u32 len = (r >> 32) % 3 == 0 ? (u32)rnd() : (u32)(rnd() % 4096);
        u16 flags = (u16)(rnd() & 7);          /* NEXT, WRITE, INDIRECT in any mix */
        u16 next = (u16)(rnd() % 16);          /* short loops and chains */
        d[1] = (u64)len | (u64)flags << 32 | (u64)next << 48;
    }
}

static void w_any(u64 a) {
    switch (rnd() % 4) {
    case 0: *(volatile u8 *)a = (u8)rnd(); break;
    case 1: *(volatile u16 *)(a & ~1UL) = (u16)rnd(); break;
    case 2: *(volatile u32 *)(a & ~3UL) = (u32)rnd(); break;
    default: *(volatile u64 *)(a & ~7UL) = rnd(); break;
    }
}

static void r_any(u64 a) {
    switch (rnd() % 3) {
    case 0: (void)*(volatile u8 *)a; break;
    case 1: (void)*(volatile u16 *)(a & ~1UL); break;
    default: (void)*(volatile u32 *)(a & ~3UL); break;
    }
}

static void round_on(u64 base) {
    w32(base + 0x70, 0);                      /* reset */
    w32(base + 0x70, 1 | 2);                  /* ACKNOWLEDGE | DRIVER */
    /* Mostly a subset of what is offered (VERSION_1 kept, so the queues go live), sometimes anything. */
    int honest = rnd() % 4 != 0;
    for (u32 sel = 0; sel < 2; sel++) {
        w32(base + 0x14, sel);
        u32 offered = r32(base + 0x10);
        u32 keep = sel == 1 ? 1 : 0;
        w32(base + 0x24, sel);
        w32(base + 0x20, honest ? (offered & ((u32)rnd() | keep)) : (u32)rnd());
    }
    w32(base + 0x70, 1 | 2 | 8);              /* FEATURES_OK, whatever was offered */
    for (u32 q = 0; q < 3; q++) {
        w32(base + 0x30, rnd() % 8 == 0 ? (u32)rnd() : q);
        u32 max = r32(base + 0x34);
        u32 size = max ? max : 8;
        while (size > 1 && rnd() % 2) size >>= 1;
        w32(base + 0x38, rnd() % 4 == 0 ? (u32)rnd() : size);
        u64 a;
        a = ring_address(); w32(base + 0x80, (u32)a); w32(base + 0x84, (u32)(a >> 32));
        a = ring_address(); w32(base + 0x90, (u32)a); w32(base + 0x94, (u32)(a >> 32));
        a = ring_address(); w32(base + 0xa0, (u32)a); w32(base + 0xa4, (u32)(a >> 32));
        w32(base + 0x44, rnd() % 4 == 0 ? (u32)rnd() : 1);
    }
    w32(base + 0x70, rnd() % 4 == 0 ? (u32)rnd() : 1 | 2 | 4 | 8);   /* DRIVER_OK, or anything */
    fill_garbage();
    for (int n = 0; n < 12; n++) w32(base + 0x50, rnd() % 4 == 0 ? (u32)rnd() : (u32)(n % 3));
    for (int n = 0; n < 48; n++) {
        u64 off = rnd() % 0x200;
        if (rnd() % 3 == 0) r_any(base + off); else w_any(base + off);
    }
    w32(base + 0x64, (u32)rnd());             /* acknowledge interrupts that were never raised */
}

int main(u8 *zero_page) {
    const char *cmdline = (const char *)(u64)*(u32 *)(zero_page + 0x228);
    find_devices(cmdline);
    if (devices == 0) {
        puts_polled("hostile: no virtio-mmio device on the command line\n");
        debug_exit(2);
    }
    for (int r = 0; r < ROUNDS; r++)
        for (int d = 0; d < devices; d++) round_on(bases[d]);
    puts_polled("hostile done\n");
    if (has(cmdline, "hostile_end=triple")) {
        struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { 0, 0 };
        __asm__ volatile("lidt %0; ud2" : : "m"(idtr));
    }
    if (has(cmdline, "hostile_end=spin")) {
        __asm__ volatile("cli");
        for (;;) __asm__ volatile("" ::: "memory");
    }
    debug_exit(0);
}
