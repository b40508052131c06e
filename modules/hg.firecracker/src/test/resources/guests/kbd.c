/* A keyboard test guest for the Firecracker front end: entered in long mode with interrupts off. Says it is
 * ready on COM1, then polls the i8042 until CTRL+ALT+DEL arrives (scan code set 1 or 2: an extended DEL after
 * CTRL and ALT) and pulses the controller's reset line, as Linux's reboot=k does: the VM ends as a reset. */
typedef unsigned short u16;
typedef unsigned char u8;

#define COM1 0x3f8

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

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

static void puts_polled(const char *s) {
    while (*s) {
        while (!(inb(COM1 + 5) & 0x20)) {}
        outb(COM1, *s++);
    }
}

int main(void) {
    int ctrl = 0, alt = 0, extended = 0;
    puts_polled("kbd guest ready\r\n");
    for (;;) {
        for (int i = 0; i < 20000; i++) __asm__ volatile("pause");
        if (!(inb(0x64) & 1)) continue;
        u8 c = inb(0x60);
        if (c == 0xe0) { extended = 1; continue; }
        if (c == 0x1d || c == 0x14) ctrl = 1;
        else if (c == 0x38 || c == 0x11) alt = 1;
        else if (extended && (c == 0x53 || c == 0x71) && ctrl && alt) {
            puts_polled("ctrl-alt-del\r\n");
            outb(0x64, 0xfe);
        }
        extended = 0;
    }
}
