/*
 * openfast: the ADDFD open path of file_rules.
 *
 * Under file_rules the mediated subtrees are FUSE mounts served by the monitor, and the
 * FUSE mount stays the enforcement of record: every operation that reaches it is
 * decided there. This file only accelerates one case, the common one: a read-only open
 * of a regular file whose read the policy allows. The monitor's native thread gets the
 * open/openat/openat2 notification, resolves the path inside the caller's root under
 * the caller's credentials (openat2 RESOLVE_IN_ROOT, O_PATH: the walk goes through the
 * FUSE mount's lookups, so `stat` rules and search permissions apply), takes the
 * resolved file's path as the container sees it from the kernel (readlink of the O_PATH
 * fd), decides with the policy's globs compiled here, opens the very same inode in the
 * backing directory (again as the caller) and installs that fd in the caller with
 * SECCOMP_ADDFD_FLAG_SEND. Reads then go at the backing file system's speed.
 *
 * Everything else is answered CONTINUE, so the kernel performs the open itself and it
 * goes through FUSE: writes, creates, O_PATH, directories, anything not regular,
 * hardlinked files (st_nlink > 1: their other names are the FUSE server's to check),
 * paths outside the FUSE mount, decisions other than allow/audit, callers in another
 * user namespace, and every doubt (unreadable memory, raced renames, errors). A
 * CONTINUE can never widen access: the path the kernel then walks is checked by FUSE.
 * The decision is made on the file actually opened (the O_PATH fd's path), so a racing
 * thread that rewrites the path string or swaps a symlink only changes which file is
 * decided on, not whether the decision holds for what the caller gets.
 *
 * Kernel subtrees (/proc, /sys, /dev and mounts of kernel types; config flag
 * OF_FLAG_KERNEL): they are never FUSE-mediated, so their opens are decided by the
 * monitor (kernelopen.py), and then no open at all is answered CONTINUE (a racing
 * thread could rewrite the name into a denied kernel path before the kernel reads it
 * again): of_handle_kern walks every open's name as the caller, decides kernel-subtree
 * files with the read/write globs (anything else there: Python), answers a FUSE file's
 * read with the backing fd as above, and opens everything else itself through the
 * walked inode (openself.c), FUSE deciding on its own ops for the caller it is told of.
 * What it cannot place (procfs's `self`, magic links, other architectures, FIFOs that
 * wait, /dev/tty, creates in kernel subtrees, approvals) goes to Python (returns 2),
 * which opens through openself.c too. AGENTSH_OPEN_CONTINUE=1 keeps the old
 * behaviour below (CONTINUE), for comparisons only.
 *
 * Coherence: writes always go through FUSE; the monitor mounts FUSE without the
 * writeback cache when this path is on, so a write is in the backing file when the
 * write call returns and a backing-file read sees it.
 *
 * Configuration blob (little endian):
 *   u32 magic 'OFC1' (0x3143464f)   u32 flags (below)
 *   u64 fuse_dev                     u64 reserved (0)
 *   u32 nroots, then per root: u32 kind (0 native, 1 fuse, 2 kernel), u32 plen, prefix
 *       bytes, u32 blen, backing directory path bytes (fuse roots; opened here, O_PATH)
 *   flags: 1 log allowed opens, 2 kernel subtrees present, 4 no glob program,
 *          8 a second program (rules, instructions, starts) follows: the write rules
 *   u32 nrules, then per rule: u32 kind (0 anything else, 1 allow, 2 audit)
 *   u32 ninstr, then per instruction (40 bytes): u8 op, u8 byte, u16 0, i32 rule,
 *       u8 set[32] (a 256-bit byte set)
 *   u32 nstarts, then u32 start instruction of each glob
 * Glob programs (policy/globprog.py compiles them; one per alternative of a glob):
 *   BYTE b      one byte b, then next
 *   SET s       one byte in s, then next
 *   ONE s       one character: a byte < 0x80 in s or a lone 0x80-0xbf byte (then skip
 *               the CONT that follows), or a lead byte >= 0xc0 (then the CONT)
 *   CONT        any number of 0x80-0xbf bytes, then next
 *   STAR        any number of bytes but '/', then next
 *   DSTAR       any number of bytes, then next
 *   ACCEPT r    the whole text matched: rule r
 * That is exactly what policy/glob.py's RE2 translation accepts.
 */
#define _GNU_SOURCE
#include "openfast.h"

#include "native.h"
#include "openself.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef OF_PROFILE
#include <stdio.h>
#include <time.h>
static uint64_t pt[16];
static const char *pn[16];
static int pi_;
static uint64_t pnow(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#define OPROF(name) do { if (pi_ < 16) { pn[pi_] = name; pt[pi_++] = pnow(); } } while (0)
static void oprof_dump(void)
{
    FILE *f = fopen("/tmp/of_prof.txt", "a");
    if (f) {
        for (int i = 1; i < pi_; i++)
            fprintf(f, "%s=%.1f ", pn[i], (double)(pt[i] - pt[i - 1]) / 1000.0);
        fprintf(f, "\n");
        fclose(f);
    }
    pi_ = 0;
}
static void oprof_reset(void) { pi_ = 0; }
#else
#define OPROF(name) do { } while (0)
#define oprof_dump() do { } while (0)
#define oprof_reset() do { } while (0)
#endif

#define OF_MAGIC 0x3143464fu
#define OF_FLAG_LOG 1u
#define OF_FLAG_KERNEL 2u  /* kernel subtrees: opens this side cannot place go to Python */
#define OF_FLAG_NORULES 4u /* no glob program: no fast reads */
#define OF_FLAG_WRITES 8u  /* a second program follows: the write rules */

enum { OP_BYTE = 1, OP_SET, OP_ONE, OP_CONT, OP_STAR, OP_DSTAR, OP_ACCEPT };
enum { RULE_OTHER = 0, RULE_ALLOW = 1, RULE_AUDIT = 2 };
enum { ROOT_NATIVE = 0, ROOT_FUSE = 1, ROOT_KERNEL = 2 };

#define NR_OPEN_X86_64 2
#define NR_CREAT_X86_64 85
#define NR_OPENAT_X86_64 257
#define NR_OPENAT2 437 /* the same number on every architecture */
#define NR_OPEN_I386 5
#define NR_CREAT_I386 8
#define NR_OPENAT_I386 295
#define X32_BIT 0x40000000

/* O_TMPFILE's own bit (glibc's __O_TMPFILE includes O_DIRECTORY) */
#define TMPFILE_BIT 020000000
/* flags a read-only open may carry and still be answered here */
#define PASS_FLAGS (O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_LARGEFILE | O_NOFOLLOW | O_NOATIME | \
                    O_DIRECT | O_SYNC | O_DSYNC)

