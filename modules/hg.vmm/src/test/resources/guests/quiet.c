/* Says one line and halts for good with interrupts off: after its last byte there is no exit at all,
 * so a byte that waits in KVM's coalesced ring must still reach the console. */
#include "guest.h"

int main(void *zero_page) {
    (void)zero_page;
    (void)debug_exit;   /* guest.h's; this guest never ends itself */
    puts_polled("said before a halt for good\n");
    for (;;) __asm__ volatile("cli; hlt");
}
