package hg.imagetools;

/** A problem with the input or the options, explained in one line. */
public class ImageToolsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ImageToolsException(String message) { super(message); }

    public ImageToolsException(String message, Throwable cause) { super(message, cause); }

    /** The source cannot be read or is not a tree/archive we understand. */
    public static final class BadSource extends ImageToolsException {
        private static final long serialVersionUID = 1L;

        public BadSource(String message) { super(message); }

        public BadSource(String message, Throwable cause) { super(message, cause); }
    }

    /** The tree needs more space (blocks or inodes) than the requested image size has. */
    public static final class DoesNotFit extends ImageToolsException {
        private static final long serialVersionUID = 1L;

        public DoesNotFit(String message) { super(message); }
    }

    /** A file name that ext4 or the archive format cannot hold. */
    public static final class BadName extends ImageToolsException {
        private static final long serialVersionUID = 1L;

        public BadName(String message) { super(message); }
    }

    /** The input would pass one of the {@link Limits}. */
    public static final class OverLimit extends ImageToolsException {
        private static final long serialVersionUID = 1L;

        public OverLimit(String message) { super(message); }
    }

    /** The output is held by someone else, e.g. a running VM's disk. */
    public static final class InUse extends ImageToolsException {
        private static final long serialVersionUID = 1L;

        public InUse(String message) { super(message); }
    }
}
