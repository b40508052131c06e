/* A freestanding x86-64 test guest: entered in long mode with paging on (the 64-bit Linux
 * boot protocol as hg.boot sets it up), RSI pointing at the zero page. */
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define COM1 0x3f8
#define DEBUG_EXIT 0x501
#define IOAPIC 0xfec00000UL
#define LAPIC 0xfee00000UL

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void w32(u64 a, u32 v) { *(volatile u32 *)a = v; }
static inline u32 r32(u64 a) { return *(volatile u32 *)a; }
static inline void barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

/* Lower-case hex digits at *p, which is left at the first other character. */
static inline u64 parse_hex(const char **p) {
    u64 v = 0;
    for (;;) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return v;
        v = v * 16 + d;
        (*p)++;
    }
}

static void __attribute__((noreturn)) debug_exit(u32 code) {
    outl(DEBUG_EXIT, code);
    for (;;) __asm__ volatile("cli; hlt");
}

/* Polled output, for messages before interrupts work. */
static inline void putc_polled(char c) {
    while (!(inb(COM1 + 5) & 0x20)) {}
    outb(COM1, c);
}

static inline void puts_polled(const char *s) { while (*s) putc_polled(*s++); }

__asm__(".section .text.start\n"
        ".globl _start\n"
        "_start:\n"
        "  lea stack_top(%rip), %rsp\n"
        "  mov %rsi, %rdi\n"
        "  call main\n"
        "1: cli\n  hlt\n  jmp 1b\n"
        ".section .bss\n"
        ".align 16\n"
        "  .skip 16384\n"
        "stack_top:\n"
        ".text\n");

struct idt_entry { u16 off0, sel; u8 ist, type; u16 off1; u32 off2, zero; } __attribute__((packed));
static struct idt_entry idt[256] __attribute__((aligned(16)));
struct interrupt_frame;

static inline void set_gate(int vector, void (*handler)(struct interrupt_frame *)) {
    u64 a = (u64)handler;
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[vector] = (struct idt_entry){ (u16)a, cs, 0, 0x8e, (u16)(a >> 16), (u32)(a >> 32), 0 };
}

static inline void load_idt(void) {
    struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Interrupts through the local APIC and the IOAPIC; the 8259s stay masked. */
static inline void interrupts_init(void) {
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    load_idt();
    w32(LAPIC + 0xf0, 0x1ff);   /* software enable, spurious vector 0xff */
}

static inline void ioapic_route(int pin, int vector) {
    w32(IOAPIC, 0x10 + 2 * pin + 1);
    w32(IOAPIC + 0x10, 0);           /* destination: APIC id 0 */
    w32(IOAPIC, 0x10 + 2 * pin);
    w32(IOAPIC + 0x10, vector);      /* fixed, physical, edge, active high, unmasked */
}

static inline void lapic_eoi(void) { w32(LAPIC + 0xb0, 0); }

/* Waits for an interrupt with none lost between the check and the HLT. */
#define WAIT_UNTIL(cond) do { for (;;) { __asm__ volatile("cli"); if (cond) break; __asm__ volatile("sti; hlt"); } __asm__ volatile("sti"); } while (0)
