/* Prints through the UART from its THRE interrupt handler, then reads a line from its
 * received-data interrupt, echoes it, and exits with (THRE interrupts << 8 | RX interrupts). */
#include "guest.h"

static const char *volatile tx;
static volatile int tx_irqs, rx_irqs, line_done, line_len;
static volatile u8 ier;
static char line[64];

__attribute__((interrupt)) static void uart_isr(struct interrupt_frame *f) {
    (void)f;
    for (;;) {
        u8 iir = inb(COM1 + 2);
        if (iir & 1) break;
        switch (iir & 0x0e) {
        case 0x02: {
            tx_irqs++;
            int n = 0;
            while (n < 16 && *tx) { outb(COM1, *tx); tx++; n++; }
            if (!*tx) { ier &= ~0x02; outb(COM1 + 1, ier); }
            break;
        }
        case 0x04: case 0x0c:
            rx_irqs++;
            while (inb(COM1 + 5) & 1) {
                char c = inb(COM1);
                if (line_len < 63) line[line_len++] = c;
                if (c == '\n') line_done = 1;
            }
            break;
        case 0x06: inb(COM1 + 5); break;
        default: inb(COM1 + 6); break;
        }
    }
    lapic_eoi();
}

static void send(const char *s) {
    tx = s;
    ier |= 0x02;
    outb(COM1 + 1, ier);   /* an empty holding register raises THRE at once */
    WAIT_UNTIL(!*tx && !(ier & 0x02));
}

int main(void *zero_page) {
    (void)zero_page;
    w32(0xd0f00000UL, 1);   /* boot timer: reached main */
    interrupts_init();
    set_gate(0x24, uart_isr);
    ioapic_route(4, 0x24);
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 1);
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0xc7);
    outb(COM1 + 4, 0x0b);
    send("hello from the guest: every byte of this line left through the THRE interrupt\n");
    send("ready\n");
    ier |= 0x01;
    outb(COM1 + 1, ier);
    WAIT_UNTIL(line_done);
    line[line_len] = 0;
    send("got: ");
    send(line);
    debug_exit((u32)(tx_irqs << 8 | rx_irqs));
}
