/*
 * Peer for the create_cpu_ms and mem_per_vm_mib figures: the VM set-up a minimal C VMM does to
 * start a 64-bit guest, on /dev/kvm, without any library but libc.
 *
 * One VM here is: KVM_CREATE_VM, TSS and identity-map addresses, guest RAM (anonymous
 * MAP_NORESERVE mapping) as memory slot 0, in-kernel irqchip and PIT, two eventfds as irqfds
 * (the UART's and the keyboard controller's lines), one vCPU with KVM's supported CPUID, the
 * boot MSRs, LINT0/LINT1 set up in its local APIC, a GDT and identity page tables for the first
 * 4 GiB written into guest RAM, long-mode special registers, RIP at the guest code; then
 * KVM_RUN until the guest's first exit. The guest code is the one the Java side boots as an ELF:
 *     mov $0xd0f00000, %eax ; movl $1, (%rax)   (an MMIO write: the first exit)
 *  1: cli ; hlt ; jmp 1b                       (idle for ever: HLT stays in the kernel)
 * /dev/kvm is opened and KVM_GET_SUPPORTED_CPUID read once per process, as a VMM does.
 *
 * usage: vm_runner create WARMUP RUNS MEM_MIB [MAPPINGS]
 *          prints per timed VM "create WALL_NS CPU_NS": process CPU time (this process is
 *          one thread) and wall time from before KVM_CREATE_VM to the return of the first
 *          KVM_RUN; each VM is closed before the next one (not timed); at the end, per step of the
 *          set-up, "step NAME CPU_NS" summed over the timed VMs. With MAPPINGS, the process first
 *          grows to that many mappings (/proc/self/maps lines) of touched anonymous memory, the
 *          shape of a bigger VMM's address space: KVM_CREATE_VM locks every mapping of the process
 *          (its MMU notifier registers under mm_take_all_locks), so its cost grows with them.
 *        vm_runner create-devices WARMUP RUNS MEM_MIB ELF [MAPPINGS]
 *          the same, but each VM made with what a hyper-gen VM has beside: the system calls hyper-gen's
 *          create makes, in its order (the kernel file checked, RAM laid for huge pages, the UART's and
 *          keyboard controller's irqfds and the UART's coalesced port, an epoll set with a wake-up
 *          eventfd, virtio-rng's and the console's irqfds, queue ioeventfds and epoll entries, the ELF
 *          kernel read from its file), its vCPU run on a thread of its own and an I/O thread in
 *          epoll_wait, both kept from VM to VM and handed each new VM; CPU time of the process.
 *        vm_runner mem COUNT MEM_MIB
 *          makes COUNT VMs, each with its vCPU on its own thread run to the first exit and then
 *          left in the guest's HLT; prints "mem VMS RSS_KB GUEST_RESIDENT_KB" after the first VM
 *          and after the last: VmRSS and the resident pages of the guest RAM mappings (mincore).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <elf.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define CODE_ADDR 0x200000UL
#define GDT_ADDR 0x500UL
#define PML4_ADDR 0x9000UL
#define PDPT_ADDR 0xa000UL
#define PD_ADDR 0xb000UL
#define TSS_ADDR 0xfffbd000UL
#define IDENTITY_MAP_ADDR 0xfffbc000UL
#define MAX_VMS 64

static const uint8_t GUEST[] = {
    0xb8, 0x00, 0x00, 0xf0, 0xd0,       /* mov $0xd0f00000, %eax */
    0xc7, 0x00, 0x01, 0x00, 0x00, 0x00, /* movl $1, (%rax) */
    0xfa, 0xf4, 0xeb, 0xfc,             /* 1: cli; hlt; jmp 1b */
};

static int kvm_fd;
static struct kvm_cpuid2 *supported;
static int run_size;

struct vm {
    int vm, vcpu, irqfd[2];
    uint8_t *mem;
    size_t mem_size;
    struct kvm_run *run;
    pthread_t thread;
};

