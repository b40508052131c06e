package hg.boot;

import hg.kvm.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BzImageLoaderTest {
    static final long MiB = 1 << 20;
    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 32 * MiB)));

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void loadsTheProtectedModePartAt1MiBWithThe64BitEntry() throws Exception {
        Fixtures.BzImage bz = new Fixtures.BzImage();
        byte[] image = bz.build();
        LoadedKernel k = BzImageLoader.load(memory, image);
        assertEquals(KernelFormat.BZIMAGE, k.format());
        assertEquals(0x100200, k.entry());
        assertEquals(0x100000, k.start());
        assertEquals(0x1000000 + 0x400000, k.end(), "runs at pref_address, needs init_size from there");
        assertArrayEquals(bz.payload, memory.read(0x100000, bz.payload.length));
        assertArrayEquals(Arrays.copyOfRange(image, 0x1f1, 0x26c), k.setupHeader().bytes());
        assertEquals(0x020f, k.setupHeader().version());
        assertEquals(2047, k.setupHeader().cmdlineSize());
        assertTrue(k.pvhEntry().isEmpty());
    }

    @Test
    void nonRelocatableKernelRunsAtPrefAddressAndARelocatableOneAboveItsAlignedLoadAddress() throws Exception {
        Fixtures.BzImage fixed = new Fixtures.BzImage();
        fixed.relocatable = 0;
        fixed.prefAddress = 0x200000;
        assertEquals(0x200000 + 0x400000, BzImageLoader.load(memory, fixed.build()).end());
        Fixtures.BzImage low = new Fixtures.BzImage();
        low.prefAddress = 0x100000;
        low.kernelAlignment = 0x400000;
        assertEquals(0x400000 + 0x400000, BzImageLoader.load(memory, low.build()).end());
    }

    @Test
    void setupSectsZeroMeansFour() throws Exception {
        Fixtures.BzImage bz = new Fixtures.BzImage();
        bz.setupSects = 0;
        LoadedKernel k = BzImageLoader.load(memory, bz.build());
        assertArrayEquals(bz.payload, memory.read(k.start(), bz.payload.length));
    }

    @Test
    void refusesMalformedHeaders() {
        refuse(InvalidKernelException.class, "older than 2.06", b -> b.version = 0x0205);
        refuse(InvalidKernelException.class, "no 64-bit entry (xloadflags needs 2.12)", b -> b.version = 0x020a);
        refuse(InvalidKernelException.class, "XLF_KERNEL_64", b -> b.xloadflags = 2);
        refuse(InvalidKernelException.class, "LOADED_HIGH", b -> b.loadflags = 0);
        refuse(InvalidKernelException.class, "HdrS", b -> b.magic = 0x12345678);
        refuse(InvalidKernelException.class, "boot flag", b -> b.bootFlag = 0x1234);
        refuse(InvalidKernelException.class, "setup header ends at 0x2a0", b -> b.headerEnd = 0x2a0);
        refuse(InvalidKernelException.class, "power of two", b -> b.kernelAlignment = 0x300000);
        refuse(InvalidKernelException.class, "init_size is 0", b -> b.initSize = 0);
        refuse(InvalidKernelException.class, "pref_address", b -> b.prefAddress = 0x1000);
        refuse(InvalidKernelException.class, "no protected-mode code", b -> b.payload = new byte[0]);
    }

    @Test
    void refusesAKernelThatDoesNotFit() {
        refuse(KernelPlacementException.class, "outside guest RAM", b -> b.initSize = 0x2000000);
        refuse(KernelPlacementException.class, "outside guest RAM", b -> b.payload = new byte[(int) (32 * MiB)]);
    }

    @Test
    void refusesEveryTruncationByMoreThanTheSyssizeGranularity() {
        byte[] full = new Fixtures.BzImage().build();
        for (int n = 0; n <= full.length - 16; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            BootException e = assertThrows(BootException.class, () -> BzImageLoader.load(memory, cut), "length " + n);
            assertInstanceOf(InvalidKernelException.class, e);
        }
        assertUntouched();
    }

    void refuse(Class<? extends BootException> type, String words, java.util.function.Consumer<Fixtures.BzImage> change) {
        Fixtures.BzImage bz = new Fixtures.BzImage();
        change.accept(bz);
        byte[] image = bz.build();
        BootException e = assertThrows(BootException.class, () -> BzImageLoader.load(memory, image));
        assertInstanceOf(type, e, e.getMessage());
        assertTrue(e.getMessage().contains(words), e.getMessage());
        assertUntouched();
    }

    void assertUntouched() {
        assertEquals(-1, memory.slice(0, memory.size()).mismatch(MemorySegment.ofArray(new byte[(int) memory.size()])));
    }
}
