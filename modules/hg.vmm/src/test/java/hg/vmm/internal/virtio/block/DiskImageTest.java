package hg.vmm.internal.virtio.block;

import hg.kvm.testkit.LockProbe;
import hg.vmm.ImageBusyException;
import hg.vmm.VmException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiskImageTest {

    @TempDir
    Path dir;

    Path image() throws IOException {
        Path p = dir.resolve("root.img");
        Files.write(p, new byte[4096]);
        return p;
    }

    @Test
    void aSecondReadWriteAttachFailsUntilTheFirstIsClosed() throws IOException {
        Path p = image();
        DiskImage first = DiskImage.open(p, false);
        ImageBusyException e = assertThrows(ImageBusyException.class, () -> DiskImage.open(p, false));
        assertTrue(e.getMessage().contains("root.img"), e.getMessage());
        first.close();
        first.close();
        DiskImage.open(p, false).close();
    }

    @Test
    void aReaderMayJoinAWriterButNoWriterJoinsAReader() throws IOException {
        Path p = image();
        DiskImage writer = DiskImage.open(p, false);
        DiskImage reader = DiskImage.open(p, true);
        writer.close();
        // The reader keeps the file (and the writer's lock) until it lets go; nobody writes meanwhile.
        assertEquals(4096, reader.size());
        assertThrows(ImageBusyException.class, () -> DiskImage.open(p, false));
        reader.close();
        DiskImage.open(p, false).close();
    }

    @Test
    void readOnlyAttachesShareTheImage() throws IOException {
        Path p = image();
        DiskImage a = DiskImage.open(p, true);
        DiskImage b = DiskImage.open(p, true);
        assertThrows(ImageBusyException.class, () -> DiskImage.open(p, false));
        a.close();
        // The lock stays while one reader is left, and its channel still works.
        assertThrows(ImageBusyException.class, () -> DiskImage.open(p, false));
        assertEquals(4096, b.size());
        b.close();
        DiskImage.open(p, false).close();
    }

    @Test
    void anotherOpenAndCloseOfTheFileInThisProcessKeepsTheLock() throws Exception {
        Path p = image();
        try (DiskImage attached = DiskImage.open(p, false)) {
            assertFalse(attached.readOnly());
            // What image_list does to read a superblock, and completion to check a name: with
            // per-process POSIX locks this close dropped the VM's lock.
            try (FileChannel elsewhere = FileChannel.open(p, StandardOpenOption.READ)) {
                elsewhere.read(ByteBuffer.allocate(1024), 1024);
            }
            assertEquals("refused", LockProbe.tryLockFromAnotherProcess(dir, p, true));
            assertEquals("refused", LockProbe.tryLockFromAnotherProcess(dir, p, false));
        }
        assertEquals("locked", LockProbe.tryLockFromAnotherProcess(dir, p, false));
    }

    @Test
    void aReadOnlyAttachKeepsOutWritersOfOtherProcessesOnly() throws Exception {
        Path p = image();
        try (DiskImage reader = DiskImage.open(p, true)) {
            assertTrue(reader.readOnly());
            Files.readAllBytes(p);
            assertEquals("locked", LockProbe.tryLockFromAnotherProcess(dir, p, true));
            assertEquals("refused", LockProbe.tryLockFromAnotherProcess(dir, p, false));
        }
    }

    @Test
    void missingOrUnwritableImagesFailClearly() throws IOException {
        VmException e = assertThrows(VmException.class, () -> DiskImage.open(dir.resolve("nope.img"), false));
        assertTrue(e.getMessage().contains("nope.img"));
        Path p = image();
        p.toFile().setWritable(false);
        if (!Files.isWritable(p)) {   // root may write anyway
            assertThrows(VmException.class, () -> DiskImage.open(p, false));
        }
        DiskImage.open(p, true).close();
    }

    @Test
    void anotherProcessHoldingTheLockMakesTheImageBusy() throws Exception {
        Path p = image();
        Path holder = dir.resolve("Hold.java");
        Files.writeString(holder, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                public class Hold {
                    public static void main(String[] a) throws Exception {
                        try (FileChannel c = FileChannel.open(Path.of(a[0]), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                            c.lock();
                            System.out.println("locked");
                            System.out.flush();
                            System.in.read();
                        }
                    }
                }
                """);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process proc = new ProcessBuilder(java, holder.toString(), p.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream()));
            assertEquals("locked", r.readLine());
            ImageBusyException e = assertThrows(ImageBusyException.class, () -> DiskImage.open(p, true));
            assertTrue(e.getMessage().contains("another process"), e.getMessage());
            proc.getOutputStream().close();
            assertTrue(proc.waitFor(30, TimeUnit.SECONDS));
            DiskImage.open(p, false).close();
        } finally {
            proc.destroyForcibly();
        }
    }
}