static void die(const char *what) {
    fprintf(stderr, "vm_runner: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long long clock_ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* CPU time per step of a create, summed over the timed creates: the same steps the Java side reports. */
#define MAX_STEPS 16
static struct { const char *name; long long ns; } steps[MAX_STEPS];
static int step_count, timing;
static long long step_last;

static void step(const char *name) {
    long long now = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    if (timing) {
        int i = 0;
        while (i < step_count && strcmp(steps[i].name, name) != 0) i++;
        if (i == step_count && step_count < MAX_STEPS) steps[step_count++].name = name;
        if (i < MAX_STEPS) steps[i].ns += now - step_last;
    }
    step_last = now;
}

static void xioctl(int fd, unsigned long req, void *arg, const char *what) {
    if (ioctl(fd, req, arg) < 0) die(what);
}

static void once(void) {
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) die("open /dev/kvm");
    run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0) die("KVM_GET_VCPU_MMAP_SIZE");
    int n = 256;
    supported = calloc(1, sizeof *supported + n * sizeof(struct kvm_cpuid_entry2));
    supported->nent = n;
    xioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, supported, "KVM_GET_SUPPORTED_CPUID");
}

static void set_msrs(int vcpu) {
    static const uint32_t index[] = {0x174, 0x175, 0x176, 0xc0000081, 0xc0000083, 0xc0000102,
                                     0xc0000084, 0xc0000082, 0x10, 0x1a0, 0x2ff};
    static const uint64_t value[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, (1 << 11) | 6};
    size_t n = sizeof index / sizeof index[0];
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e[16];
    } m;
    memset(&m, 0, sizeof m);
    m.h.nmsrs = n;
    for (size_t i = 0; i < n; i++) {
        m.e[i].index = index[i];
        m.e[i].data = value[i];
    }
    if (ioctl(vcpu, KVM_SET_MSRS, &m) != (int)n) die("KVM_SET_MSRS");
}

static void write_boot_tables(uint8_t *mem) {
    uint64_t gdt[4] = {0, 0, 0x00af9b000000ffffULL /* 64-bit code, 0x10 */, 0x00cf93000000ffffULL /* data, 0x18 */};
    memcpy(mem + GDT_ADDR, gdt, sizeof gdt);
    uint64_t *pml4 = (uint64_t *)(mem + PML4_ADDR), *pdpt = (uint64_t *)(mem + PDPT_ADDR);
    pml4[0] = PDPT_ADDR | 3;
    for (int i = 0; i < 4; i++) {
        pdpt[i] = (PD_ADDR + i * 0x1000UL) | 3;
        uint64_t *pd = (uint64_t *)(mem + PD_ADDR + i * 0x1000UL);
        for (int j = 0; j < 512; j++) pd[j] = ((uint64_t)i << 30 | (uint64_t)j << 21) | 0x83;
    }
    memcpy(mem + CODE_ADDR, GUEST, sizeof GUEST);
}

