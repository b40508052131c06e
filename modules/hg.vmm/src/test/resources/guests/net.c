/* A minimal virtio-mmio driver for virtio-net. Finds the network card among the devices on the
 * kernel command line, takes its address and gateway from ip=, negotiates VERSION_1 and MAC,
 * asks the gateway's MAC with ARP, pings it with 1000 bytes and checks the echo. Waits for the
 * used-buffer interrupts. Exits 0 on success, else the failing step. */
#include "guest.h"

#define QN 8
#define HDR 12
#define BUF 2048
struct desc { u64 addr; u32 len; u16 flags, next; };
struct avail { u16 flags, idx, ring[QN], used_event; };
struct used_elem { u32 id, len; };
struct used { u16 flags, idx; struct used_elem ring[QN]; u16 avail_event; };

static struct desc rxd[QN] __attribute__((aligned(16))), txd[QN] __attribute__((aligned(16)));
static struct avail rxa __attribute__((aligned(2))), txa __attribute__((aligned(2)));
static struct used rxu __attribute__((aligned(4))), txu __attribute__((aligned(4)));
static u8 rxbuf[QN][BUF], txbuf[BUF];
static u64 base, irq;
static u16 rx_last, tx_last;
static u8 mac[6], gw_mac[6], ip[4], gw[4];

__attribute__((interrupt)) static void virtio_isr(struct interrupt_frame *f) {
    (void)f;
    w32(base + 0x64, r32(base + 0x60));
    lapic_eoi();
}

static u64 parse_num(const char **p, int hex) {
    u64 v = 0;
    for (;;) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return v;
        v = v * (hex ? 16 : 10) + d;
        (*p)++;
    }
}

static const char *find(const char *s, const char *key) {
    for (; *s; s++) {
        int i = 0;
        while (key[i] && s[i] == key[i]) i++;
        if (!key[i]) return s + i;
    }
    return 0;
}

static int parse_ip(const char **p, u8 *out) {
    for (int i = 0; i < 4; i++) {
        out[i] = (u8)parse_num(p, 0);
        if (i < 3 && *(*p)++ != '.') return 0;
    }
    return 1;
}

/* The first virtio-mmio device on the command line whose device id is 1 (network). */
static void find_net(const char *cmdline) {
    const char *p = cmdline;
    while ((p = find(p, "virtio_mmio.device=")) != 0) {
        while (*p && *p != '@') p++;
        if (p[0] != '@' || p[1] != '0' || p[2] != 'x') return;
        p += 3;
        u64 b = parse_num(&p, 1);
        if (*p++ != ':') return;
        u64 i = parse_num(&p, 0);
        if (r32(b) == 0x74726976 && r32(b + 8) == 1) { base = b; irq = i; return; }
    }
}

static void setup_queue(int sel, struct desc *d, struct avail *a, struct used *u) {
    w32(base + 0x30, sel);
    if (r32(base + 0x34) < QN || r32(base + 0x44)) debug_exit(5);
    w32(base + 0x38, QN);
    w32(base + 0x80, (u32)(u64)d); w32(base + 0x84, 0);
    w32(base + 0x90, (u32)(u64)a); w32(base + 0x94, 0);
    w32(base + 0xa0, (u32)(u64)u); w32(base + 0xa4, 0);
    w32(base + 0x44, 1);
}

static void send(const u8 *frame, u32 len) {
    for (int i = 0; i < HDR; i++) txbuf[i] = 0;
    for (u32 i = 0; i < len; i++) txbuf[HDR + i] = frame[i];
    txd[0] = (struct desc){ (u64)txbuf, HDR + len, 0, 0 };
    txa.ring[txa.idx % QN] = 0;
    barrier();
    txa.idx++;
    barrier();
    w32(base + 0x50, 1);
    WAIT_UNTIL(*(volatile u16 *)&txu.idx != tx_last);
    tx_last++;
}

static volatile u64 ticks;

__attribute__((interrupt)) static void timer_isr(struct interrupt_frame *f) {
    (void)f;
    ticks++;
    lapic_eoi();
}

