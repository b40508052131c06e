/* A console test guest for the shell: entered in long mode by the 64-bit boot protocol (RSI = zero page).
 * Says it is ready on COM1, then echoes what it receives in upper case (so the test sees the guest, not a
 * local echo); 'q' makes it leave through the debug exit port with code 7. RX by interrupt, HLT between. */
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

__asm__(".section .text.start\n"
        ".globl _start\n"
        "_start:\n"
        "  lea stack_top(%rip), %rsp\n"
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

static volatile u8 ring[256];
static volatile u32 head, tail;

static void putc_polled(char c) {
    while (!(inb(COM1 + 5) & 0x20)) {}
    outb(COM1, c);
}

static void puts_polled(const char *s) { while (*s) putc_polled(*s++); }

__attribute__((interrupt)) static void uart_isr(struct interrupt_frame *f) {
    (void)f;
    while (inb(COM1 + 5) & 1) {
        u8 c = inb(COM1);
        if (head - tail < sizeof ring) ring[head++ % sizeof ring] = c;
    }
    w32(LAPIC + 0xb0, 0);
}

int main(void) {
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    u64 a = (u64)uart_isr;
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[0x24] = (struct idt_entry){ (u16)a, cs, 0, 0x8e, (u16)(a >> 16), (u32)(a >> 32), 0 };
    struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
    w32(LAPIC + 0xf0, 0x1ff);
    w32(IOAPIC, 0x10 + 2 * 4 + 1);
    w32(IOAPIC + 0x10, 0);
    w32(IOAPIC, 0x10 + 2 * 4);
    w32(IOAPIC + 0x10, 0x24);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 1);
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0xc7);
    outb(COM1 + 4, 0x0b);
    outb(COM1 + 1, 0x01);   /* received-data interrupt */
    puts_polled("echo guest ready\r\n");
    for (;;) {
        for (;;) {
            __asm__ volatile("cli");
            if (head != tail) break;
            __asm__ volatile("sti; hlt");
        }
        __asm__ volatile("sti");
        u8 c = ring[tail++ % sizeof ring];
        if (c == 'q') {
            puts_polled("\r\nbye\r\n");
            outl(DEBUG_EXIT, 7);
            for (;;) __asm__ volatile("cli; hlt");
        }
        if (c == '\r' || c == '\n') {
            puts_polled("\r\n");
        } else {
            putc_polled(c >= 'a' && c <= 'z' ? c - 32 : c);
        }
    }
}