static void set_long_mode(int vcpu, uint64_t rip) {
    struct kvm_sregs s;
    xioctl(vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
    struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 11, .present = 1,
                               .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
    struct kvm_segment data = code;
    data.selector = 0x18;
    data.type = 3;
    data.l = 0;
    data.db = 1;
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.gdt.base = GDT_ADDR;
    s.gdt.limit = 4 * 8 - 1;
    s.cr3 = PML4_ADDR;
    s.cr4 = 1 << 5;                  /* PAE */
    s.cr0 = 0x80000001 | (1 << 4);  /* PG, PE, ET */
    s.efer = (1 << 8) | (1 << 10);   /* LME, LMA */
    xioctl(vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS");
    struct kvm_regs r = {.rip = rip, .rflags = 2, .rsp = 0x8000};
    xioctl(vcpu, KVM_SET_REGS, &r, "KVM_SET_REGS");
}

static void set_lapic(int vcpu) {
    struct kvm_lapic_state l;
    xioctl(vcpu, KVM_GET_LAPIC, &l, "KVM_GET_LAPIC");
    uint32_t *lint0 = (uint32_t *)(l.regs + 0x350), *lint1 = (uint32_t *)(l.regs + 0x360);
    *lint0 = (*lint0 & ~0x700u) | (7 << 8); /* ExtINT */
    *lint1 = (*lint1 & ~0x700u) | (4 << 8); /* NMI */
    xioctl(vcpu, KVM_SET_LAPIC, &l, "KVM_SET_LAPIC");
}

static void first_exit(struct vm *v) {
    if (ioctl(v->vcpu, KVM_RUN, 0) < 0) die("KVM_RUN");
    if (v->run->exit_reason != KVM_EXIT_MMIO || v->run->mmio.phys_addr != 0xd0f00000UL) {
        fprintf(stderr, "vm_runner: unexpected first exit %u\n", v->run->exit_reason);
        exit(1);
    }
}

/* Everything up to the vCPU's first exit. */
/* The VM fd with its TSS and identity map, guest RAM as slot 0, the in-kernel irqchip and PIT. */
static void make_vm(struct vm *v) {
    v->vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (v->vm < 0) die("KVM_CREATE_VM");
    if (ioctl(v->vm, KVM_SET_TSS_ADDR, TSS_ADDR) < 0) die("KVM_SET_TSS_ADDR");
    uint64_t ident = IDENTITY_MAP_ADDR;
    xioctl(v->vm, KVM_SET_IDENTITY_MAP_ADDR, &ident, "KVM_SET_IDENTITY_MAP_ADDR");
    step("VM fd");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = v->mem_size, .userspace_addr = (uint64_t)v->mem};
    xioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
    step("memory slots");
    if (ioctl(v->vm, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    xioctl(v->vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
    step("irqchip and PIT");
}

/* vCPU 0 ready to run at rip in long mode; with xsave2, asking KVM its XSAVE size as hyper-gen does. */
static void make_vcpu(struct vm *v, uint64_t rip, int xsave2) {
    v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
    if (v->vcpu < 0) die("KVM_CREATE_VCPU");
    if (xsave2) ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
    if (v->run == MAP_FAILED) die("mmap kvm_run");
    step("vCPU fd");
    xioctl(v->vcpu, KVM_SET_CPUID2, supported, "KVM_SET_CPUID2");
    step("vCPU CPUID set");
    set_msrs(v->vcpu);
    step("vCPU MSRs");
    set_lapic(v->vcpu);
    step("vCPU LAPIC");
    set_long_mode(v->vcpu, rip);
    step("vCPU registers");
}

static void vm_create(struct vm *v, size_t mem_size) {
    step_last = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    v->mem_size = mem_size;
    v->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (v->mem == MAP_FAILED) die("mmap guest memory");
    step("guest memory");
    make_vm(v);
    static const int gsi[2] = {4, 1};
    for (int i = 0; i < 2; i++) {
        v->irqfd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (v->irqfd[i] < 0) die("eventfd");
        struct kvm_irqfd irqfd = {.fd = v->irqfd[i], .gsi = gsi[i]};
        xioctl(v->vm, KVM_IRQFD, &irqfd, "KVM_IRQFD");
    }
    step("legacy devices");
    write_boot_tables(v->mem);
    step("boot tables");
    make_vcpu(v, CODE_ADDR, 0);
}

/* ---- create-devices: a C VMM that makes what a hyper-gen VM has */

static void vm_close(struct vm *v);

#define MMIO_BASE 0xd0000000UL
#define QUEUE_NOTIFY 0x50
#define HUGE (2UL << 20)

struct devices {
    int epoll, wake, irq[2], kick[3];
    uint64_t entry;
};

static int efd(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) die("eventfd");
    return fd;
}

static void irqfd(int vm, int fd, int gsi) {
    struct kvm_irqfd f = {.fd = fd, .gsi = gsi};
    xioctl(vm, KVM_IRQFD, &f, "KVM_IRQFD");
}

static void watch(int epoll, int fd, uint64_t tag) {
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = tag};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl");
}

static int kick(int vm, int epoll, uint64_t addr, int queue, uint64_t tag) {
    int fd = efd();
    struct kvm_ioeventfd io = {.addr = addr, .len = 4, .fd = fd, .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
                               .datamatch = queue};
    xioctl(vm, KVM_IOEVENTFD, &io, "KVM_IOEVENTFD");
    watch(epoll, fd, tag);
    return fd;
}

/* The ELF's loadable segments read from the file into guest RAM at their physical addresses. */
static uint64_t load_elf(const char *path, uint8_t *mem, size_t mem_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    struct stat st;
    if (fstat(fd, &st) < 0) die("fstat");
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) die("ELF header");
    Elf64_Phdr ph[16];
    if (eh.e_phnum > 16 || pread(fd, ph, eh.e_phnum * sizeof ph[0], eh.e_phoff) != (ssize_t)(eh.e_phnum * sizeof ph[0]))
        die("ELF program headers");
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_filesz == 0) continue;
        if (ph[i].p_paddr + ph[i].p_filesz > mem_size) die("ELF segment outside RAM");
        /* as hyper-gen lays RAM: a 2 MiB page that a segment fills less than an eighth of stays on small pages */
        if (ph[i].p_filesz < HUGE / 8 && madvise(mem + (ph[i].p_paddr & ~(HUGE - 1)), HUGE, MADV_NOHUGEPAGE) < 0)
            die("madvise");
        if (pread(fd, mem + ph[i].p_paddr, ph[i].p_filesz, ph[i].p_offset) != (ssize_t)ph[i].p_filesz) die("ELF segment");
    }
    close(fd);
    return eh.e_entry;
}

