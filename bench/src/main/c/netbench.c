/*
 * Both ends of the net_* figures: TCP from a Linux guest to its host over the guest's
 * virtio-net card, its TAP and the host bridge. Built static on the host; the same binary
 * serves on the host (the nest) and runs as the client in the guest under both VMMs.
 *
 * usage: hg-netbench server ADDRESS PORT
 *          accepts connections one after another; the first byte says what the client wants:
 *          'T' read until EOF, then answer the byte count (8 bytes, little endian);
 *          'R' echo every byte back at once (TCP_NODELAY), until EOF;
 *          a new connection ends the one being served (its client is gone).
 *          prints "hg-net listening" once it accepts.
 *        hg-netbench client ADDRESS PORT MIB ROUNDS
 *          throughput: one connection, MIB MiB in 128 KiB writes, timed from the first write
 *          until the server's byte count is back (a quarter as much first, untimed, as warm-up);
 *          round trip: one connection, ROUNDS one-byte ping-pongs, each timed (a tenth as many
 *          first, untimed), fewer when they take more than RTT_SECONDS; prints "hg-net gbps X",
 *          "hg-net rtt_us MEDIAN", "hg-net rtt_mean_us MEAN", "hg-net rtt_rounds N", then
 *          "hg-net done"; "hg-net error ..." on failure, also when the connection stalls for
 *          STALL_SECONDS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024L * 1024L)
#define CHUNK (128 * 1024)
#define RTT_SECONDS 20
#define STALL_SECONDS 30

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(const char *what) {
    printf("hg-net error %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static struct sockaddr_in address(const char *host, const char *port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(port));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        errno = EINVAL;
        fail("address");
    }
    return a;
}

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int full_read(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static int full_write(int fd, const void *buf, size_t n) {
    size_t put = 0;
    while (put < n) {
        ssize_t w = write(fd, (const char *)buf + put, n - put);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        put += (size_t)w;
    }
    return 0;
}

static char buf[256 * 1024];

/*
 * The server's view of its one client: a VM may be stopped before its FIN got out, and that
 * connection then never ends. So the server reads without blocking and, when it would have to
 * wait, waits for the client or for a new connection, which means the old client is gone.
 */
static int listener = -1;

static int wait_client(int c, short events) {
    struct pollfd p[2] = {{.fd = c, .events = events}, {.fd = listener, .events = POLLIN}};
    for (;;) {
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (p[0].revents) return 0;
        if (p[1].revents) return -1;
    }
}

static ssize_t serve_read(int c, void *b, size_t n) {
    for (;;) {
        ssize_t r = read(c, b, n);
        if (r >= 0) return r;
        if (errno == EINTR) continue;
        if (errno != EAGAIN || wait_client(c, POLLIN) != 0) return -1;
    }
}

static int serve_write(int c, const void *b, size_t n) {
    size_t put = 0;
    while (put < n) {
        ssize_t w = write(c, (const char *)b + put, n - put);
        if (w > 0) {
            put += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w == 0 || errno != EAGAIN || wait_client(c, POLLOUT) != 0) {
            return -1;
        }
    }
    return 0;
}

static void serve(int c) {
    char mode;
    nodelay(c);
    fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
    if (serve_read(c, &mode, 1) != 1) return;
    if (mode == 'T') {
        uint64_t total = 0;
        ssize_t r;
        while ((r = serve_read(c, buf, sizeof buf)) > 0) total += (uint64_t)r;
        if (r < 0) return;
        unsigned char le[8];
        for (int i = 0; i < 8; i++) le[i] = (unsigned char)(total >> (8 * i));
        serve_write(c, le, 8);
    } else if (mode == 'R') {
        char b;
        while (serve_read(c, &b, 1) == 1)
            if (serve_write(c, &b, 1) != 0) return;
    }
}

static _Noreturn void server(const char *host, const char *port) {
    struct sockaddr_in a = address(host, port);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) fail("socket");
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) fail("bind");
    if (listen(s, 4) != 0) fail("listen");
    listener = s;
    printf("hg-net listening\n");
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR) continue;
            fail("accept");
        }
        serve(c);
        close(c);
    }
}

static int connect_to(struct sockaddr_in *a, char mode) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket");
    /* the first connection may wait for ARP: retry a refused or unreachable one for a while */
    for (int tries = 0; connect(fd, (struct sockaddr *)a, sizeof *a) != 0; tries++) {
        if (tries == 50) fail("connect");
        close(fd);
        usleep(100000);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) fail("socket");
    }
    nodelay(fd);
    struct timeval stall = {.tv_sec = STALL_SECONDS};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &stall, sizeof stall);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &stall, sizeof stall);
    if (full_write(fd, &mode, 1) != 0) fail("write mode");
    return fd;
}

static double send_bytes(struct sockaddr_in *a, long bytes) {
    int fd = connect_to(a, 'T');
    double t0 = now();
    for (long sent = 0; sent < bytes; sent += CHUNK) {
        long n = bytes - sent < CHUNK ? bytes - sent : CHUNK;
        if (full_write(fd, buf, (size_t)n) != 0) fail("send");
    }
    if (shutdown(fd, SHUT_WR) != 0) fail("shutdown");
    unsigned char le[8];
    if (full_read(fd, le, 8) != 0) fail("byte count");
    double t1 = now();
    uint64_t total = 0;
    for (int i = 0; i < 8; i++) total |= (uint64_t)le[i] << (8 * i);
    close(fd);
    if (total != (uint64_t)bytes) {
        printf("hg-net error the server got %llu of %ld bytes\n", (unsigned long long)total, bytes);
        exit(1);
    }
    return t1 - t0;
}

static int by_value(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static int client(const char *host, const char *port, long mib, long rounds) {
    struct sockaddr_in a = address(host, port);
    for (long i = 0; i < (long)sizeof buf; i++) buf[i] = (char)(i * 7 + 3);

    send_bytes(&a, mib * MIB / 4);
    double t = send_bytes(&a, mib * MIB);
    printf("hg-net gbps %.4f\n", mib * MIB * 8 / t / 1e9);
    fflush(stdout);

    double *rtt = malloc(sizeof(double) * (size_t)rounds);
    if (rtt == NULL) fail("malloc");
    int fd = connect_to(&a, 'R');
    char b = 'x';
    double start = 0;
    long done = 0;
    for (long i = -rounds / 10; i < rounds; i++) {
        double t0 = now();
        if (i == 0) start = t0;
        if (i > 0 && t0 - start > RTT_SECONDS) break;
        if (full_write(fd, &b, 1) != 0) fail("ping");
        if (full_read(fd, &b, 1) != 0) fail("pong");
        if (i >= 0) rtt[done++] = now() - t0;
    }
    close(fd);
    double sum = 0;
    for (long i = 0; i < done; i++) sum += rtt[i];
    qsort(rtt, (size_t)done, sizeof(double), by_value);
    double median = done % 2 ? rtt[done / 2] : (rtt[done / 2 - 1] + rtt[done / 2]) / 2;
    printf("hg-net rtt_us %.1f\n", median * 1e6);
    printf("hg-net rtt_mean_us %.1f\n", sum / done * 1e6);
    printf("hg-net rtt_rounds %ld\n", done);
    printf("hg-net done\n");
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "server") == 0) server(argv[2], argv[3]);
    if (argc == 6 && strcmp(argv[1], "client") == 0 && atol(argv[4]) > 0 && atol(argv[5]) > 0)
        return client(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
    fprintf(stderr, "usage: hg-netbench server ADDRESS PORT | client ADDRESS PORT MIB ROUNDS\n");
    return 2;
}
