package hg.imagetools;

/** A problem with the input or the options, explained in one line. */
public class ImageToolsException extends RuntimeException {
    public ImageToolsException(String message) { super(message); }

    public ImageToolsException(String message, Throwable cause) { super(message, cause); }

    /** The source cannot be read or is not a tree/archive we understand. */
    public static final class BadSource extends ImageToolsException {
        public BadSource(String message) { super(message); }

        public BadSource(String message, Throwable cause) { super(message, cause); }
    }

    /** The tree needs more space (blocks or inodes) than the requested image size has. */
    public static final class DoesNotFit extends ImageToolsException {
        public DoesNotFit(String message) { super(message); }
    }

    /** A file name that ext4 or the archive format cannot hold. */
    public static final class BadName extends ImageToolsException {
        public BadName(String message) { super(message); }
    }
}
