/*
 * Guest side of the blk_* figures: direct I/O on the guest's virtio-blk disk, in a region past
 * the root file system (the bench makes the image file longer than the file system in it).
 * Built static on the host and put into the guest's rootfs; the same binary runs under both VMMs.
 *
 * usage: hg-blkbench DEV OFFSET_MIB SIZE_MIB RANDOM_OPS
 * prints: "hg-blk seq_write MB/s", "hg-blk seq_read MB/s" (1 MiB requests),
 *         "hg-blk rand_write IOPS", "hg-blk rand_read IOPS" (4 KiB requests at random 4 KiB
 *         offsets of the region), "hg-blk rand_read_4jobs IOPS" (the same reads from four processes at
 *         once, so up to four requests are in flight), then "hg-blk done"; "hg-blk error ..." on failure.
 * Writes end with fdatasync, inside the timed span.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024L * 1024L)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(const char *what) {
    printf("hg-blk error %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: hg-blkbench DEV OFFSET_MIB SIZE_MIB RANDOM_OPS\n");
        return 2;
    }
    off_t base = atol(argv[2]) * MIB;
    long size = atol(argv[3]) * MIB;
    long ops = atol(argv[4]);
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0) fail("open");
    char *buf;
    if (posix_memalign((void **)&buf, 4096, MIB) != 0) fail("posix_memalign");
    for (long i = 0; i < MIB; i++) buf[i] = (char)(i * 7 + 3);
    long pages = size / 4096;

    double t0 = now();
    for (long o = 0; o < size; o += MIB)
        if (pwrite(fd, buf, MIB, base + o) != MIB) fail("seq write");
    if (fdatasync(fd) != 0) fail("fdatasync");
    double t1 = now();
    printf("hg-blk seq_write %.1f\n", size / MIB / (t1 - t0) * 1.048576);

    t0 = now();
    for (long o = 0; o < size; o += MIB)
        if (pread(fd, buf, MIB, base + o) != MIB) fail("seq read");
    t1 = now();
    printf("hg-blk seq_read %.1f\n", size / MIB / (t1 - t0) * 1.048576);

    t0 = now();
    for (long i = 0; i < ops; i++)
        if (pwrite(fd, buf, 4096, base + (off_t)(next() % pages) * 4096) != 4096) fail("random write");
    if (fdatasync(fd) != 0) fail("fdatasync");
    t1 = now();
    printf("hg-blk rand_write %.0f\n", ops / (t1 - t0));

    t0 = now();
    for (long i = 0; i < ops; i++)
        if (pread(fd, buf, 4096, base + (off_t)(next() % pages) * 4096) != 4096) fail("random read");
    t1 = now();
    printf("hg-blk rand_read %.0f\n", ops / (t1 - t0));

    fflush(stdout);
    t0 = now();
    for (int job = 0; job < 4; job++) {
        pid_t pid = fork();
        if (pid < 0) fail("fork");
        if (pid == 0) {
            rng ^= (uint64_t)(job + 1) * 0x2545f4914f6cdd1dULL;   /* each job its own offsets */
            for (long i = 0; i < ops / 4; i++)
                if (pread(fd, buf, 4096, base + (off_t)(next() % pages) * 4096) != 4096) _exit(1);
            _exit(0);
        }
    }
    int failed = 0;
    for (int job = 0; job < 4; job++) {
        int status;
        if (wait(&status) < 0) fail("wait");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    }
    t1 = now();
    if (failed) {
        errno = EIO;
        fail("random read, 4 jobs");
    }
    printf("hg-blk rand_read_4jobs %.0f\n", ops / 4 * 4 / (t1 - t0));
    printf("hg-blk done\n");
    return 0;
}
