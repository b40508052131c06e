/*
 * A host program for the e2e tests, run inside the nest next to hyper-gen: the other end of a VM's
 * vsock socket, written against the protocols' documents and nothing of hyper-gen's.
 *
 *   vsock-peer listen PATH        accept one connection on the Unix socket PATH, print what it sends,
 *                                 answer "pong\n" once it has shut its side, and exit
 *   vsock-peer exec SOCKET N      N connections at once, each CONNECT 1024 to the guest agent and an
 *                                 EXEC of "echo ok-I"; prints "answered A of N" (A counts the right
 *                                 output with status 0)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int unix_socket(const char *path, int listening) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (listening) {
        unlink(path);
        if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0) return -1;
    } else if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        return -1;
    }
    return s;
}

static int read_all(int fd, void *p, size_t n) {
    unsigned char *b = p;
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int listen_once(const char *path) {
    int s = unix_socket(path, 1);
    if (s < 0) { perror("vsock-peer: listen"); return 1; }
    printf("listening\n");
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    char buf[4096];
    ssize_t r;
    while ((r = read(c, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)r, stdout);
    write(c, "pong\n", 5);
    close(c);
    unlink(path);
    printf("\nthe guest closed\n");
    return 0;
}

/* One EXEC of "echo ok-I" through the agent; 0 when it printed that and exited 0. */
static int one_exec(const char *socket_path, int i) {
    int s = unix_socket(socket_path, 0);
    if (s < 0) return 1;
    char line[64];
    dprintf(s, "CONNECT 1024\n");
    size_t n = 0;
    while (n < sizeof line - 1 && read(s, line + n, 1) == 1 && line[n] != '\n') n++;
    line[n] = 0;
    if (strncmp(line, "OK ", 3) != 0) return 2;
    char cmd[32];
    int cmdlen = snprintf(cmd, sizeof cmd, "echo ok-%d", i);
    unsigned char p[128];
    uint32_t argc = 3, envc = 0, at = 8;
    memcpy(p, &argc, 4);
    memcpy(p + 4, &envc, 4);
    memcpy(p + at, "sh", 3); at += 3;
    memcpy(p + at, "-c", 3); at += 3;
    memcpy(p + at, cmd, (size_t)cmdlen + 1); at += (uint32_t)cmdlen + 1;
    p[at++] = 0;   /* working directory: the agent's default */
    unsigned char h[5] = {1, at & 0xff, at >> 8, 0, 0};
    write(s, h, 5);
    write(s, p, at);
    unsigned char eof[5] = {2, 0, 0, 0, 0};
    write(s, eof, 5);
    char out[64] = {0};
    size_t outlen = 0;
    for (;;) {
        unsigned char fh[5];
        if (read_all(s, fh, 5) < 0) return 3;
        uint32_t len = fh[1] | fh[2] << 8 | fh[3] << 16 | (uint32_t)fh[4] << 24;
        if (len > 65536) return 4;
        unsigned char *body = malloc(len + 1);
        if (len && read_all(s, body, len) < 0) return 5;
        if (fh[0] == 3 && outlen + len < sizeof out) {
            memcpy(out + outlen, body, len);
            outlen += len;
        } else if (fh[0] == 5) {
            int32_t status;
            memcpy(&status, body, 4);
            free(body);
            char want[40];
            snprintf(want, sizeof want, "ok-%d\n", i);
            return status == 0 && strcmp(out, want) == 0 ? 0 : 6;
        }
        free(body);
    }
}

static int exec_many(const char *socket_path, int count) {
    for (int i = 0; i < count; i++) {
        if (fork() == 0) _exit(one_exec(socket_path, i));
    }
    int answered = 0, status;
    while (wait(&status) > 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) answered++;
    }
    printf("answered %d of %d\n", answered, count);
    return answered == count ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "listen") == 0) return listen_once(argv[2]);
    if (argc == 4 && strcmp(argv[1], "exec") == 0) return exec_many(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: vsock-peer listen PATH | vsock-peer exec SOCKET N\n");
    return 2;
}
