/**
 * A 9P2000.L file server for a virtio-9p device: {@link hg.ninep.Share} says what is shared,
 * {@link hg.ninep.NinepServer} answers one session's requests. Nothing of KVM or virtio here:
 * the server takes a request's bytes and writes a reply's.
 */
package hg.ninep;
