/* A minimal virtio-mmio driver for virtio-blk. Finds the device on the kernel command line,
 * negotiates VERSION_1, writes 8 sectors, flushes, reads them back, reads the id and checks an
 * out-of-range read fails. Waits for each request's used-buffer interrupt (IOAPIC pin from the
 * command line). Exits 0 on success, else the failing step. */
#include "guest.h"

#define QN 8
struct desc { u64 addr; u32 len; u16 flags, next; };
struct avail { u16 flags, idx, ring[QN], used_event; };
struct used_elem { u32 id, len; };
struct used { u16 flags, idx; struct used_elem ring[QN]; u16 avail_event; };

static struct desc desc[QN] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static struct { u32 type, reserved; u64 sector; } header;
static volatile u8 status;
static u8 data[4096] __attribute__((aligned(512)));
static u64 base;
static u64 irq;
static u16 last_used;
static volatile int interrupts;

__attribute__((interrupt)) static void virtio_isr(struct interrupt_frame *f) {
    (void)f;
    u32 status = r32(base + 0x60);
    w32(base + 0x64, status);
    if (status & 1) interrupts++;
    lapic_eoi();
}

static u64 find_device(const char *cmdline) {
    static const char key[] = "virtio_mmio.device=";
    for (const char *p = cmdline; *p; p++) {
        int i = 0;
        while (key[i] && p[i] == key[i]) i++;
        if (key[i]) continue;
        p += i;
        while (*p && *p != '@') p++;
        if (p[0] != '@' || p[1] != '0' || p[2] != 'x') return 0;
        p += 3;
        u64 b = parse_hex(&p);
        if (*p != ':') return 0;
        p++;
        while (*p >= '0' && *p <= '9') irq = irq * 10 + (*p++ - '0');
        return b;
    }
    return 0;
}

static int request(u32 type, u64 sector, u32 len, int device_writes) {
    header.type = type;
    header.sector = sector;
    status = 0xff;
    int n = 0;
    desc[n] = (struct desc){ (u64)&header, 16, 1, 1 }; n++;
    if (len) { desc[n] = (struct desc){ (u64)data, len, (u16)(1 | (device_writes ? 2 : 0)), 2 }; n++; desc[n - 2].next = n - 1; }
    desc[n] = (struct desc){ (u64)&status, 1, 2, 0 };
    desc[n - 1].next = n;
    avail.ring[avail.idx % QN] = 0;
    barrier();
    avail.idx++;
    barrier();
    w32(base + 0x50, 0);
    WAIT_UNTIL(*(volatile u16 *)&used.idx != last_used);
    last_used++;
    barrier();
    return status;
}

int main(u8 *zero_page) {
    const char *cmdline = (const char *)(u64)*(u32 *)(zero_page + 0x228);
    base = find_device(cmdline);
    if (!base || !irq || irq > 23) debug_exit(1);
    interrupts_init();
    set_gate(0x25, virtio_isr);
    ioapic_route((int)irq, 0x25);
    if (r32(base) != 0x74726976 || r32(base + 4) != 2 || r32(base + 8) != 2) debug_exit(2);
    w32(base + 0x70, 0);
    w32(base + 0x70, 1);
    w32(base + 0x70, 3);
    w32(base + 0x14, 1);
    if (!(r32(base + 0x10) & 1)) debug_exit(3);           /* VIRTIO_F_VERSION_1 offered */
    w32(base + 0x24, 0); w32(base + 0x20, 0);
    w32(base + 0x24, 1); w32(base + 0x20, 1);
    w32(base + 0x70, 11);
    if (!(r32(base + 0x70) & 8)) debug_exit(4);           /* FEATURES_OK accepted */
    w32(base + 0x30, 0);
    if (r32(base + 0x34) < QN || r32(base + 0x44)) debug_exit(5);
    w32(base + 0x38, QN);
    w32(base + 0x80, (u32)(u64)desc); w32(base + 0x84, 0);
    w32(base + 0x90, (u32)(u64)&avail); w32(base + 0x94, 0);
    w32(base + 0xa0, (u32)(u64)&used); w32(base + 0xa4, 0);
    w32(base + 0x44, 1);
    w32(base + 0x70, 15);
    if (r32(base + 0x70) != 15) debug_exit(6);
    u64 capacity = r32(base + 0x100) | (u64)r32(base + 0x104) << 32;
    if (capacity < 16) debug_exit(7);

    for (int i = 0; i < 4096; i++) data[i] = (u8)(i * 13 + 7);
    if (request(1, 2, 4096, 0) != 0) debug_exit(8);       /* write sectors 2..9 */
    if (request(4, 0, 0, 0) != 0) debug_exit(9);          /* flush */
    for (int i = 0; i < 4096; i++) data[i] = 0;
    if (request(0, 2, 4096, 1) != 0) debug_exit(10);      /* read them back */
    for (int i = 0; i < 4096; i++) if (data[i] != (u8)(i * 13 + 7)) debug_exit(11);
    if (request(8, 0, 20, 1) != 0) debug_exit(12);        /* get id */
    if (data[0] != 'h' || data[1] != 'g') debug_exit(13);
    if (request(0, capacity, 512, 1) != 1) debug_exit(14); /* past the end: IOERR */
    if (r32(base + 0x70) & 64) debug_exit(15);            /* not DEVICE_NEEDS_RESET */
    /* Used-buffer interrupts arrived (several completions may share one: the device raises an
     * edge only when no interrupt is pending). A lost one would have left the guest halted. */
    if (interrupts < 1) debug_exit(16);
    puts_polled("virtio-blk ok\n");
    debug_exit(0);
}
