package hg.kvm.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import java.util.function.Function;

/** The get/set ioctls that pass one fixed-size struct: allocate it, call, decode or encode it. */
public final class StructIoctl {
    private StructIoctl() {}

    /** Calls {@code request} on {@code fd} with a zeroed {@code layout} and decodes what the kernel wrote. */
    public static <T> T get(int fd, MemoryLayout layout, long request, String name, Function<MemorySegment, T> decode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(layout);
            Libc.ioctl(fd, request, s, name);
            return decode.apply(s);
        }
    }

    /** Encodes a {@code layout} and hands it to {@code request} on {@code fd}. */
    public static void set(int fd, MemoryLayout layout, long request, String name, Consumer<MemorySegment> encode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(layout);
            encode.accept(s);
            Libc.ioctl(fd, request, s, name);
        }
    }
}
