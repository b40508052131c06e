package hg.kvm.internal;

/**
 * One ioctl type letter (KVMIO, VHOST_VIRTIO, ...) and the kernel's _IO/_IOR/_IOW/_IOWR macros
 * for it: request numbers computed the way linux/ioctl.h encodes them.
 */
record IoctlType(int type) {
    private static final int NONE = 0, WRITE = 1, READ = 2;

    long io(int nr) {
        return encode(NONE, nr, 0);
    }

    long ior(int nr, long size) {
        return encode(READ, nr, size);
    }

    long iow(int nr, long size) {
        return encode(WRITE, nr, size);
    }

    long iowr(int nr, long size) {
        return encode(READ | WRITE, nr, size);
    }

    private long encode(int dir, int nr, long size) {
        return ((long) dir << 30) | (size << 16) | ((long) type << 8) | nr;
    }
}
