package hg.ninep;

/**
 * What {@link NinepServer#serve(java.nio.ByteBuffer, java.util.List, java.nio.ByteBuffer, java.util.List)}
 * answered: the reply's {@code size} and how many of its first bytes are in the response buffer (the rest,
 * an Rread's data, went straight to the response's tail).
 */
public record Reply(int size, int inResponse) {
    public Reply {
        if (inResponse < 0 || inResponse > size) {
            throw new IllegalArgumentException("a reply of " + size + " bytes with " + inResponse + " in the buffer");
        }
    }
}