/* The next received frame (without its header); its buffer goes back to the device. Null once
 * the timer's ticks pass deadline (0: no deadline). */
static u8 *receive_until(u32 *len, u64 deadline) {
    WAIT_UNTIL(*(volatile u16 *)&rxu.idx != rx_last || (deadline && ticks > deadline));
    if (*(volatile u16 *)&rxu.idx == rx_last) return 0;
    barrier();
    struct used_elem e = rxu.ring[rx_last % QN];
    rx_last++;
    if (e.id >= QN || e.len < HDR + 14 || e.len > BUF) debug_exit(20);
    u8 *b = rxbuf[e.id];
    if (b[10] != 1 || b[11] != 0) debug_exit(21);          /* num_buffers is 1 */
    static u8 frame[BUF];
    for (u32 i = 0; i < e.len; i++) frame[i] = b[i];
    rxa.ring[rxa.idx % QN] = (u16)e.id;
    barrier();
    rxa.idx++;
    barrier();
    w32(base + 0x50, 0);
    *len = e.len - HDR;
    return frame + HDR;
}

static u8 *receive(u32 *len) { return receive_until(len, 0); }

static u16 csum(const u8 *d, int n) {
    u32 s = 0;
    for (int i = 0; i < n; i += 2) s += (u32)(d[i] << 8 | (i + 1 < n ? d[i + 1] : 0));
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (u16)~s;
}

static int eq(const u8 *a, const u8 *b, int n) { for (int i = 0; i < n; i++) if (a[i] != b[i]) return 0; return 1; }
static void put16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }

/* Pings the gateway with 1000 bytes, sequence number seq, and checks the echo; 0 when no echo
 * came before deadline (in timer ticks; 0: wait for ever). */
static int ping(u16 seq, u64 deadline) {
    u8 f[1100];
    u32 len;
    u8 *r;
    int n = 14 + 20 + 8 + 1000;
    for (int i = 0; i < 6; i++) { f[i] = gw_mac[i]; f[6 + i] = mac[i]; }
    put16(f + 12, 0x0800);
    u8 *h = f + 14;
    h[0] = 0x45; h[1] = 0; put16(h + 2, 20 + 8 + 1000); put16(h + 4, 0); put16(h + 6, 0x4000);
    h[8] = 64; h[9] = 1; put16(h + 10, 0);
    for (int i = 0; i < 4; i++) { h[12 + i] = ip[i]; h[16 + i] = gw[i]; }
    put16(h + 10, csum(h, 20));
    u8 *icmp = h + 20;
    icmp[0] = 8; icmp[1] = 0; put16(icmp + 2, 0); put16(icmp + 4, 0x4867); put16(icmp + 6, seq);
    for (int i = 0; i < 1000; i++) icmp[8 + i] = (u8)(i * 7 + 1);
    put16(icmp + 2, csum(icmp, 1008));
    send(f, (u32)n);
    for (int tries = 0;; tries++) {
        if (tries > 64) debug_exit(9);
        r = receive_until(&len, deadline);
        if (!r) return 0;
        if (len >= 42 && r[12] == 0x08 && r[13] == 0x06 && r[21] == 1 && eq(r + 38, ip, 4)) {
            /* Who has our address? The host asks again whenever it forgot (a restore gives the
             * guest a new TAP, and the bridge's neighbours go with its last port). */
            u8 a[42];
            for (int i = 0; i < 6; i++) { a[i] = r[6 + i]; a[6 + i] = mac[i]; a[22 + i] = mac[i]; a[32 + i] = r[22 + i]; }
            put16(a + 12, 0x0806); put16(a + 14, 1); put16(a + 16, 0x0800); a[18] = 6; a[19] = 4; put16(a + 20, 2);
            for (int i = 0; i < 4; i++) { a[28 + i] = ip[i]; a[38 + i] = r[28 + i]; }
            send(a, 42);
            continue;
        }
        if (len >= (u32)n && r[12] == 0x08 && r[13] == 0x00 && r[23] == 1 && eq(r + 26, gw, 4) && r[34] == 0
                && r[40] == (u8)(seq >> 8) && r[41] == (u8)seq) break;
    }
    for (int i = 0; i < 1000; i++) if (r[42 + i] != (u8)(i * 7 + 1)) debug_exit(10);
    return 1;
}

