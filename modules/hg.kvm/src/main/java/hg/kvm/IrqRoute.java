package hg.kvm;

/** One entry of the VM's GSI routing table (struct kvm_irq_routing_entry). */
public sealed interface IrqRoute {
    int TYPE_IRQCHIP = 1;
    int TYPE_MSI = 2;

    /** The global system interrupt number this entry routes. */
    int gsi();

    /** The in-kernel interrupt controllers a GSI can drive. */
    enum Chip {
        PIC_MASTER(0), PIC_SLAVE(1), IOAPIC(2);

        private final int id;

        Chip(int id) {
            this.id = id;
        }

        /** KVM_IRQCHIP_* number. */
        public int id() {
            return id;
        }
    }

    /** GSI drives input {@code pin} of {@code chip}. */
    record Irqchip(int gsi, Chip chip, int pin) implements IrqRoute {
        public Irqchip {
            int pins = chip == Chip.IOAPIC ? 24 : 8;
            if (pin < 0 || pin >= pins) {
                throw new IllegalArgumentException(chip + " has no pin " + pin);
            }
        }
    }

    /** GSI sends the MSI message {@code data} to {@code address}. */
    record Msi(int gsi, long address, int data) implements IrqRoute {}
}
