/*
 * hg-agent: hyper-gen's guest agent. Listens on vsock port 1024 and serves one request per
 * connection, each in a process of its own: run a command (arguments, environment, working
 * directory, stdin in, stdout and stderr out as they come, then the exit status), read or write a
 * file (mode kept), tell its version, set the network card's MAC and address, reseed the kernel's
 * random-number generator. The framing is in PROTOCOL.md beside this file.
 *
 * Static, no libraries beyond libc: built with gcc -static -Os, started by the guest's init.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/random.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <net/if_arp.h>

#define AGENT_VERSION "hg-agent 1"
#define AGENT_PORT 1024
#define MAX_FRAME 65536

enum {
    T_EXEC = 1, T_STDIN = 2, T_STDOUT = 3, T_STDERR = 4, T_EXIT = 5, T_ERROR = 6,
    T_READ = 7, T_FILE = 8, T_DATA = 9, T_END = 10, T_WRITE = 11, T_OK = 12,
    T_VERSION = 13, T_NET = 14, T_ENTROPY = 15,
};

static unsigned char frame[MAX_FRAME];

static int write_all(int fd, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n) {
    unsigned char *b = p;
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int send_frame(int fd, int type, const void *payload, uint32_t len) {
    unsigned char h[5] = {(unsigned char)type, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24};
    if (write_all(fd, h, 5) < 0) return -1;
    return len ? write_all(fd, payload, len) : 0;
}

/* Reads one frame into frame[]; returns its type, or -1 at the end or on a frame too long. */
static int recv_frame(int fd, uint32_t *len) {
    unsigned char h[5];
    if (read_all(fd, h, 5) < 0) return -1;
    *len = h[1] | h[2] << 8 | h[3] << 16 | (uint32_t)h[4] << 24;
    if (*len > MAX_FRAME) return -1;
    if (*len && read_all(fd, frame, *len) < 0) return -1;
    return h[0];
}

static void fail(int fd, const char *what) {
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
    send_frame(fd, T_ERROR, msg, (uint32_t)(n < (int)sizeof msg ? n : (int)sizeof msg - 1));
}

static uint32_t u32(const unsigned char *p) {
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * EXEC payload: u32 argc, u32 envc, then argc arguments, envc NAME=VALUE strings and the working
 * directory, each ending in a NUL byte. The answer: STDOUT and STDERR frames as the command
 * writes, then EXIT with its status as an i32 (128 + the signal when a signal ended it).
 */
static void do_exec(int fd, uint32_t len) {
    if (len < 8) { errno = EINVAL; fail(fd, "exec request"); return; }
    uint32_t argc = u32(frame), envc = u32(frame + 4);
    if (argc == 0 || argc > 4096 || envc > 4096) { errno = EINVAL; fail(fd, "exec request"); return; }
    char **argv = calloc(argc + 1, sizeof *argv), **envp = calloc(envc + 1, sizeof *envp);
    char *cwd = NULL;
    size_t at = 8;
    for (uint32_t i = 0; i < argc + envc + 1; i++) {
        if (at >= len) { errno = EINVAL; fail(fd, "exec request"); return; }
        char *s = (char *)frame + at;
        void *nul = memchr(s, 0, len - at);
        if (nul == NULL) { errno = EINVAL; fail(fd, "exec request"); return; }
        if (i < argc) argv[i] = s; else if (i < argc + envc) envp[i - argc] = s; else cwd = s;
        at = (size_t)((char *)nul - (char *)frame) + 1;
    }
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) { fail(fd, "pipe"); return; }
    pid_t pid = fork();
    if (pid < 0) { fail(fd, "fork"); return; }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (cwd[0] && chdir(cwd) < 0) {
            dprintf(2, "hg-agent: cannot change to %s: %s\n", cwd, strerror(errno));
            _exit(126);
        }
        if (envc > 0) {
            clearenv();
            for (uint32_t i = 0; i < envc; i++) putenv(envp[i]);
        }
        if (getenv("PATH") == NULL) setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
        execvp(argv[0], argv);
        dprintf(2, "hg-agent: %s: %s\n", argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    int stdin_fd = in[1], outs = 2;
    struct pollfd p[3];
    static unsigned char buf[MAX_FRAME];
    while (outs > 0) {
        int n = 0;
        p[n++] = (struct pollfd){.fd = out[0], .events = POLLIN};
        p[n++] = (struct pollfd){.fd = err[0], .events = POLLIN};
        p[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t r = read(p[i].fd, buf, sizeof buf);
                if (r > 0) {
                    if (send_frame(fd, i == 0 ? T_STDOUT : T_STDERR, buf, (uint32_t)r) < 0) { kill(pid, SIGKILL); outs = 0; }
                } else if (r == 0 || errno != EINTR) {
                    close(p[i].fd);
                    if (i == 0) out[0] = -1; else err[0] = -1;
                    outs--;
                }
            }
        }
        if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            uint32_t flen;
            int t = recv_frame(fd, &flen);
            if (t == T_STDIN && flen > 0 && stdin_fd >= 0) {
                if (write_all(stdin_fd, frame, flen) < 0) { close(stdin_fd); stdin_fd = -1; }
            } else if (t == T_STDIN && stdin_fd >= 0) {
                close(stdin_fd);   /* an empty STDIN frame is the end of input */
                stdin_fd = -1;
            } else if (t < 0) {
                kill(pid, SIGKILL);   /* the host went: so does the command */
                break;
            }
        }
        /* Poll the connection only while it is open: after a hang-up it would always be ready. */
        if (p[2].revents & (POLLHUP | POLLERR)) break;
    }
    if (stdin_fd >= 0) close(stdin_fd);
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    int32_t code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    unsigned char c[4] = {code & 0xff, (code >> 8) & 0xff, (code >> 16) & 0xff, (uint32_t)code >> 24};
    send_frame(fd, T_EXIT, c, 4);
}

