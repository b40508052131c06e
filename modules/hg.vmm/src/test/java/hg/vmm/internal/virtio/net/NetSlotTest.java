package hg.vmm.internal.virtio.net;

import hg.kvm.testkit.LockProbe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NetSlotTest {

    @Test
    void aFreeNumberIsLeasedAsAsked(@TempDir Path dir) {
        try (NetSlot slot = NetSlot.lease(dir, 3, 10)) {
            assertEquals(3, slot.number());
            assertTrue(Files.exists(dir.resolve("3.lock")));
        }
    }

    @Test
    void aHeldNumberMovesTheNextLeaseUp(@TempDir Path dir) {
        try (NetSlot first = NetSlot.lease(dir, 1, 10); NetSlot second = NetSlot.lease(dir, 1, 10)) {
            assertEquals(1, first.number());
            assertEquals(2, second.number());
        }
    }

    @Test
    void aClosedLeaseCanBeTakenAgain(@TempDir Path dir) {
        NetSlot.lease(dir, 5, 10).close();
        try (NetSlot again = NetSlot.lease(dir, 5, 10)) {
            assertEquals(5, again.number());
        }
    }

    @Test
    void noFreeNumberIsOneClearError(@TempDir Path dir) {
        try (NetSlot a = NetSlot.lease(dir, 1, 2); NetSlot b = NetSlot.lease(dir, 1, 2)) {
            assertEquals(3, a.number() + b.number());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> NetSlot.lease(dir, 1, 2));
            assertEquals("every guest network address from 1 to 2 is leased by a running VM", e.getMessage());
        }
    }

    @Test
    void tryingAHeldNumberAgainKeepsItsLease(@TempDir Path dir) throws Exception {
        try (NetSlot first = NetSlot.lease(dir, 1, 10); NetSlot second = NetSlot.lease(dir, 1, 10)) {
            // The second lease opened 1.lock, found it held and closed it: the first lease must survive that.
            assertEquals(1, first.number());
            assertEquals(2, second.number());
            assertEquals("refused", LockProbe.tryLockFromAnotherProcess(dir, dir.resolve("1.lock"), false));
            assertEquals("refused", LockProbe.tryLockFromAnotherProcess(dir, dir.resolve("2.lock"), false));
        }
        assertEquals("locked", LockProbe.tryLockFromAnotherProcess(dir, dir.resolve("1.lock"), false));
    }

    @Test
    void anUnusableDirectoryIsOneClearError(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> NetSlot.lease(file.resolve("net"), 1, 2));
        assertTrue(e.getMessage().startsWith("cannot make the network lease directory "), e.getMessage());
    }
}
