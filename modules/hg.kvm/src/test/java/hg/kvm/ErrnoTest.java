package hg.kvm;

import hg.kvm.internal.Errno;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ErrnoTest {

    @Test
    void exceptionNamesTheCallAndTheErrno() {
        KvmException e = new KvmException("KVM_CREATE_VM", Errno.ENOMEM);
        assertEquals("KVM_CREATE_VM failed: ENOMEM (Cannot allocate memory)", e.getMessage());
        assertEquals("KVM_CREATE_VM", e.call());
        assertEquals(12, e.errno());
        assertEquals("ENOMEM", e.errnoName());
    }

    @Test
    void unknownNumbersStillGiveAMessage() {
        assertEquals("errno 999", Errno.name(999));
        assertEquals("Unknown error 999", Errno.description(999));
        assertEquals("errno -1", Errno.name(-1));
    }

    @Test
    void aRealFailedCallCarriesItsErrno() {
        // ioctl on an fd that is not open: the kernel answers EBADF, captured right after the call.
        KvmException e = org.junit.jupiter.api.Assertions.assertThrows(KvmException.class,
                () -> hg.kvm.internal.Libc.ioctl(1_000_000, 0xAE00L, 0L, "KVM_GET_API_VERSION"));
        assertEquals(Errno.EBADF, e.errno());
        assertTrue(e.getMessage().startsWith("KVM_GET_API_VERSION failed: EBADF"), e.getMessage());
    }

    @Test
    void openingAMissingDeviceSaysENOENT() {
        KvmException e = org.junit.jupiter.api.Assertions.assertThrows(KvmException.class,
                () -> hg.kvm.internal.Libc.open("/nonexistent/kvm", hg.kvm.internal.Libc.O_RDWR));
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().contains("/nonexistent/kvm"), e.getMessage());
    }

    @Property(tries = 200)
    void everyErrnoHasANameAndAMessage(@ForAll @IntRange(min = -5, max = 200) int errno) {
        assertFalse(Errno.name(errno).isBlank());
        assertFalse(Errno.description(errno).isBlank());
        assertFalse(new KvmException("x", errno).getMessage().isBlank());
    }
}