/* READ payload: the path. The answer: FILE (u32 mode, u64 size), DATA frames, END. */
static void do_read(int fd, uint32_t len) {
    if (len == 0 || memchr(frame, 0, len) == NULL) { errno = EINVAL; fail(fd, "read request"); return; }
    int f = open((char *)frame, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (f < 0 || fstat(f, &st) < 0) { fail(fd, (char *)frame); return; }
    if (!S_ISREG(st.st_mode)) { errno = EISDIR; fail(fd, (char *)frame); close(f); return; }
    unsigned char info[12];
    uint32_t mode = st.st_mode & 07777;
    uint64_t size = (uint64_t)st.st_size;
    for (int i = 0; i < 4; i++) info[i] = (mode >> (8 * i)) & 0xff;
    for (int i = 0; i < 8; i++) info[4 + i] = (size >> (8 * i)) & 0xff;
    if (send_frame(fd, T_FILE, info, 12) < 0) { close(f); return; }
    static unsigned char buf[MAX_FRAME];
    ssize_t r;
    while ((r = read(f, buf, sizeof buf)) > 0) {
        if (send_frame(fd, T_DATA, buf, (uint32_t)r) < 0) { close(f); return; }
    }
    close(f);
    if (r < 0) { fail(fd, "read"); return; }
    send_frame(fd, T_END, NULL, 0);
}

/* WRITE payload: u32 mode, then the path. Then DATA frames and END from the host; the answer is OK. */
static void do_write(int fd, uint32_t len) {
    if (len < 5 || memchr(frame + 4, 0, len - 4) == NULL) { errno = EINVAL; fail(fd, "write request"); return; }
    uint32_t mode = u32(frame) & 07777;
    char path[4096], tmp[4200];
    size_t plen = strlen((char *)frame + 4);
    if (plen == 0 || plen >= sizeof path) { errno = ENAMETOOLONG; fail(fd, "write request"); return; }
    memcpy(path, frame + 4, plen + 1);
    snprintf(tmp, sizeof tmp, "%s.hg-agent-%d", path, (int)getpid());
    int f = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (f < 0) { fail(fd, path); return; }
    for (;;) {
        uint32_t flen;
        int t = recv_frame(fd, &flen);
        if (t == T_DATA) {
            if (write_all(f, frame, flen) < 0) { fail(fd, path); close(f); unlink(tmp); return; }
        } else if (t == T_END) {
            break;
        } else {
            close(f);   /* the host went or sent something else: nothing is left behind */
            unlink(tmp);
            return;
        }
    }
    if (fchmod(f, mode) < 0 || fsync(f) < 0 || close(f) < 0 || rename(tmp, path) < 0) {
        fail(fd, path);
        unlink(tmp);
        return;
    }
    send_frame(fd, T_OK, NULL, 0);
}

/* Runs a command of the guest's own and waits for it: its exit status, or -1. */
static int run(char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* NET payload: the interface name, the MAC (6 bytes after the name's NUL), then the address as text (e.g.
 * 172.30.0.3/16) and the gateway, each ending in a NUL. */
static void do_net(int fd, uint32_t len) {
    char *name = (char *)frame;
    char *nul = memchr(frame, 0, len);
    if (nul == NULL || (size_t)(nul - name) >= IFNAMSIZ || (uint32_t)(nul - name) + 7 > len) {
        errno = EINVAL; fail(fd, "net request"); return;
    }
    unsigned char *mac = (unsigned char *)nul + 1;
    char *addr = (char *)mac + 6;
    char *addr_end = memchr(addr, 0, len - (uint32_t)(addr - name));
    if (addr_end == NULL) { errno = EINVAL; fail(fd, "net request"); return; }
    char *gw = addr_end + 1;
    if ((uint32_t)(gw - name) >= len || memchr(gw, 0, len - (uint32_t)(gw - name)) == NULL) {
        errno = EINVAL; fail(fd, "net request"); return;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { fail(fd, name); close(s); return; }
    short flags = ifr.ifr_flags;
    ifr.ifr_flags = flags & ~IFF_UP;
    ioctl(s, SIOCSIFFLAGS, &ifr);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0) { fail(fd, "set MAC"); close(s); return; }
    close(s);
    /* Addresses and routes through busybox ip: the same tool the init script uses. */
    char *up[] = {"ip", "link", "set", name, "up", NULL};
    char *flush[] = {"ip", "addr", "flush", "dev", name, NULL};
    char *add[] = {"ip", "addr", "add", addr, "dev", name, NULL};
    char *route[] = {"ip", "route", "replace", "default", "via", gw, NULL};
    if (run(up) != 0 || run(flush) != 0 || run(add) != 0 || (gw[0] && run(route) != 0)) {
        errno = EIO;
        fail(fd, "ip address");
        return;
    }
    send_frame(fd, T_OK, NULL, 0);
}

/* ENTROPY payload: random bytes from the host, credited to the pool, then a reseed of the CRNG. */
static void do_entropy(int fd, uint32_t len) {
    if (len == 0 || len > 4096) { errno = EINVAL; fail(fd, "entropy request"); return; }
    struct { int entropy_count; int buf_size; unsigned char buf[4096]; } e;
    e.entropy_count = (int)len * 8;
    e.buf_size = (int)len;
    memcpy(e.buf, frame, len);
    int r = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (r < 0 || ioctl(r, RNDADDENTROPY, &e) < 0 || ioctl(r, RNDRESEEDCRNG) < 0) {
        fail(fd, "reseed");
        if (r >= 0) close(r);
        return;
    }
    close(r);
    send_frame(fd, T_OK, NULL, 0);
}

static void serve(int fd) {
    uint32_t len;
    int t = recv_frame(fd, &len);
    switch (t) {
    case T_EXEC: do_exec(fd, len); break;
    case T_READ: do_read(fd, len); break;
    case T_WRITE: do_write(fd, len); break;
    case T_VERSION: send_frame(fd, T_VERSION, AGENT_VERSION, sizeof AGENT_VERSION - 1); break;
    case T_NET: do_net(fd, len); break;
    case T_ENTROPY: do_entropy(fd, len); break;
    case -1: break;
    default: errno = EINVAL; fail(fd, "request"); break;
    }
}

/*
 * hg-agent connect PORT: a guest program's stream to the host: connects to host CID 2 on PORT (the host
 * program listening at <vsock socket>_PORT), copies stdin to it and what comes back to stdout, and ends
 * when the host closes.
 */
static int connect_host(const char *port_text) {
    char *end;
    unsigned long port = strtoul(port_text, &end, 10);
    if (*port_text == 0 || *end != 0 || port > 0xffffffffUL) {
        fprintf(stderr, "hg-agent: connect takes a port number, not '%s'\n", port_text);
        return 2;
    }
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = (unsigned)port, .svm_cid = VMADDR_CID_HOST};
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        fprintf(stderr, "hg-agent: cannot connect to host port %lu: %s\n", port, strerror(errno));
        return 1;
    }
    static unsigned char buf[MAX_FRAME];
    int in_open = 1;
    for (;;) {
        struct pollfd p[2] = {{.fd = s, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (p[0].revents) {
            ssize_t r = read(s, buf, sizeof buf);
            if (r <= 0) return 0;
            if (write_all(1, buf, (size_t)r) < 0) return 1;
        }
        if (in_open && p[1].revents) {
            ssize_t r = read(0, buf, sizeof buf);
            if (r <= 0) {
                shutdown(s, SHUT_WR);   /* the host reads the end of our input and may answer still */
                in_open = 0;
            } else if (write_all(s, buf, (size_t)r) < 0) {
                return 1;
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "connect") == 0) return connect_host(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: hg-agent (serves vsock port %d) | hg-agent connect PORT\n", AGENT_PORT);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) { perror("hg-agent: vsock"); sleep(5); return 1; }
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = AGENT_PORT, .svm_cid = VMADDR_CID_ANY};
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) { perror("hg-agent: listen"); sleep(5); return 1; }
    for (;;) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        pid_t pid = fork();
        if (pid == 0) {
            close(s);
            pid_t worker = fork();   /* a grandchild, so init reaps it and the listener never waits */
            if (worker == 0) {
                serve(c);
                _exit(0);
            }
            _exit(0);
        }
        close(c);
        if (pid > 0) while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    }
}
