/** Raw ext4 rootfs images and initramfs archives, written without root and without mounting. */
module hg.imagetools {
    requires org.apache.commons.compress;
    requires org.tukaani.xz;

    exports hg.imagetools;
}
