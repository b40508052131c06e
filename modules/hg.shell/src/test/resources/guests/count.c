/* Counts in a loop while the LAPIC timer ticks every millisecond; at every 16th tick prints
 * "tick <n> count <c>" (hex). A snapshot taken mid-count and restored must go on from there:
 * the count lives in a register or on the stack, the ticks in memory, the timer in the LAPIC. */
#include "guest.h"

static volatile u64 ticks;

__attribute__((interrupt)) static void timer_isr(struct interrupt_frame *f) {
    (void)f;
    ticks++;
    lapic_eoi();
}

static void put_hex(u64 v) {
    char digits[17];
    int n = 0;
    do {
        int d = v & 15;
        digits[n++] = d < 10 ? '0' + d : 'a' + d - 10;
        v >>= 4;
    } while (v);
    while (n) putc_polled(digits[--n]);
}

int main(void *zero_page) {
    (void)zero_page;
    interrupts_init();
    set_gate(0x30, timer_isr);
    w32(LAPIC + 0x3e0, 0xb);                  /* divide by 1 */
    w32(LAPIC + 0x320, 0x30 | (1 << 17));     /* periodic, vector 0x30 */
    w32(LAPIC + 0x380, 1000000);              /* KVM's APIC bus runs at 1 GHz: 1 ms */
    __asm__ volatile("sti");
    u64 count = 0, shown = 0;
    for (;;) {
        count++;
        if (count == 0) debug_exit(1);   /* never: 2^64 loops */
        u64 t = ticks / 16;
        if (t != shown) {
            shown = t;
            puts_polled("tick ");
            put_hex(t);
            puts_polled(" count ");
            put_hex(count);
            putc_polled('\n');
        }
    }
}