struct instr {
    uint8_t op, byte;
    int32_t rule;
    uint8_t set[32];
};

struct root {
    int kind;     /* ROOT_* */
    size_t plen;
    char *prefix; /* "/" or "/a/b" (no trailing slash) */
    int bfd;      /* fuse: O_PATH fd of the backing directory */
};

struct rootc { /* a caller root seen before: readlink of /proc/TID/root -> an O_PATH fd */
    char link[OF_MAX_PATH + 1];
    int fd;
};
#define NROOTS 4

struct prog { /* the globs of one operation's rules, and their matching scratch */
    size_t nrules;
    uint8_t *rule_kind;
    size_t ninstr;
    struct instr *prog;
    size_t nstarts;
    uint32_t *starts;
    uint32_t *mark, gen;
    uint32_t *cur, *nxt;
};

struct of {
    uint32_t flags;
    uint64_t fuse_dev, reserved;
    size_t nroots;
    struct root *roots;
    struct prog rd; /* reads */
    struct prog wr; /* writes (with OF_FLAG_WRITES): kernel subtrees' write opens */
    /* our own capabilities, restored after each open made as a caller */
    struct __user_cap_data_struct caps[2];
    struct os_self self; /* the same, for opens made fully as a caller (openself.c) */
    int open_continue;   /* AGENTSH_OPEN_CONTINUE=1: CONTINUE as before (comparisons) */
    int groups_cleared;
    struct rootc roots_c[NROOTS];
    unsigned nrc, nextrc;
    /* buffers */
    char pathbuf[OF_MAX_PATH + 1];
    char absbuf[2 * OF_MAX_PATH + 2];
    char linkbuf[2 * OF_MAX_PATH + 64];
    char rootbuf[OF_MAX_PATH + 64];
};

struct creds {
    uid_t fsuid;
    gid_t fsgid;
};



/* ---------------------------------- configuration ------------------------------ */

struct rd {
    const unsigned char *p;
    size_t left;
};

static int rd_u32(struct rd *r, uint32_t *v)
{
    if (r->left < 4)
        return -1;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    r->left -= 4;
    return 0;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
    uint32_t lo, hi;
    if (rd_u32(r, &lo) < 0 || rd_u32(r, &hi) < 0)
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

static char *rd_str(struct rd *r)
{
    uint32_t n;
    if (rd_u32(r, &n) < 0 || n > OF_MAX_PATH || r->left < n)
        return NULL;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    memcpy(s, r->p, n);
    s[n] = '\0';
    if (memchr(s, 0, n)) {
        free(s);
        return NULL;
    }
    r->p += n;
    r->left -= n;
    return s;
}

static void prog_free(struct prog *g)
{
    free(g->rule_kind);
    free(g->prog);
    free(g->starts);
    free(g->mark);
    free(g->cur);
    free(g->nxt);
}

void of_free(struct of *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nroots; i++) {
        free(o->roots[i].prefix);
        if (o->roots[i].bfd >= 0)
            close(o->roots[i].bfd);
    }
    free(o->roots);
    prog_free(&o->rd);
    prog_free(&o->wr);
    for (unsigned i = 0; i < o->nrc; i++)
        close(o->roots_c[i].fd);
    free(o);
}

static int prog_valid(const struct prog *o)
{
    for (size_t i = 0; i < o->ninstr; i++) {
        const struct instr *in = &o->prog[i];
        switch (in->op) {
        case OP_BYTE:
        case OP_SET:
        case OP_CONT:
        case OP_STAR:
        case OP_DSTAR:
            if (i + 1 >= o->ninstr)
                return 0;
            break;
        case OP_ONE:
            if (i + 2 >= o->ninstr || o->prog[i + 1].op != OP_CONT)
                return 0;
            break;
        case OP_ACCEPT:
            if (in->rule < 0 || (size_t)in->rule >= o->nrules)
                return 0;
            break;
        default:
            return 0;
        }
    }
    for (size_t i = 0; i < o->nstarts; i++)
        if (o->starts[i] >= o->ninstr)
            return 0;
    return 1;
}

/* One glob program (rules, instructions, starts) from the blob. */
static int prog_read(struct rd *r, struct prog *g)
{
    uint32_t n, v;
    if (rd_u32(r, &n) < 0 || n > 65536)
        return -1;
    g->nrules = n;
    g->rule_kind = calloc(n ? n : 1, 1);
    if (!g->rule_kind)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (rd_u32(r, &v) < 0 || v > RULE_AUDIT)
            return -1;
        g->rule_kind[i] = (uint8_t)v;
    }
    if (rd_u32(r, &n) < 0 || n > (1u << 20))
        return -1;
    g->ninstr = n;
    g->prog = calloc(n ? n : 1, sizeof *g->prog);
    g->mark = calloc(n ? n : 1, sizeof *g->mark);
    g->cur = calloc(n ? n : 1, sizeof *g->cur);
    g->nxt = calloc(n ? n : 1, sizeof *g->nxt);
    if (!g->prog || !g->mark || !g->cur || !g->nxt)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t head, rule;
        if (rd_u32(r, &head) < 0 || rd_u32(r, &rule) < 0 || r->left < 32)
            return -1;
        g->prog[i].op = (uint8_t)(head & 0xff);
        g->prog[i].byte = (uint8_t)(head >> 8 & 0xff);
        g->prog[i].rule = (int32_t)rule;
        memcpy(g->prog[i].set, r->p, 32);
        r->p += 32;
        r->left -= 32;
    }
    if (rd_u32(r, &n) < 0 || n > g->ninstr)
        return -1;
    g->nstarts = n;
    g->starts = calloc(n ? n : 1, sizeof *g->starts);
    if (!g->starts)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (rd_u32(r, &g->starts[i]) < 0)
            return -1;
    return prog_valid(g) ? 0 : -1;
}