int main(u8 *zero_page) {
    const char *cmdline = (const char *)(u64)*(u32 *)(zero_page + 0x228);
    find_net(cmdline);
    if (!base || !irq || irq > 23) debug_exit(1);
    const char *p = find(cmdline, "ip=");
    if (!p || !parse_ip(&p, ip) || *p++ != ':' || *p++ != ':' || !parse_ip(&p, gw)) debug_exit(2);
    interrupts_init();
    set_gate(0x26, virtio_isr);
    ioapic_route((int)irq, 0x26);
    w32(base + 0x70, 0);
    w32(base + 0x70, 1);
    w32(base + 0x70, 3);
    w32(base + 0x14, 0);
    if (!(r32(base + 0x10) & (1 << 5))) debug_exit(3);      /* VIRTIO_NET_F_MAC offered */
    w32(base + 0x24, 0); w32(base + 0x20, 1 << 5);
    w32(base + 0x24, 1); w32(base + 0x20, 1);                /* VIRTIO_F_VERSION_1 */
    w32(base + 0x70, 11);
    if (!(r32(base + 0x70) & 8)) debug_exit(4);
    setup_queue(0, rxd, &rxa, &rxu);
    setup_queue(1, txd, &txa, &txu);
    for (int i = 0; i < QN; i++) {
        rxd[i] = (struct desc){ (u64)rxbuf[i], BUF, 2, 0 };
        rxa.ring[i] = (u16)i;
    }
    rxa.idx = QN;
    w32(base + 0x70, 15);
    if (r32(base + 0x70) != 15) debug_exit(6);
    for (int i = 0; i < 6; i++) mac[i] = *(volatile u8 *)(base + 0x100 + i);
    if (mac[0] != 0x02 || mac[1] != 0x68 || mac[2] != 0x67) debug_exit(7);
    w32(base + 0x50, 0);

    u8 f[1100];
    /* ARP: who has the gateway? */
    for (int i = 0; i < 6; i++) { f[i] = 0xff; f[6 + i] = mac[i]; }
    put16(f + 12, 0x0806); put16(f + 14, 1); put16(f + 16, 0x0800); f[18] = 6; f[19] = 4; put16(f + 20, 1);
    for (int i = 0; i < 6; i++) { f[22 + i] = mac[i]; f[32 + i] = 0; }
    for (int i = 0; i < 4; i++) { f[28 + i] = ip[i]; f[38 + i] = gw[i]; }
    send(f, 42);
    u32 len;
    u8 *r;
    for (int tries = 0;; tries++) {
        if (tries > 64) debug_exit(8);
        r = receive(&len);
        if (len >= 42 && r[12] == 0x08 && r[13] == 0x06 && r[21] == 2 && eq(r + 28, gw, 4) && eq(r + 32, mac, 6)) break;
    }
    for (int i = 0; i < 6; i++) gw_mac[i] = r[22 + i];

    ping(1, 0);
    if (r32(base + 0x70) & 64) debug_exit(11);             /* not DEVICE_NEEDS_RESET */
    puts_polled("virtio-net ok\n");
    if (find(cmdline, "hg_net_loop")) {
        /* Pings on and on, for a snapshot taken while the card is busy; an echo lost with the
         * host's old TAP is asked again after 200 ms, as any ping would. */
        set_gate(0x30, timer_isr);
        w32(LAPIC + 0x3e0, 0xb);
        w32(LAPIC + 0x320, 0x30 | (1 << 17));
        w32(LAPIC + 0x380, 1000000);
        for (u16 seq = 2;; seq++) {
            while (!ping(seq, ticks + 200)) puts_polled("ping timeout\n");
            puts_polled("ping ");
            putc_polled('0' + seq / 10000 % 10); putc_polled('0' + seq / 1000 % 10); putc_polled('0' + seq / 100 % 10);
            putc_polled('0' + seq / 10 % 10); putc_polled('0' + seq % 10);
            puts_polled(" ok\n");
        }
    }
    debug_exit(0);
}
