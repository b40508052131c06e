package hg.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.host.testkit.KernelFixtures;
import hg.host.testkit.Mke2fs;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryCatalogTest {
    @TempDir
    Path tmp;

    private DirectoryCatalog catalog(Path kernels, Path images) {
        return new DirectoryCatalog(kernels, "no kernel dir given", images, "no image dir given", new BootKernelProbe());
    }

    private Path dir(String name) throws IOException {
        return Files.createDirectories(tmp.resolve(name));
    }

    @Test
    void realExtImagesGetIdsInNameOrderWithTheirLabels() throws Exception {
        Path images = dir("images");
        Mke2fs.make(images.resolve("b-root.ext4"), "ext4", "BROOT", "8M");
        Mke2fs.make(images.resolve("a-alpine.img"), "ext4", "alpine", "8M");
        Mke2fs.make(images.resolve("c-old.ext2"), "ext2", null, "4M");
        Mke2fs.make(images.resolve("d-j.ext3"), "ext3", "j", "8M");
        Files.writeString(images.resolve("aa-notes.txt"), "not an image, and longer than nothing\n".repeat(40));
        Files.createDirectory(images.resolve("subdir"));
        List<CatalogEntry> all = catalog(null, images).images();
        assertEquals(List.of("a-alpine.img", "aa-notes.txt", "b-root.ext4", "c-old.ext2", "d-j.ext3"),
                all.stream().map(CatalogEntry::fileName).toList());
        assertEquals(new CatalogEntry.Image(0, images.resolve("a-alpine.img"), 8L << 20, "ext4", "alpine"), all.get(0));
        var notes = assertInstanceOf(CatalogEntry.Rejected.class, all.get(1));
        assertTrue(notes.reason().startsWith("not an ext4 image (no superblock magic 0xEF53 at byte 1080"), notes.reason());
        assertEquals(new CatalogEntry.Image(1, images.resolve("b-root.ext4"), 8L << 20, "ext4", "BROOT"), all.get(2));
        assertEquals(new CatalogEntry.Image(2, images.resolve("c-old.ext2"), 4L << 20, "ext2", ""), all.get(3));
        assertEquals(new CatalogEntry.Image(3, images.resolve("d-j.ext3"), 8L << 20, "ext3", "j"), all.get(4));
        assertEquals(all, catalog(null, images).images(), "ids stay while the directory does not change");
        assertEquals("b-root.ext4", catalog(null, images).image(1).fileName());
    }

    @Test
    void aTruncatedImageIsListedWithTheReason() throws Exception {
        Path images = dir("images");
        Path img = Mke2fs.make(images.resolve("cut.ext4"), "ext4", "cut", "8M");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(4L << 20);
        }
        var r = assertInstanceOf(CatalogEntry.Rejected.class, catalog(null, images).images().getFirst());
        assertEquals("truncated ext4 image (the filesystem needs 8 MiB, the file has 4 MiB)", r.reason());
        HostException e = assertThrows(HostException.class, () -> catalog(null, images).image(0));
        assertEquals("no image with id 0: there are no images (image_list shows why)", e.getMessage());
    }

    @Test
    void kernelsByTheirHeaders() throws Exception {
        Path kernels = dir("kernels");
        Files.write(kernels.resolve("vmlinux-6.1"), KernelFixtures.vmlinux());
        Files.write(kernels.resolve("bzImage"), KernelFixtures.bzImage());
        Files.write(kernels.resolve("arm64-Image"), KernelFixtures.arm64Elf());
        Files.writeString(kernels.resolve("config-6.1"), "CONFIG_KVM=y\n".repeat(100));
        Files.write(kernels.resolve("empty"), new byte[0]);
        List<CatalogEntry> all = catalog(kernels, null).kernels();
        assertEquals(List.of("arm64-Image", "bzImage", "config-6.1", "empty", "vmlinux-6.1"),
                all.stream().map(CatalogEntry::fileName).toList());
        assertInstanceOf(CatalogEntry.Rejected.class, all.get(0));
        assertEquals(new CatalogEntry.Kernel(0, kernels.resolve("bzImage"), 0x600, "bzImage"), all.get(1));
        assertInstanceOf(CatalogEntry.Rejected.class, all.get(2));
        assertTrue(((CatalogEntry.Rejected) all.get(3)).reason().equals("not a kernel: empty file"));
        assertEquals(new CatalogEntry.Kernel(1, kernels.resolve("vmlinux-6.1"), 0x1010, "vmlinux"), all.get(4));
        assertEquals(kernels.resolve("vmlinux-6.1"), catalog(kernels, null).kernel(1).path());
        HostException e = assertThrows(HostException.class, () -> catalog(kernels, null).kernel(2));
        assertEquals("no kernel with id 2: kernel_list shows ids 0-1", e.getMessage());
    }

    @Test
    void addingAFileAfterTheLastKeepsTheEarlierIds() throws Exception {
        Path kernels = dir("kernels");
        Files.write(kernels.resolve("a"), KernelFixtures.vmlinux());
        Files.write(kernels.resolve("b"), KernelFixtures.vmlinux());
        DirectoryCatalog c = catalog(kernels, null);
        assertEquals(kernels.resolve("b"), c.kernel(1).path());
        Files.write(kernels.resolve("c"), KernelFixtures.bzImage());
        assertEquals(kernels.resolve("b"), c.kernel(1).path());
        assertEquals(kernels.resolve("c"), c.kernel(2).path());
    }

    private static List<String> ids(List<CatalogEntry> entries) {
        return entries.stream().map(e -> switch (e) {
            case CatalogEntry.Kernel k -> k.id() + " " + k.fileName();
            case CatalogEntry.Image i -> i.id() + " " + i.fileName();
            case CatalogEntry.Rejected r -> "- " + r.fileName();
        }).toList();
    }

    @Test
    void anIdStaysWithItsFileNameWhenFilesComeAndGo() throws Exception {
        Path kernels = dir("kernels");
        Files.write(kernels.resolve("vmlinux-6.1"), KernelFixtures.vmlinux());
        Files.write(kernels.resolve("vmlinux-6.6"), KernelFixtures.vmlinux());
        DirectoryCatalog c = catalog(kernels, null);
        assertEquals(List.of("0 vmlinux-6.1", "1 vmlinux-6.6"), ids(c.kernels()));
        Files.write(kernels.resolve("bzImage-5.15"), KernelFixtures.bzImage()); // sorts first
        assertEquals(List.of("2 bzImage-5.15", "0 vmlinux-6.1", "1 vmlinux-6.6"), ids(c.kernels()));
        assertEquals(kernels.resolve("vmlinux-6.1"), c.kernel(0).path());
        Files.delete(kernels.resolve("vmlinux-6.1"));
        Files.write(kernels.resolve("vmlinux-6.12"), KernelFixtures.vmlinux());
        assertEquals(List.of("2 bzImage-5.15", "3 vmlinux-6.12", "1 vmlinux-6.6"), ids(c.kernels()),
                "a removed file's id is not given to a new one");
        HostException e = assertThrows(HostException.class, () -> c.kernel(0));
        assertEquals("no kernel with id 0: kernel_list shows ids 1-3", e.getMessage());
        Files.write(kernels.resolve("vmlinux-6.1"), KernelFixtures.vmlinux());
        assertEquals(kernels.resolve("vmlinux-6.1"), c.kernel(0).path(), "a file name that comes back has its id back");
    }

    @Test
    void anImageAddedBeforeTheOthersDoesNotTakeTheirIds() throws Exception {
        Path images = dir("images");
        Mke2fs.make(images.resolve("debian.ext4"), "ext4", "debian", "8M");
        DirectoryCatalog c = catalog(null, images);
        assertEquals(List.of("0 debian.ext4"), ids(c.images()));
        Mke2fs.make(images.resolve("busybox.ext4"), "ext4", "bb", "8M");
        assertEquals(images.resolve("debian.ext4"), c.image(0).path(), "vm_create 0 0 still means what image_list showed");
        assertEquals(List.of("1 busybox.ext4", "0 debian.ext4"), ids(c.images()));
    }

    @Test
    void kernelsAndImagesByFileName() throws Exception {
        Path kernels = dir("kernels");
        Path images = dir("images");
        Files.write(kernels.resolve("vmlinux-6.1"), KernelFixtures.vmlinux());
        Files.writeString(kernels.resolve("config-6.1"), "CONFIG_KVM=y\n".repeat(100));
        Mke2fs.make(images.resolve("busybox.ext4"), "ext4", "bb", "8M");
        Files.writeString(images.resolve("0"), "a file named like an id\n".repeat(100));
        DirectoryCatalog c = catalog(kernels, images);
        assertEquals(kernels.resolve("vmlinux-6.1"), c.kernel("vmlinux-6.1").path());
        assertEquals(kernels.resolve("vmlinux-6.1"), c.kernel("0").path());
        assertEquals(images.resolve("busybox.ext4"), c.image("busybox.ext4").path());
        assertEquals(images.resolve("busybox.ext4"), c.image("0").path(), "digits are an id first");
        assertTrue(message(() -> c.kernel("config-6.1")).startsWith("config-6.1: not a kernel: "),
                message(() -> c.kernel("config-6.1")));
        assertEquals("no kernel named 'vmlinux-9' in " + kernels + ": kernel_list shows the kernels",
                message(() -> c.kernel("vmlinux-9")));
        for (String bad : List.of("../kernels/vmlinux-6.1", "/etc/passwd", "..", ".", "a/b", "")) {
            assertEquals("'" + bad + "' is not a kernel id or file name: give an id or a file name from kernel_list "
                    + "(a file of " + kernels + ", without '/')", message(() -> c.kernel(bad)));
        }
    }

    private interface Lookup {
        CatalogEntry run() throws HostException;
    }

    private static String message(Lookup lookup) {
        return assertThrows(HostException.class, lookup::run).getMessage();
    }

    @Test
    void directoryProblemsAreNamed() throws Exception {
        Path file = Files.writeString(tmp.resolve("plain"), "x");
        assertEquals("no kernel dir given", catalog(null, null).kernelDirProblem());
        assertEquals("no image dir given", catalog(null, null).imageDirProblem());
        assertEquals("the guest kernel directory " + tmp.resolve("gone") + " does not exist",
                catalog(tmp.resolve("gone"), null).kernelDirProblem());
        assertEquals("the guest image directory " + file + " is not a directory", catalog(null, file).imageDirProblem());
        assertNull(catalog(tmp, tmp).kernelDirProblem());
        assertEquals(List.of(), catalog(tmp.resolve("gone"), file).kernels());
        assertEquals(List.of(), catalog(tmp.resolve("gone"), file).images());
        HostException e = assertThrows(HostException.class, () -> catalog(tmp.resolve("gone"), null).kernel(0));
        assertEquals("no kernel with id 0: the guest kernel directory " + tmp.resolve("gone") + " does not exist",
                e.getMessage());
    }

    @Test
    void symbolicLinksToFilesAreFollowed() throws Exception {
        Path images = dir("images");
        Path real = Mke2fs.make(tmp.resolve("real.ext4"), "ext4", "linked", "8M");
        Files.createSymbolicLink(images.resolve("link.ext4"), real);
        Files.createSymbolicLink(images.resolve("dangling.ext4"), tmp.resolve("nothing"));
        List<CatalogEntry> all = catalog(null, images).images();
        assertEquals(1, all.size());
        assertEquals("linked", ((CatalogEntry.Image) all.getFirst()).label());
    }
}