struct of *of_new(const void *blob, size_t len)
{
    struct rd r = {blob, len};
    uint32_t magic, v, n;
    struct of *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    int err = EINVAL;
    if (rd_u32(&r, &magic) < 0 || magic != OF_MAGIC || rd_u32(&r, &o->flags) < 0 ||
        rd_u64(&r, &o->fuse_dev) < 0 || rd_u64(&r, &o->reserved) < 0 ||
        rd_u32(&r, &n) < 0 || n > 4096)
        goto fail;
    o->roots = calloc(n ? n : 1, sizeof *o->roots);
    if (!o->roots)
        goto nomem;
    for (uint32_t i = 0; i < n; i++) {
        struct root *rt = &o->roots[i];
        rt->bfd = -1;
        o->nroots = i + 1;
        if (rd_u32(&r, &v) < 0 || v > ROOT_KERNEL)
            goto fail;
        rt->kind = (int)v;
        rt->prefix = rd_str(&r);
        if (!rt->prefix || rt->prefix[0] != '/')
            goto fail;
        rt->plen = strlen(rt->prefix);
        if (rt->plen > 1 && rt->prefix[rt->plen - 1] == '/')
            goto fail;
        char *backing = rd_str(&r);
        if (!backing)
            goto fail;
        if (rt->kind == ROOT_FUSE) {
            rt->bfd = open(backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (rt->bfd < 0) {
                err = errno;
                free(backing);
                goto fail;
            }
        }
        free(backing);
    }
    if (prog_read(&r, &o->rd) < 0)
        goto fail;
    if ((o->flags & OF_FLAG_WRITES) && prog_read(&r, &o->wr) < 0)
        goto fail;
    if (r.left != 0)
        goto fail;
    /* our own credentials, to come back to after each open made as a caller */
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    if (syscall(SYS_capget, &hdr, o->caps) < 0 || os_self_init(&o->self) < 0) {
        err = errno;
        goto fail;
    }
    const char *oc = getenv("AGENTSH_OPEN_CONTINUE");
    o->open_continue = oc && strcmp(oc, "1") == 0;
    return o;
nomem:
    err = ENOMEM;
fail:
    of_free(o);
    errno = err;
    return NULL;
}

/* ------------------------------------ globs ------------------------------------ */

static inline int in_set(const uint8_t *set, unsigned b)
{
    return set[b >> 3] >> (b & 7) & 1;
}

/* Add state s (and what it reaches without a byte) to list l marked with gen. */
static void add_state(struct prog *o, uint32_t *l, size_t *nl, uint32_t s, uint32_t gen)
{
    for (;;) {
        if (o->mark[s] == gen)
            return;
        o->mark[s] = gen;
        l[(*nl)++] = s;
        uint8_t op = o->prog[s].op;
        if (op != OP_CONT && op != OP_STAR && op != OP_DSTAR)
            return;
        s++;
    }
}

static uint32_t next_gen(struct prog *o)
{
    if (++o->gen == 0) {
        memset(o->mark, 0, o->ninstr * sizeof *o->mark);
        o->gen = 1;
    }
    return o->gen;
}

static int prog_match(struct prog *o, const char *path, size_t len);

int of_match(struct of *of, const char *path, size_t len)
{
    return of ? prog_match(&of->rd, path, len) : -1;
}

static int prog_match(struct prog *o, const char *path, size_t len)
{
    if (!o->nstarts)
        return -1;
    const unsigned char *s = (const unsigned char *)path;
    size_t nc = 0, nn;
    uint32_t gen = next_gen(o);
    for (size_t i = 0; i < o->nstarts; i++)
        add_state(o, o->cur, &nc, o->starts[i], gen);
    for (size_t k = 0; k < len && nc; k++) {
        unsigned b = s[k];
        nn = 0;
        gen = next_gen(o);
        for (size_t j = 0; j < nc; j++) {
            uint32_t st = o->cur[j];
            const struct instr *in = &o->prog[st];
            switch (in->op) {
            case OP_BYTE:
                if (b == in->byte)
                    add_state(o, o->nxt, &nn, st + 1, gen);
                break;
            case OP_SET:
                if (in_set(in->set, b))
                    add_state(o, o->nxt, &nn, st + 1, gen);
                break;
            case OP_ONE:
                if (b >= 0xc0)
                    add_state(o, o->nxt, &nn, st + 1, gen);
                else if (b >= 0x80 || in_set(in->set, b))
                    add_state(o, o->nxt, &nn, st + 2, gen);
                break;
            case OP_CONT:
                if (b >= 0x80 && b < 0xc0)
                    add_state(o, o->nxt, &nn, st, gen);
                break;
            case OP_STAR:
                if (b != '/')
                    add_state(o, o->nxt, &nn, st, gen);
                break;
            case OP_DSTAR:
                add_state(o, o->nxt, &nn, st, gen);
                break;
            default: /* ACCEPT: the text goes on */
                break;
            }
        }
        uint32_t *t = o->cur;
        o->cur = o->nxt;
        o->nxt = t;
        nc = nn;
    }
    int best = -1;
    for (size_t j = 0; j < nc; j++) {
        const struct instr *in = &o->prog[o->cur[j]];
        if (in->op == OP_ACCEPT && (best < 0 || in->rule < best))
            best = in->rule;
    }
    return best;
}

/* ------------------------------------ callers ---------------------------------- */

int of_is_open(uint32_t arch, int nr)
{
    if (arch == AUDIT_ARCH_X86_64)
        return nr == NR_OPEN_X86_64 || nr == NR_OPENAT_X86_64 || nr == NR_OPENAT2 ||
               nr == NR_CREAT_X86_64 || nr == (X32_BIT | NR_OPEN_X86_64) ||
               nr == (X32_BIT | NR_OPENAT_X86_64) || nr == (X32_BIT | NR_OPENAT2) ||
               nr == (X32_BIT | NR_CREAT_X86_64);
    if (arch == AUDIT_ARCH_I386)
        return nr == NR_OPEN_I386 || nr == NR_OPENAT_I386 || nr == NR_OPENAT2 ||
               nr == NR_CREAT_I386;
    return 0;
}

/* The NUL-terminated string at addr in the caller, into dst (< cap bytes). */
static long read_cstr(pid_t pid, uint64_t addr, char *dst, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        uint64_t a = addr + got;
        size_t chunk = 4096 - (size_t)(a % 4096);
        if (chunk > cap - got)
            chunk = cap - got;
        struct iovec l = {dst + got, chunk}, rm = {(void *)(uintptr_t)a, chunk};
        ssize_t n = process_vm_readv(pid, &l, 1, &rm, 1, 0);
        if (n <= 0)
            return -1;
        char *nul = memchr(dst + got, 0, (size_t)n);
        if (nul)
            return (long)(nul - dst);
        got += (size_t)n;
    }
    return -1;
}

