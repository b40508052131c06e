package hg.vmm.internal.virtio.vsock;

import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/** What the host side tells the device, taken on the device's next turn. */
sealed interface HostEvent {
    /**
     * A host program connected and asked for guest port {@code port}; its socket stays registered with
     * {@code key} (watching nothing) for the stream to use.
     */
    record Connect(SocketChannel channel, SelectionKey key, int port) implements HostEvent {
    }

    /** A stream's host socket is readable or writable ({@link java.nio.channels.SelectionKey} bits). */
    record Ready(VsockConnection connection, int ops) implements HostEvent {
    }
}
