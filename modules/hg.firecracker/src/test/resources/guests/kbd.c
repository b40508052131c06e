/* A keyboard test guest for the Firecracker front end (interrupts stay off). Says it is ready on COM1, then
 * polls the i8042 until CTRL+ALT+DEL arrives (scan code set 1 or 2: an extended DEL after CTRL and ALT) and
 * pulses the controller's reset line, as Linux's reboot=k does: the VM ends as a reset. */
#include "guest.h"

int main(void) {
    int ctrl = 0, alt = 0, extended = 0;
    (void)debug_exit;   /* guest.h's, unused here */
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