static int read_mem(pid_t pid, uint64_t addr, void *dst, size_t len)
{
    struct iovec l = {dst, len}, rm = {(void *)(uintptr_t)addr, len};
    return process_vm_readv(pid, &l, 1, &rm, 1, 0) == (ssize_t)len ? 0 : -1;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
/* CAP_CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID; LINUX_IMMUTABLE (9) */
#define FS_CAPS_LO ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 9))
#define FS_CAPS_HI (1u << (32 - 32)) /* CAP_MAC_OVERRIDE (32) */

/* The caller's file-system uid and gid (a pidfd of the thread: a reused tid is seen). */
static int read_ids(pid_t tid, struct creds *c)
{
    int pfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
    if (pfd < 0)
        return -1;
    struct native_pidfd_info info;
    memset(&info, 0, sizeof info);
    info.mask = NATIVE_PIDFD_INFO_PID | NATIVE_PIDFD_INFO_CREDS;
    int r = ioctl(pfd, NATIVE_PIDFD_GET_INFO, &info);
    close(pfd);
    if (r < 0 || !(info.mask & NATIVE_PIDFD_INFO_CREDS) || (pid_t)info.pid != tid)
        return -1;
    c->fsuid = (uid_t)info.fsuid;
    c->fsgid = (gid_t)info.fsgid;
    return 0;
}

static void read_comm(int procfd, pid_t tid, char *out, size_t cap)
{
    long n = proc_read(procfd, tid, "/comm", out, cap);
    if (n <= 0)
        out[0] = '\0';
    else if (out[n - 1] == '\n')
        out[n - 1] = '\0';
}

/* Become a lesser caller for file-system checks: its fs uid and gid, no supplementary
   groups (cleared once for this thread), no file-system capabilities. What opens this
   way the caller may open too (groups and capabilities only add rights); what does not
   goes to the kernel (CONTINUE), which checks with the caller's full credentials.
   Raw syscalls: they change this thread only (no glibc set*id broadcast). */
static int become(struct of *o, const struct creds *c)
{
    if (!o->groups_cleared) {
        if (syscall(SYS_setgroups, 0, NULL) < 0)
            return -1;
        o->groups_cleared = 1;
    }
    syscall(SYS_setfsgid, c->fsgid);
    syscall(SYS_setfsuid, c->fsuid);
    if ((gid_t)syscall(SYS_setfsgid, -1) != c->fsgid || (uid_t)syscall(SYS_setfsuid, -1) != c->fsuid)
        return -1;
    /* a non-zero fs uid drops the file-system capabilities by itself; fs uid 0 keeps
       them, so they go explicitly */
    if (c->fsuid == 0) {
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2];
        memcpy(d, o->caps, sizeof d);
        d[0].effective &= ~FS_CAPS_LO;
        d[1].effective &= ~FS_CAPS_HI;
        if (syscall(SYS_capset, &hdr, d) < 0)
            return -1;
    }
    return 0;
}

static void restore_self(struct of *o, const struct creds *c)
{
    if (c->fsuid == 0) {
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        syscall(SYS_capset, &hdr, o->caps);
    }
    syscall(SYS_setfsuid, 0); /* back to 0: the kernel raises the fs capabilities again */
    syscall(SYS_setfsgid, 0);
}

/* "/proc/self/fd/N" of our fd, as the caller's container sees it (prefix stripped). */
static long container_path(struct of *o, int procfd, const char *link, const char *prefix,
                           size_t plen, char *out, size_t cap)
{
    ssize_t n = readlinkat(procfd, link, o->linkbuf, sizeof o->linkbuf - 1);
    if (n <= 0 || (size_t)n >= sizeof o->linkbuf - 1 || o->linkbuf[0] != '/')
        return -1;
    o->linkbuf[n] = '\0';
    static const char deleted[] = " (deleted)";
    size_t dl = sizeof deleted - 1;
    if ((size_t)n >= dl && memcmp(o->linkbuf + n - dl, deleted, dl) == 0)
        return -1;
    const char *rest = o->linkbuf;
    size_t rl = (size_t)n;
    if (plen) {
        if (rl < plen || memcmp(rest, prefix, plen) != 0 || (rl > plen && rest[plen] != '/'))
            return -1;
        rest += plen;
        rl -= plen;
        if (rl == 0) {
            rest = "/";
            rl = 1;
        }
    }
    if (rl >= cap)
        return -1;
    memcpy(out, rest, rl);
    out[rl] = '\0';
    return (long)rl;
}

