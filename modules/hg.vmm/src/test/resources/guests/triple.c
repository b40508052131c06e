/* Says hello, then triple-faults: an invalid opcode with an empty IDT. */
#include "guest.h"

int main(void *zero_page) {
    (void)zero_page;
    puts_polled("about to triple fault\n");
    struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { 0, 0 };
    __asm__ volatile("lidt %0; ud2" : : "m"(idtr));
    debug_exit(99);
}
