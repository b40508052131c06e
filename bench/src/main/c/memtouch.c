/*
 * Guest side of guest_memtouch_hugepages: touches a region of the guest's memory, first every
 * 4 KiB page once in order (each first touch a fault in the guest and, for its host page, in the
 * VMM's memory), then at random 8-byte words; the random phase's reach over the whole region is
 * what large pages shorten (fewer TLB entries and page-walk levels, in the guest's own tables
 * and in the host's).
 * Built static on the host and put into the guest's rootfs; the same binary runs on either VM.
 *
 * usage: hg-memtouch SIZE_MIB RANDOM_TOUCHES
 * prints: "hg-huge first_ms X", "hg-huge random_ms Y", "hg-huge touch_ms X+Y", then "hg-huge done";
 *         "hg-huge error ..." on failure.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        printf("hg-huge error usage: hg-memtouch SIZE_MIB RANDOM_TOUCHES\n");
        return 2;
    }
    size_t size = (size_t) atol(argv[1]) << 20;
    long touches = atol(argv[2]);
    uint64_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || size == 0 || touches <= 0) {
        printf("hg-huge error cannot map %s MiB\n", argv[1]);
        return 1;
    }
    size_t words = size / sizeof(uint64_t);
    double t0 = now_ms();
    for (size_t i = 0; i < words; i += 4096 / sizeof(uint64_t)) {
        mem[i] = i;
    }
    double t1 = now_ms();
    /* xorshift: the same sequence on every run and VM */
    uint64_t x = 88172645463325252ULL, sum = 0;
    for (long n = 0; n < touches; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t at = x % words;
        sum += mem[at];
        mem[at] = sum;
    }
    double t2 = now_ms();
    printf("hg-huge first_ms %.1f\nhg-huge random_ms %.1f\nhg-huge touch_ms %.1f\n", t1 - t0, t2 - t1, t2 - t0);
    printf("hg-huge done\n");
    return sum == 42;   /* the sum is used: no compiler may drop the loop */
}