/* The root the container path falls in (longest prefix), or NULL. */
static const struct root *root_of(const struct of *o, const char *p, size_t len)
{
    const struct root *best = NULL;
    for (size_t i = 0; i < o->nroots; i++) {
        const struct root *r = &o->roots[i];
        int in = r->plen == 1 ? 1
                 : len >= r->plen && memcmp(p, r->prefix, r->plen) == 0 &&
                       (len == r->plen || p[r->plen] == '/');
        if (in && (!best || r->plen > best->plen))
            best = r;
    }
    return best;
}

/* The caller's root: an O_PATH fd (ours, cached: do not close) and the prefix its
   paths carry in our readlinks (the root's own path as we see it, "" for "/"). A root
   is known by that path; a new one is opened and checked to show the same path. */
static int caller_root(struct of *o, int procfd, pid_t tid, const char **prefix, size_t *plen)
{
    char pp[64];
    fmt_path(pp, sizeof pp, "", tid, "/root");
    ssize_t rl = readlinkat(procfd, pp, o->rootbuf, sizeof o->rootbuf - 1);
    if (rl <= 0 || (size_t)rl > OF_MAX_PATH || o->rootbuf[0] != '/')
        return -1;
    o->rootbuf[rl] = '\0';
    for (unsigned i = 0; i < o->nrc; i++) {
        if (strcmp(o->roots_c[i].link, o->rootbuf) == 0) {
            *prefix = o->roots_c[i].link;
            *plen = rl == 1 ? 0 : (size_t)rl;
            return o->roots_c[i].fd;
        }
    }
    int fd = openat(procfd, pp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char lp[64];
    fmt_path(lp, sizeof lp, "self/fd/", fd, "");
    ssize_t ml = readlinkat(procfd, lp, o->linkbuf, sizeof o->linkbuf - 1);
    if (ml != rl || memcmp(o->linkbuf, o->rootbuf, (size_t)rl) != 0) {
        close(fd); /* it changed root meanwhile */
        return -1;
    }
    struct rootc *c = &o->roots_c[o->nextrc++ % NROOTS];
    if (o->nrc < NROOTS)
        o->nrc++;
    else
        close(c->fd);
    memcpy(c->link, o->rootbuf, (size_t)rl + 1);
    c->fd = fd;
    *prefix = c->link;
    *plen = rl == 1 ? 0 : (size_t)rl;
    return fd;
}


/* The kind of rule the globs give an open of a file in a kernel subtree: a read or a
   write (*writes) of a file, decided by the read or write program (*rule: its index,
   -1 the default: reads allowed, writes not). RULE_OTHER for everything left to Python:
   lists, O_PATH, O_TMPFILE, other decisions, the default deny of writes. */
static int kernel_rule(struct of *o, uint64_t flags, mode_t mode, const char *path,
                       size_t len, int *rule, int *writes)
{
    *rule = -1;
    *writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    if ((flags & (O_PATH | TMPFILE_BIT)) || S_ISDIR(mode))
        return RULE_OTHER;
    struct prog *g = *writes ? ((o->flags & OF_FLAG_WRITES) ? &o->wr : NULL)
                             : ((o->flags & OF_FLAG_NORULES) ? NULL : &o->rd);
    if (!g)
        return RULE_OTHER;
    *rule = prog_match(g, path, len);
    if (*rule < 0)
        return *writes ? RULE_OTHER : RULE_ALLOW;
    return g->rule_kind[*rule];
}


/* The arguments of an x86_64 open-family call. -1: not one this side reads. */
static int parse_open(const struct seccomp_notif *n, pid_t tid, int *dirfd, uint64_t *pathp,
                      uint64_t *flags, uint64_t *mode)
{
    if (n->data.arch != AUDIT_ARCH_X86_64)
        return -1;
    switch (n->data.nr) {
    case NR_OPEN_X86_64:
        *dirfd = AT_FDCWD;
        *pathp = n->data.args[0];
        *flags = (uint32_t)n->data.args[1];
        *mode = (uint32_t)n->data.args[2];
        return 0;
    case NR_CREAT_X86_64:
        *dirfd = AT_FDCWD;
        *pathp = n->data.args[0];
        *flags = O_CREAT | O_WRONLY | O_TRUNC;
        *mode = (uint32_t)n->data.args[1];
        return 0;
    case NR_OPENAT_X86_64:
        *dirfd = (int)n->data.args[0];
        *pathp = n->data.args[1];
        *flags = (uint32_t)n->data.args[2];
        *mode = (uint32_t)n->data.args[3];
        return 0;
    case NR_OPENAT2: {
        struct open_how how;
        if (n->data.args[3] != sizeof how || read_mem(tid, n->data.args[2], &how, sizeof how) < 0 ||
            how.resolve != 0 || how.flags >> 32)
            return -1;
        *dirfd = (int)n->data.args[0];
        *pathp = n->data.args[1];
        *flags = how.flags;
        *mode = how.mode;
        return 0;
    }
    default:
        return -1;
    }
}

/* The name from the container's root: o->pathbuf itself, or o->absbuf built from the
   caller's cwd or dirfd. NULL when that is not a path of the container. */
static const char *container_name(struct of *o, int procfd, pid_t tid, int dirfd,
                                  const char *prefix, size_t rl, long plen)
{
    if (o->pathbuf[0] == '/')
        return o->pathbuf;
    char pp[64];
    if (dirfd == AT_FDCWD) {
        fmt_path(pp, sizeof pp, "", tid, "/cwd");
    } else if (dirfd >= 0) {
        char num[24];
        fmt_path(num, sizeof num, "", dirfd, "");
        fmt_path(pp, sizeof pp, "", tid, "/fd/");
        strncat(pp, num, sizeof pp - strlen(pp) - 1);
    } else {
        return NULL;
    }
    long sl = container_path(o, procfd, pp, prefix, rl, o->absbuf, OF_MAX_PATH + 1);
    if (sl < 0)
        return NULL;
    if (o->absbuf[sl - 1] != '/')
        o->absbuf[sl++] = '/';
    memcpy(o->absbuf + sl, o->pathbuf, (size_t)plen + 1);
    return o->absbuf;
}

/* Is `abs` missing (ENOENT is the answer)? Its deepest existing ancestor exists (on
   device `on_dev`, if not 0: a FUSE directory, whose own walk then fails or creates
   the name) and the component below it does not exist at all (not even a dangling
   symlink that could lead elsewhere). Procfs's `self` is no such case: it exists (for
   the caller) and is Python's to place. */
static int name_missing(struct of *o, int rootfd, const char *abs, uint64_t on_dev)
{
    size_t len = strlen(abs);
    if (len == 0 || len >= sizeof o->linkbuf)
        return 0;
    memcpy(o->linkbuf, abs, len + 1);
    char *buf = o->linkbuf;
    for (int level = 0; level < 64; level++) {
        char *cut = strrchr(buf, '/');
        if (!cut || cut[1] == '\0')
            return 0;
        char child[256];
        size_t cl = strlen(cut + 1);
        if (cl >= sizeof child || strcmp(cut + 1, ".") == 0 || strcmp(cut + 1, "..") == 0)
            return 0;
        memcpy(child, cut + 1, cl + 1);
        if (cut == buf)
            cut[1] = '\0';
        else
            *cut = '\0';
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        int dfd = (int)syscall(SYS_openat2, rootfd, buf[0] ? buf : "/", &how, sizeof how);
        if (dfd < 0) {
            if (errno != ENOENT || cut == buf)
                return 0;
            continue;
        }
        struct stat st;
        int ok = (!on_dev || (fstat(dfd, &st) == 0 && (uint64_t)st.st_dev == on_dev)) &&
                 fstatat(dfd, child, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
        close(dfd);
        return ok;
    }
    return 0;
}

/* Kernel subtrees enforced: every open is answered here with an fd or an errno, never
   CONTINUE (openself.c says why), or handed to Python (2). */
static int of_handle_kern(struct of *o, int procfd, int listener,
                          const struct seccomp_notif *n, struct of_out *out)
{
    pid_t tid = (pid_t)n->pid, me = (pid_t)syscall(SYS_gettid);
    int dirfd, pfd = -1, fd = -EACCES, ret = 0;
    uint64_t pathp, flags, mode;
    struct os_creds c;
    out->log = 0;
    if (parse_open(n, tid, &dirfd, &pathp, &flags, &mode) < 0)
        return 2;
    long plen = read_cstr(tid, pathp, o->pathbuf, OF_MAX_PATH);
    if (plen <= 0)
        return 2;
    const char *prefix;
    size_t rl;
    int rootfd = caller_root(o, procfd, tid, &prefix, &rl);
    if (rootfd < 0)
        return 2;
    const char *abs = container_name(o, procfd, tid, dirfd, prefix, rl, plen);
    if (!abs || os_read_creds(&o->self, procfd, tid, &c) < 0)
        return 2;
    os_acting_set(me, tid);
    /* a read of the caller's own /proc/PID entries: with our rights (a process may read
       its own entries whatever its dumpable flag; we are another process), checked
       below to have reached its own entry indeed */
    int own = os_reads_only(flags) && os_own_proc(abs, c.nstgid);
    if (!own && os_become(&o->self, &c) < 0) {
        ret = 2;
        goto done;
    }
    int nofollow = (flags & O_NOFOLLOW) || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    for (int i = 0; i < 4; i++) {
        pfd = (int)syscall(SYS_openat2, rootfd, abs, &how, sizeof how);
        if (pfd >= 0 || errno != EAGAIN)
            break;
    }
    if (own && pfd >= 0) {
        char op[64];
        fmt_path(op, sizeof op, "self/fd/", pfd, "");
        long ol = container_path(o, procfd, op, prefix, rl, out->path, sizeof out->path);
        if (ol < 1 || !os_own_proc(out->path, c.nstgid)) {
            ret = 2; /* it led elsewhere: Python walks it as the caller */
            goto done;
        }
    }
    if (pfd < 0) {
        int e = errno;
        if (e == ENOENT && (flags & O_CREAT) && !(flags & TMPFILE_BIT)) {
            /* a create: where the directory is decides whose it is */
            size_t al = strlen(abs);
            if (al >= sizeof o->linkbuf) {
                ret = 2;
                goto done;
            }
            memcpy(o->linkbuf, abs, al + 1);
            char *cut = strrchr(o->linkbuf, '/');
            if (!cut || !cut[1]) {
                ret = 2;
                goto done;
            }
            char name[256];
            if (strlen(cut + 1) >= sizeof name) {
                fd = -ENAMETOOLONG;
                goto answer;
            }
            strcpy(name, cut + 1);
            if (cut == o->linkbuf)
                cut[1] = '\0';
            else
                *cut = '\0';
            how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
            int dfd = (int)syscall(SYS_openat2, rootfd, o->linkbuf, &how, sizeof how);
            if (dfd < 0) {
                if (errno == ENOENT && name_missing(o, rootfd, abs, 0)) {
                    fd = -ENOENT;
                    goto answer;
                }
                if (errno == ELOOP || errno == ENOENT || errno == EAGAIN || errno == EDEADLK) {
                    ret = 2;
                    goto done;
                }
                fd = -errno;
                goto answer;
            }
            char pp[64];
            fmt_path(pp, sizeof pp, "self/fd/", dfd, "");
            long cl = container_path(o, procfd, pp, prefix, rl, out->path, sizeof out->path);
            const struct root *rt = cl > 0 ? root_of(o, out->path, (size_t)cl) : NULL;
            if (cl <= 0 || (rt && rt->kind == ROOT_KERNEL)) {
                close(dfd);
                ret = 2; /* a create in a kernel subtree: Python decides it */
                goto done;
            }
            fd = os_create_in(dfd, name, flags, mode);
            close(dfd);
            if (fd == OS_PYTHON || fd == -EDEADLK) {
                ret = 2;
                goto done;
            }
            goto answer;
        }
        if (e == ENOENT && name_missing(o, rootfd, abs, 0)) {
            fd = -ENOENT;
            goto answer;
        }
        if (e == ENOENT || e == ELOOP || e == EXDEV || e == EAGAIN || e == EDEADLK) {
            ret = 2; /* procfs's self, a magic link, a loop: Python walks it */
            goto done;
        }
        fd = -e;
        goto answer;
    }
    struct stat pst;
    if (fstat(pfd, &pst) < 0) {
        fd = -errno;
        goto answer;
    }
    char pp[64];
    fmt_path(pp, sizeof pp, "self/fd/", pfd, "");
    long cl = container_path(o, procfd, pp, prefix, rl, out->path, sizeof out->path);
    if (cl < 1) {
        ret = 2;
        goto done;
    }
    const struct root *rt = root_of(o, out->path, (size_t)cl);
    if (rt && rt->kind == ROOT_KERNEL) {
        int krule, writes;
        int kind = kernel_rule(o, flags, pst.st_mode, out->path, (size_t)cl, &krule, &writes);
        if (kind != RULE_ALLOW && kind != RULE_AUDIT) {
            ret = 2;
            goto done;
        }
        if ((o->flags & OF_FLAG_LOG) || kind == RULE_AUDIT) {
            out->log = 1;
            out->rule = krule;
            out->flags = (uint32_t)flags;
            out->rlen = (uint32_t)cl;
            out->newfd = writes ? -2 : -1;
        }
    } else if (rt && rt->kind == ROOT_FUSE && S_ISREG(pst.st_mode) && pst.st_nlink == 1 &&
               !(o->flags & OF_FLAG_NORULES) && (flags & O_ACCMODE) == O_RDONLY &&
               !(flags & ~(uint64_t)(PASS_FLAGS | O_ACCMODE))) {
        /* the fast read: the backing file itself, when the read rules allow it */
        int rule = prog_match(&o->rd, out->path, (size_t)cl);
        int kind = rule < 0 ? RULE_ALLOW : o->rd.rule_kind[rule];
        const char *rel = out->path + (rt->plen == 1 ? 1 : rt->plen + 1);
        if ((kind == RULE_ALLOW || kind == RULE_AUDIT) && *rel) {
            memset(&how, 0, sizeof how);
            how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY |
                        (flags & (PASS_FLAGS & ~(uint64_t)O_CLOEXEC));
            how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
            int bfd = (int)syscall(SYS_openat2, rt->bfd, rel, &how, sizeof how);
            struct stat bst;
            if (bfd >= 0 && fstat(bfd, &bst) == 0 && S_ISREG(bst.st_mode) && bst.st_nlink == 1) {
                fd = bfd;
                if ((o->flags & OF_FLAG_LOG) || kind == RULE_AUDIT) {
                    out->log = 1;
                    out->rule = rule;
                    out->flags = (uint32_t)flags;
                    out->rlen = (uint32_t)cl;
                    out->newfd = 0; /* set below */
                }
                goto answer;
            }
            if (bfd >= 0)
                close(bfd);
        }
    }
    fd = os_open_at(procfd, pfd, flags);
    if (fd == OS_PYTHON || fd == -EDEADLK) { /* EDEADLK: FUSE wants a person's answer */
        ret = 2;
        goto done;
    }
answer:
    os_restore(&o->self);
    os_acting_set(me, 0);
    if (pfd >= 0)
        close(pfd);
    if (fd >= 0) {
        int newfd = os_send_fd(listener, n->id, fd, flags);
        close(fd);
        if (newfd < 0) {
            out->log = 0;
            return errno == ENOENT ? -1 : 0;
        }
        if (out->log) {
            if (out->newfd == 0)
                out->newfd = newfd;
            read_comm(procfd, tid, out->comm, sizeof out->comm);
        }
        return out->log ? 1 : 0;
    }
    out->log = 0;
    return notif_answer(listener, n->id, -fd) < 0 && errno == ENOENT ? -1 : 0;
done:
    os_restore(&o->self);
    os_acting_set(me, 0);
    if (pfd >= 0)
        close(pfd);
    out->log = 0;
    return ret;
}

/* The fast read (a FUSE file answered with its backing fd, under the lesser
   credentials: cheap to learn, and what they open the caller may open), with the
   CONTINUE answers of the mode without kernel subtrees. With `fallback`, only the fast
   read: anything else returns 3 unanswered (of_handle_kern takes it). */
static int of_fast(struct of *o, int procfd, int listener, const struct seccomp_notif *n,
                   struct of_out *out, int fallback)
{
    int pfd = -1, bfd = -1, became = 0;
    uint64_t flags;
    int dirfd;
    uint64_t pathp;
    pid_t tid = (pid_t)n->pid;
    struct creds c;
    int kern = !fallback && o && (o->flags & OF_FLAG_KERNEL);

    OPROF("start");
    if (!o)
        goto cont;
    uint64_t mode;
    if (parse_open(n, tid, &dirfd, &pathp, &flags, &mode) < 0)
        goto other;
    /* the one case answered with an fd: a plain read-only open */
    int fast = !(o->flags & OF_FLAG_NORULES) && (flags & O_ACCMODE) == O_RDONLY &&
               !(flags & ~(uint64_t)(PASS_FLAGS | O_ACCMODE));
    if (!fast && !kern)
        goto cont;
    long plen = read_cstr(tid, pathp, o->pathbuf, OF_MAX_PATH);
    if (plen <= 0)
        goto other;

    OPROF("path");
    const char *prefix;
    size_t rl;
    int rootfd = caller_root(o, procfd, tid, &prefix, &rl);
    if (rootfd < 0)
        goto other;
    OPROF("root");
    const char *abs = container_name(o, procfd, tid, dirfd, prefix, rl, plen);
    if (!abs)
        goto other;
    char pp[64];
    if (read_ids(tid, &c) < 0)
        goto other;
    OPROF("ids");
    became = 1;
    if (become(o, &c) < 0)
        goto other;
    OPROF("become");
    struct open_how how;
    memset(&how, 0, sizeof how);
    int nofollow = (flags & O_NOFOLLOW) || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    how.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    pfd = (int)syscall(SYS_openat2, rootfd, abs, &how, sizeof how);
    if (pfd < 0) {
        /* a missing name: fine if the kernel will be in FUSE when it finds it missing;
           anything else (procfs's self, a magic link, a refused walk) is Python's */
        if (kern && errno == ENOENT && name_missing(o, rootfd, abs, o->fuse_dev))
            goto cont;
        goto other;
    }
    OPROF("opath");
    struct stat pst;
    if (fstat(pfd, &pst) < 0)
        goto other;
    if ((uint64_t)pst.st_dev != o->fuse_dev || !o->fuse_dev) {
        if (!kern)
            goto cont;
        /* not on FUSE: a native subtree of the plan (the kernel opens it), or a kernel
           subtree (decided here for an allowed read, else in Python) */
        fmt_path(pp, sizeof pp, "self/fd/", pfd, "");
        long cl = container_path(o, procfd, pp, prefix, rl, out->path, sizeof out->path);
        if (cl < 1)
            goto other;
        OPROF("kreadlink");
        const struct root *rt = root_of(o, out->path, (size_t)cl);
        if (!rt || rt->kind != ROOT_KERNEL)
            goto cont;
        int krule, writes;
        int kkind = kernel_rule(o, flags, pst.st_mode, out->path, (size_t)cl, &krule, &writes);
        if (kkind != RULE_ALLOW && kkind != RULE_AUDIT)
            goto other;
        if (!(o->flags & OF_FLAG_LOG) && kkind != RULE_AUDIT)
            goto cont;
        OPROF("kmatch");
        restore_self(o, &c);
        became = 0;
        close(pfd);
        pfd = -1;
        OPROF("krestore");
        if (notif_answer(listener, n->id, 0) < 0 && errno == ENOENT)
            return -1;
        OPROF("kanswer");
        read_comm(procfd, tid, out->comm, sizeof out->comm);
        OPROF("kcomm");
        oprof_dump();
        out->rule = krule;
        out->log = 1;
        out->newfd = writes ? -2 : -1;
        out->flags = (uint32_t)flags;
        out->rlen = (uint32_t)cl;
        return 1;
    }
    if (!fast || !S_ISREG(pst.st_mode) || pst.st_nlink != 1)
        goto cont;
    fmt_path(pp, sizeof pp, "self/fd/", pfd, "");
    long cl = container_path(o, procfd, pp, prefix, rl, out->path, sizeof out->path);
    if (cl < 2)
        goto cont;
    OPROF("readlink");
    const struct root *rt = root_of(o, out->path, (size_t)cl);
    if (!rt || rt->kind != ROOT_FUSE)
        goto cont;
    int rule = prog_match(&o->rd, out->path, (size_t)cl);
    int kind = rule < 0 ? RULE_ALLOW : o->rd.rule_kind[rule];
    if (kind != RULE_ALLOW && kind != RULE_AUDIT)
        goto cont;
    const char *rel = out->path + (rt->plen == 1 ? 1 : rt->plen + 1);
    if (!*rel)
        goto cont;
    memset(&how, 0, sizeof how);
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (flags & (PASS_FLAGS & ~(uint64_t)O_CLOEXEC));
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    OPROF("match");
    bfd = (int)syscall(SYS_openat2, rt->bfd, rel, &how, sizeof how);
    OPROF("bopen");
    restore_self(o, &c);
    OPROF("restore");
    became = 0;
    if (bfd < 0)
        goto cont;
    /* the FUSE server names backing files the same way (root N + the names below it),
       so this is the file the mount shows at that path; with one link, that path is its
       only name, the one decided on (node ids are synthetic across file systems, so the
       inode numbers cannot be compared) */
    struct stat bst;
    if (fstat(bfd, &bst) < 0 || !S_ISREG(bst.st_mode) || bst.st_nlink != 1)
        goto cont;

    uint64_t nid = n->id;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &nid) < 0)
        goto gone;
    int newfd = os_send_fd(listener, n->id, bfd, flags);
    if (newfd < 0) {
        if (errno == ENOENT)
            goto gone;
        goto done_none; /* answered with the error (EMFILE: what the open would say) */
    }
    OPROF("addfd");
    close(bfd);
    close(pfd);
    OPROF("close");
    oprof_dump();
    if (o->flags & OF_FLAG_LOG || kind == RULE_AUDIT)
        read_comm(procfd, tid, out->comm, sizeof out->comm);
    out->rule = rule;
    out->log = (o->flags & OF_FLAG_LOG) || kind == RULE_AUDIT;
    out->newfd = newfd;
    out->flags = (uint32_t)flags;
    out->rlen = (uint32_t)cl;
    return 1;

other:
    /* not placed here: with kernel subtrees, the monitor's Python side decides */
    if (kern) {
        if (became)
            restore_self(o, &c);
        if (pfd >= 0)
            close(pfd);
        oprof_reset();
        return 2;
    }
cont:
    if (became)
        restore_self(o, &c);
    if (bfd >= 0)
        close(bfd);
    if (pfd >= 0)
        close(pfd);
    oprof_reset();
    if (fallback)
        return 3;
    return notif_answer(listener, n->id, 0) < 0 && errno == ENOENT ? -1 : 0;
gone:
    if (bfd >= 0)
        close(bfd);
    if (pfd >= 0)
        close(pfd);
    oprof_reset();
    return -1;
done_none:
    close(bfd);
    close(pfd);
    oprof_reset();
    return 0;
}

int of_handle(struct of *o, int procfd, int listener, const struct seccomp_notif *n,
              struct of_out *out)
{
    if (o && (o->flags & OF_FLAG_KERNEL) && !o->open_continue) {
        int r = of_fast(o, procfd, listener, n, out, 1);
        return r != 3 ? r : of_handle_kern(o, procfd, listener, n, out);
    }
    return of_fast(o, procfd, listener, n, out, 0);
}
