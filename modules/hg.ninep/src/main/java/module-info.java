/**
 * A 9P2000.L file server on a host directory, confined to it by the kernel (openat2): the
 * file-system half of virtio-9p, with nothing of KVM or virtio in it.
 */
module hg.ninep {
    exports hg.ninep;
}
