/*
 * The receiving end of the stream figures, the same program for every transport so that each is
 * timed the same way: accepts one connection, reads it to its end and prints
 *   hg-vsink bytes=N ms=T
 * with T from the accept to the end of the stream.
 *   vsink unix PATH        (hyper-gen's hybrid vsock: the VMM connects to PATH for the guest)
 *   vsink vsock PORT       (the kernel's vsock, e.g. QEMU's vhost-vsock: any CID)
 *   vsink tcp ADDR PORT    (the guest's virtio-net)
 * "hg-vsink listening" goes out once it listens. In the guest, the sending end, the same for both:
 *   vsink send vsock CID PORT BYTES
 *   vsink send tcp ADDR PORT BYTES
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int fail(const char *what) {
    printf("hg-vsink failed: %s: %s\n", what, strerror(errno));
    return 1;
}

/* Writes BYTES zeros to the connected socket in 256 KiB writes, then closes it. */
static int send_all(int s, long long bytes) {
    static char buf[1 << 18];
    while (bytes > 0) {
        ssize_t w = write(s, buf, bytes < (long long)sizeof buf ? (size_t)bytes : sizeof buf);
        if (w < 0) {
            if (errno == EINTR) continue;
            return fail("write");
        }
        bytes -= w;
    }
    return close(s) < 0 ? fail("close") : 0;
}

static int sender(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: vsink send vsock CID PORT BYTES | vsink send tcp ADDR PORT BYTES\n");
        return 2;
    }
    long long bytes = atoll(argv[5]);
    int s;
    if (strcmp(argv[2], "vsock") == 0) {
        struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = (unsigned)atoi(argv[3]), .svm_port = (unsigned)atoi(argv[4])};
        s = socket(AF_VSOCK, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) return fail("connect vsock");
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[4]))};
        s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || inet_pton(AF_INET, argv[3], &a.sin_addr) != 1 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
            return fail("connect tcp");
        }
    }
    return send_all(s, bytes);
}

int main(int argc, char **argv) {
    int s;
    if (argc >= 2 && strcmp(argv[1], "send") == 0) return sender(argc, argv);
    if (argc == 3 && strcmp(argv[1], "unix") == 0) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(argv[2]) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return fail("path"); }
        strcpy(a.sun_path, argv[2]);
        unlink(argv[2]);
        s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) return fail("bind unix");
    } else if (argc == 3 && strcmp(argv[1], "vsock") == 0) {
        struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = (unsigned)atoi(argv[2]), .svm_cid = VMADDR_CID_ANY};
        s = socket(AF_VSOCK, SOCK_STREAM, 0);
        if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) return fail("bind vsock");
    } else if (argc == 4 && strcmp(argv[1], "tcp") == 0) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3]))};
        int one = 1;
        s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) return fail("tcp address");
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) return fail("bind tcp");
    } else {
        fprintf(stderr, "usage: vsink unix PATH | vsink vsock PORT | vsink tcp ADDR PORT\n");
        return 2;
    }
    if (listen(s, 1) < 0) return fail("listen");
    printf("hg-vsink listening\n");
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    if (c < 0) return fail("accept");
    double t0 = now_ms();
    static char buf[1 << 18];
    long long total = 0;
    ssize_t r;
    while ((r = read(c, buf, sizeof buf)) > 0) total += r;
    if (r < 0) return fail("read");
    printf("hg-vsink bytes=%lld ms=%.3f\n", total, now_ms() - t0);
    return 0;
}