/* A thread kept from VM to VM: it waits for a job, runs it, and waits again. */
struct worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void (*job)(struct vm *);
    struct vm *vm;
};

static void *worker_loop(void *arg) {
    struct worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (w->job == NULL) pthread_cond_wait(&w->cond, &w->lock);
        void (*job)(struct vm *) = w->job;
        struct vm *v = w->vm;
        pthread_mutex_unlock(&w->lock);
        job(v);
        pthread_mutex_lock(&w->lock);
        w->job = NULL;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

static void worker_start(struct worker *w) {
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->job = NULL;
    if (pthread_create(&w->thread, NULL, worker_loop, w) != 0) die("pthread_create");
}

static void worker_hand(struct worker *w, void (*job)(struct vm *), struct vm *v) {
    pthread_mutex_lock(&w->lock);
    w->job = job;
    w->vm = v;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void worker_join(struct worker *w) {
    pthread_mutex_lock(&w->lock);
    while (w->job != NULL) pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static struct devices dev;
static struct worker io_worker, vcpu_worker;
static long long first_exit_cpu;

static void io_job(struct vm *v) {
    (void)v;
    prctl(PR_SET_NAME, "vm-io");
    struct epoll_event e[8];
    for (;;) {
        int n = epoll_wait(dev.epoll, e, 8, -1);
        for (int i = 0; i < n; i++) {
            if (e[i].data.u64 == 0) return; /* the wake-up eventfd: the VM ends */
        }
    }
}

static void vcpu_job(struct vm *v) {
    prctl(PR_SET_NAME, "vm-vcpu0");
    sigset_t urg;
    sigemptyset(&urg);
    sigaddset(&urg, SIGURG);
    pthread_sigmask(SIG_BLOCK, &urg, NULL);
    struct {
        struct kvm_signal_mask h;
        uint8_t set[8];
    } mask = {.h.len = 8};
    xioctl(v->vcpu, KVM_SET_SIGNAL_MASK, &mask, "KVM_SET_SIGNAL_MASK");
    first_exit(v);
    first_exit_cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* As vm_create, with hyper-gen's devices and its RAM layout; the vCPU is left for the vCPU thread. */
static void vm_create_devices(struct vm *v, size_t mem_size, const char *elf) {
    struct sysinfo si;
    sysinfo(&si);
    struct stat st;
    if (stat(elf, &st) < 0 || access(elf, R_OK) < 0) die(elf);
    step_last = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    v->mem_size = mem_size;
    uint8_t *raw = mmap(NULL, mem_size + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) die("mmap guest memory");
    uint8_t *mem = (uint8_t *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
    if (mem > raw) munmap(raw, mem - raw);
    if (raw + HUGE > mem) munmap(mem + mem_size, raw + HUGE - mem);
    if (madvise(mem + HUGE, mem_size - HUGE, MADV_HUGEPAGE) < 0) die("madvise");
    v->mem = mem;
    step("guest memory");
    make_vm(v);
    struct kvm_clock_data clock;
    memset(&clock, 0, sizeof clock);
    xioctl(v->vm, KVM_GET_CLOCK, &clock, "KVM_GET_CLOCK");
    /* the UART's and the keyboard controller's lines: the plain create's two irqfds, around the coalesced port */
    v->irqfd[0] = efd();
    irqfd(v->vm, v->irqfd[0], 4);
    struct kvm_coalesced_mmio_zone zone = {.addr = 0x3f8, .size = 1, .pio = 1};
    xioctl(v->vm, KVM_REGISTER_COALESCED_MMIO, &zone, "KVM_REGISTER_COALESCED_MMIO");
    v->irqfd[1] = efd();
    irqfd(v->vm, v->irqfd[1], 1);
    step("legacy devices");
    dev.epoll = epoll_create1(EPOLL_CLOEXEC);
    if (dev.epoll < 0) die("epoll_create1");
    dev.wake = efd();
    watch(dev.epoll, dev.wake, 0);
    step("I/O loop");
    dev.irq[0] = efd();
    irqfd(v->vm, dev.irq[0], 5);
    dev.kick[0] = kick(v->vm, dev.epoll, MMIO_BASE + QUEUE_NOTIFY, 0, 1);
    dev.irq[1] = efd();
    irqfd(v->vm, dev.irq[1], 6);
    dev.kick[1] = kick(v->vm, dev.epoll, MMIO_BASE + 0x1000 + QUEUE_NOTIFY, 0, 2);
    dev.kick[2] = kick(v->vm, dev.epoll, MMIO_BASE + 0x1000 + QUEUE_NOTIFY, 1, 3);
    step("virtio devices");
    dev.entry = load_elf(elf, v->mem, mem_size);
    step("kernel");
    write_boot_tables(v->mem);
    step("boot tables");
    make_vcpu(v, dev.entry, 1);
}

static void vm_close_devices(struct vm *v) {
    uint64_t one = 1;
    if (write(dev.wake, &one, sizeof one) != sizeof one) die("write");
    worker_join(&io_worker);
    int fds[] = {dev.epoll, dev.wake, dev.irq[0], dev.irq[1], dev.kick[0], dev.kick[1], dev.kick[2]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) close(fds[i]);
    vm_close(v);
}

static int mapping_count(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) die("/proc/self/maps");
    int lines = 0, c;
    while ((c = fgetc(f)) != EOF) lines += c == '\n';
    fclose(f);
    return lines;
}

/* Two mappings a step: a touched page (it gets an anon_vma, as the JVM's heap, stacks and arenas have) and
 * an inaccessible one after it, so that the kernel cannot merge them with their neighbours. */
static void grow_mappings(int target) {
    for (int have = mapping_count(); have + 1 < target; have += 2) {
        char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        p[0] = 1;
        if (mprotect(p + 4096, 4096, PROT_NONE) < 0) die("mprotect");
    }
}

static void vm_close(struct vm *v) {
    munmap(v->run, run_size);
    close(v->vcpu);
    close(v->irqfd[0]);
    close(v->irqfd[1]);
    close(v->vm);
    munmap(v->mem, v->mem_size);
}

static void *idle_vcpu(void *arg) {
    struct vm *v = arg;
    first_exit(v);
    ioctl(v->vcpu, KVM_RUN, 0); /* the guest's HLT: stays in the kernel */
    return NULL;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) die("/proc/self/status");
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    }
    fclose(f);
    return kb;
}

static long guest_resident_kb(struct vm *vms, int n) {
    long pages = 0;
    for (int i = 0; i < n; i++) {
        size_t np = vms[i].mem_size / 4096;
        unsigned char *vec = malloc(np);
        if (mincore(vms[i].mem, vms[i].mem_size, vec) < 0) die("mincore");
        for (size_t p = 0; p < np; p++) pages += vec[p] & 1;
        free(vec);
    }
    return pages * 4;
}

/* Waits until every vCPU thread of vms[0..n) made its first exit and sits in HLT. */
static void settle(void) {
    struct timespec t = {0, 50 * 1000 * 1000};
    nanosleep(&t, NULL);
}

int main(int argc, char **argv) {
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "create") == 0) {
        int warmup = atoi(argv[2]), runs = atoi(argv[3]);
        size_t mem = (size_t)atol(argv[4]) << 20;
        once();
        if (argc == 6) grow_mappings(atoi(argv[5]));
        printf("mappings %d\n", mapping_count());
        for (int i = 0; i < warmup + runs; i++) {
            struct vm v;
            long long c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = clock_ns(CLOCK_MONOTONIC);
            timing = i >= warmup;
            vm_create(&v, mem);
            first_exit(&v);
            step("first KVM_RUN to the first exit");
            long long t1 = clock_ns(CLOCK_MONOTONIC), c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
            if (i >= warmup) printf("create %lld %lld\n", t1 - t0, c1 - c0);
            vm_close(&v);
        }
        for (int i = 0; i < step_count; i++) printf("step %s\t%lld\n", steps[i].name, steps[i].ns);
        return 0;
    }
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "create-devices") == 0) {
        int warmup = atoi(argv[2]), runs = atoi(argv[3]);
        size_t mem = (size_t)atol(argv[4]) << 20;
        once();
        if (argc == 7) grow_mappings(atoi(argv[6]));
        worker_start(&io_worker);
        worker_start(&vcpu_worker);
        printf("mappings %d\n", mapping_count());
        for (int i = 0; i < warmup + runs; i++) {
            struct vm v;
            long long c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = clock_ns(CLOCK_MONOTONIC);
            timing = i >= warmup;
            vm_create_devices(&v, mem, argv[5]);
            worker_hand(&io_worker, io_job, &v);
            worker_hand(&vcpu_worker, vcpu_job, &v);
            step("threads");
            worker_join(&vcpu_worker);
            long long t1 = clock_ns(CLOCK_MONOTONIC);
            if (i >= warmup) printf("create %lld %lld\n", t1 - t0, first_exit_cpu - c0);
            vm_close_devices(&v);
        }
        for (int i = 0; i < step_count; i++) printf("step %s\t%lld\n", steps[i].name, steps[i].ns);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "mem") == 0) {
        int count = atoi(argv[2]);
        size_t mem = (size_t)atol(argv[3]) << 20;
        if (count < 2 || count > MAX_VMS) {
            fprintf(stderr, "vm_runner: mem COUNT must be 2..%d\n", MAX_VMS);
            return 2;
        }
        static struct vm vms[MAX_VMS];
        once();
        for (int i = 0; i < count; i++) {
            vm_create(&vms[i], mem);
            if (pthread_create(&vms[i].thread, NULL, idle_vcpu, &vms[i]) != 0) die("pthread_create");
            if (i == 0 || i == count - 1) {
                settle();
                printf("mem %d %ld %ld\n", i + 1, rss_kb(), guest_resident_kb(vms, i + 1));
            }
        }
        fflush(stdout);
        _exit(0); /* the vCPU threads sit in HLT: end the process with them */
    }
    fprintf(stderr, "usage: vm_runner create WARMUP RUNS MEM_MIB [MAPPINGS] | vm_runner create-devices WARMUP RUNS MEM_MIB ELF"
                    " [MAPPINGS] | vm_runner mem COUNT MEM_MIB\n");
    return 2;
}
