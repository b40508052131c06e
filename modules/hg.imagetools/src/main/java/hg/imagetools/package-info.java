/**
 * Root filesystem images and initramfs archives, made without root, mounts or mke2fs.
 *
 * <ul>
 *   <li>{@link hg.imagetools.Sources} reads a directory, tar, cpio, .deb or container image into
 *       an {@link hg.imagetools.FsTree} (nodes: {@link hg.imagetools.Node}).</li>
 *   <li>{@link hg.imagetools.Ext4ImageWriter} writes a tree as a raw ext4 image;
 *       {@link hg.imagetools.Initramfs} as a cpio newc (gzip) archive.</li>
 *   <li>{@link hg.imagetools.Rootfs} builds the default busybox guest tree.</li>
 *   <li>{@link hg.imagetools.Main} is the {@code hg-imagetools} command.</li>
 * </ul>
 * Errors in the input or options are {@link hg.imagetools.ImageToolsException}s with a one-line message.
 */
package hg.imagetools;
