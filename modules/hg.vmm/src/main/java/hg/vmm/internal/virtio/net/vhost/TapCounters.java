package hg.vmm.internal.virtio.net.vhost;

import hg.kvm.KvmException;
import hg.kvm.net.LinkStats;
import hg.vmm.internal.virtio.net.GuestTraffic;

/**
 * A vhost-net card's traffic, which passes this process by: the TAP's own counters, asked of the
 * kernel over rtnetlink. What the TAP gave out (its tx) the guest received, what it took in (its
 * rx) the guest sent; frames the Java path moved before vhost-net started, or after a fall-back,
 * passed the TAP too and are in the same counts. The netlink socket is opened with the TAP, in its
 * network namespace, and asks there from whichever thread reads.
 */
public final class TapCounters implements AutoCloseable {

    private final LinkStats stats;
    private final String tap;
    /** The last reading: what a read answers when the TAP is gone (the VM stopped) or the kernel did not answer. */
    private volatile GuestTraffic last = GuestTraffic.NONE;

    private TapCounters(LinkStats stats, String tap) {
        this.stats = stats;
        this.tap = tap;
    }

    /** Counters of TAP {@code tap}, in the calling thread's network namespace; throws when netlink is refused. */
    public static TapCounters open(String tap) {
        TapCounters c = new TapCounters(LinkStats.open(), tap);
        c.read();
        return c;
    }

    /** The guest's traffic so far; the last reading when the kernel cannot say. */
    public GuestTraffic read() {
        try {
            LinkStats.Totals t = stats.of(tap);
            last = new GuestTraffic(t.txBytes(), t.rxBytes());
        } catch (KvmException | IllegalStateException e) {
            // The TAP went with its VM, or the socket closed: the counts stay where they were.
        }
        return last;
    }

    /** Takes a last reading while the TAP still exists, then closes the socket. */
    @Override
    public void close() {
        read();
        stats.close();
    }
}
