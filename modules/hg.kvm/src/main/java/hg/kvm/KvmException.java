package hg.kvm;

import hg.kvm.internal.Errno;

/**
 * A libc or KVM call failed. Names the call (e.g. the ioctl) and the errno, so the message alone
 * says what went wrong: {@code KVM_CREATE_VM failed: ENOMEM (Cannot allocate memory)}.
 */
public class KvmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public KvmException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno) + " (" + Errno.description(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** A failure that is not an errno (bad answer from the kernel, unsupported feature). */
    public KvmException(String call, String problem) {
        super(call + ": " + problem);
        this.call = call;
        this.errno = 0;
    }

    /** The call that failed, e.g. "KVM_SET_USER_MEMORY_REGION". */
    public String call() {
        return call;
    }

    /** The errno the call failed with, or 0 when the failure was not an errno. */
    public int errno() {
        return errno;
    }

    /** The errno's symbolic name, e.g. "EINVAL". */
    public String errnoName() {
        return errno == 0 ? "" : Errno.name(errno);
    }
}
