/*
 * execfast: a native fast path for the monitor's execve notifications.
 *
 * One pthread (never touching Python) polls the container's seccomp listener fds.
 * A plain execve whose decision Python has cached with ef_remember() is answered
 * here; everything else is queued for Python (a SLOW record) and answered by Python
 * as before.  Every answered or queued notification gives one record, popped with
 * ef_next(); the eventfd from ef_event_fd() is readable while records are queued.
 *
 * Build:  gcc -O2 -Wall -Wextra -shared -fPIC -pthread -o _execfast.so execfast.c
 *         (-DEF_PROFILE prints the time of each step of a HANDLED exec to stderr)
 *
 * What is answered here (anything else, or any doubt, goes to Python):
 *   - execve (x86_64 59, i386 11, x32 0x40000000|520), absolute path, argv within
 *     the limits (path < 4096 bytes, <= 4095 args, each arg < 128 KiB, 256 KiB total);
 *   - the caller is a single-threaded thread-group leader and shares its memory with
 *     no other process of the container cgroup nor with its parent (vfork/posix_spawn
 *     children go to Python: another thread could rewrite the strings after we
 *     answered and before the kernel reads them again);
 *   - the path resolves (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS inside
 *     /proc/PID/root) to a regular file, linked, not deleted;
 *   - (path, argv, depth) was remembered with the same file identity
 *     (dev, ino, mtime, ctime, size, resolved path); a file that was remembered is
 *     known not to be a `#!` script (those are never offered to ef_remember: their
 *     SLOW record has fastpathable = 0);
 *   - SECCOMP_IOCTL_NOTIF_ID_VALID still holds after all the /proc reads.
 *
 * Costs on a fresh pid are dominated by the kernel instantiating /proc/PID entries
 * and the first access to the caller's mm; hence: path and argv array are read with
 * one process_vm_readv; ppid comes from a pidfd (PIDFD_GET_INFO, Linux 6.13+, else
 * /proc/PID/stat); ancestors' pidfds are cached for the depth walk (a pidfd names one
 * process, so a cached one is never fooled by pid reuse); the host path of a root
 * is cached by the root's (unique mount id, dev, ino).
 *
 * Record layout (little endian, natural alignment; mirrored in execfast.py):
 *
 *   off size
 *     0  u32  kind            1 HANDLED, 2 SLOW, 3 LISTENER_GONE
 *     4  u32  total_size      header + resolved_len + key_len
 *     8  u64  notif_id
 *    16  u32  pid             the calling thread, in the monitor's pid namespace
 *    20  i32  listener_fd
 *    24  u32  arch
 *    28  i32  nr
 *    32  u64  ip
 *    40  u64  args[6]
 *    88  u32  notif_flags
 *    92  i32  tag             HANDLED: the remembered tag
 *    96  i32  error           HANDLED: 0 continued, >0 failed with that errno
 *   100  u32  depth
 *   104  u64  latency_ns      HANDLED: from the RECV to just before the SEND ioctl
 *                             (the answer is then one ioctl away); SLOW: RECV to queue
 *   112  u32  fastpathable    SLOW: 1 if key + ident are valid for ef_remember
 *   116  u32  dropped         notifications failed with EPERM (queue full) since
 *                             the previous record
 *   120  u64  dev             ident (HANDLED, and SLOW with fastpathable)
 *   128  u64  ino
 *   136  i64  mtime_ns
 *   144  i64  ctime_ns
 *   152  i64  size
 *   160  u32  resolved_len
 *   164  u32  key_len
 *   168       resolved path bytes (container view, no NUL), then key bytes
 *
 * key = path "\0" argv[0] "\0" ... argv[n-1] "\0" u32-le depth
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/kcmp.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "native.h"
#include "openfast.h"

#define EF_NEED_DEPTH 1    /* compute the depth (else 0) */
#define EF_QUIET_HANDLED 2 /* HANDLED records do not make the eventfd readable */

#define EF_HANDLED 1
#define EF_SLOW 2
#define EF_LISTENER_GONE 3
#define EF_FILE_OPEN 4 /* a read-only open answered with a backing fd (openfast.c) */

#define PAGE 4096u
#define MAX_PATH 4096u           /* path strings: < 4096 bytes */
#define MAX_ARGC 4095u           /* as procmem.py: 4096 arguments is too many */
#define MAX_ARG_STR (128u << 10) /* one argument */
#define MAX_ARGS_BYTES (256u << 10)
#define MAX_RESOLVED 4096u
#define KEY_CAP (MAX_PATH + 1 + MAX_ARGS_BYTES + 4)

#define QUEUE_MAX_RECORDS 65536u
#define QUEUE_MAX_BYTES (64u << 20)
#define TABLE_MAX_ENTRIES 4096u
#define TABLE_MAX_BYTES (32u << 20)
#define TABLE_BUCKETS 8192u /* power of two */
#define NWIN 4              /* windows of the caller's memory */
#define ANC_MAX 64          /* cached ancestor pidfds */
#define NROOTS 4            /* cached root prefixes */

#define X32_BIT 0x40000000
#define CGROUP2_MAGIC 0x63677270

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif


struct ef_ident { /* as given to ef_remember: 48 bytes, then resolved_len bytes */
    uint64_t dev;
    uint64_t ino;
    int64_t mtime_ns;
    int64_t ctime_ns;
    int64_t size;
    uint32_t resolved_len;
    uint32_t pad_;
    unsigned char resolved[];
};

struct ef_rec_hdr {
    uint32_t kind;
    uint32_t total_size;
    uint64_t notif_id;
    uint32_t pid;
    int32_t listener_fd;
    uint32_t arch;
    int32_t nr;
    uint64_t ip;
    uint64_t args[6];
    uint32_t notif_flags;
    int32_t tag;
    int32_t error;
    uint32_t depth;
    uint64_t latency_ns;
    uint32_t fastpathable;
    uint32_t dropped;
    uint64_t dev;
    uint64_t ino;
    int64_t mtime_ns;
    int64_t ctime_ns;
    int64_t size;
    uint32_t resolved_len;
    uint32_t key_len;
};

_Static_assert(sizeof(struct ef_rec_hdr) == 168, "record header layout");
_Static_assert(offsetof(struct ef_rec_hdr, notif_flags) == 88, "record header layout");
_Static_assert(offsetof(struct ef_rec_hdr, latency_ns) == 104, "record header layout");
_Static_assert(offsetof(struct ef_rec_hdr, dev) == 120, "record header layout");
_Static_assert(offsetof(struct ef_rec_hdr, resolved_len) == 160, "record header layout");
_Static_assert(sizeof(struct ef_ident) == 48, "ident layout");

struct ident { /* the thread's view of a file */
    uint64_t dev, ino;
    int64_t mtime_ns, ctime_ns, size;
    uint32_t rlen;
    char resolved[MAX_RESOLVED + 1];
};

struct qrec {
    struct qrec *next;
    size_t size;
    unsigned char data[]; /* struct ef_rec_hdr + resolved + key */
};

struct ent {
    struct ent *next;
    uint64_t hash;
    size_t keylen;
    size_t bytes;
    uint64_t dev, ino;
    int64_t mtime_ns, ctime_ns, size;
    uint32_t rlen;
    int error, tag;
    unsigned char *resolved; /* points into data, after the key */
    unsigned char data[];    /* key, then resolved */
};

struct memwin { /* part of the caller's memory */
    uint64_t base;
    size_t len;
    unsigned char buf[2 * PAGE];
};

struct anc { /* a cached ancestor */
    long pid;
    int pidfd;
    int in_ns;
};

struct rootc { /* a cached root: its host path */
    uint64_t mnt_id, dev, ino;
    size_t len;
    char path[PATH_MAX];
};

struct ef {
    int flags;
    pid_t init_pid;
    uint64_t pidns_ino;
    int procfd, cgfd, evfd, wakefd;
    char *cgpath; /* cgroup v1: reopened on every read (an open v1 cgroup.procs caches) */
    size_t notif_size;
    int have_getinfo; /* PIDFD_GET_INFO works */

    pthread_t thread;
    pthread_mutex_t mu;
    /* under mu */
    int stop;
    struct qrec *qhead, *qtail;
    size_t qcount, qbytes;
    uint32_t dropped;
    int *pending;
    size_t npending, cappending;
    struct ent **buckets;
    size_t nent, tbytes;
    struct of *of_pending; /* set by ef_set_files, taken by the thread */
    volatile pid_t tid;    /* the thread's id, published at its start */
    int of_set;

    /* the thread's own */
    struct pollfd *pfds; /* [0] is wakefd */
    size_t npfds, cappfds;
    void *notif;
    unsigned char *key;
    size_t keylen;
    struct ident id;
    char *cgbuf;
    size_t cgcap;
    pid_t mempid;
    unsigned nextwin;
    struct memwin win[NWIN];
    struct anc anc[ANC_MAX];
    size_t nanc;
    struct rootc roots[NROOTS];
    unsigned nroots, nextroot;
    int deferred[8]; /* closed after the answer: close() is not free either */
    int ndeferred;
    char linkbuf[2 * PATH_MAX + 64];
    char rootbuf[PATH_MAX + 64];
    struct of *of; /* the open fast path, once configured */
    struct of_out ofout;
};

/* ------------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef EF_PROFILE
#include <stdio.h>
static uint64_t prof_t[24];
static const char *prof_n[24];
static int prof_i;
#define PROF(name)                                                                         \
    do {                                                                                   \
        if (prof_i < 24) {                                                                 \
            prof_n[prof_i] = name;                                                         \
            prof_t[prof_i++] = now_ns();                                                   \
        }                                                                                  \
    } while (0)
static void prof_dump(uint64_t t0)
{
    uint64_t prev = t0;
    for (int i = 0; i < prof_i; i++) {
        fprintf(stderr, "%s=%.1f ", prof_n[i], (double)(prof_t[i] - prev) / 1000.0);
        prev = prof_t[i];
    }
    fprintf(stderr, "total=%.1f\n", (double)(prev - t0) / 1000.0);
    prof_i = 0;
}
#else
#define PROF(name)                                                                         \
    do {                                                                                   \
    } while (0)
#define prof_dump(t0) ((void)(t0))
#endif

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void defer_close(struct ef *ef, int fd)
{
    if (ef->ndeferred < (int)(sizeof ef->deferred / sizeof ef->deferred[0]))
        ef->deferred[ef->ndeferred++] = fd;
    else
        close(fd);
}

static void flush_closes(struct ef *ef)
{
    while (ef->ndeferred > 0)
        close(ef->deferred[--ef->ndeferred]);
}

static void wake(int fd)
{
    uint64_t one = 1;
    ssize_t r;
    do {
        r = write(fd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
}

/* ---------------------------------- records ------------------------------------ */

/* A record: the header from the notification, then `resolved` and `key`. */
static struct qrec *rec_alloc(uint32_t kind, int listener, const struct seccomp_notif *n,
                              const char *resolved, size_t rlen, const void *key,
                              size_t keylen)
{
    size_t total = sizeof(struct ef_rec_hdr) + rlen + keylen;
    struct qrec *q = malloc(sizeof *q + total);
    if (!q)
        return NULL;
    q->next = NULL;
    q->size = total;
    struct ef_rec_hdr h;
    memset(&h, 0, sizeof h);
    h.kind = kind;
    h.total_size = (uint32_t)total;
    h.listener_fd = listener;
    if (n) {
        h.notif_id = n->id;
        h.pid = n->pid;
        h.notif_flags = n->flags;
        h.arch = n->data.arch;
        h.nr = n->data.nr;
        h.ip = n->data.instruction_pointer;
        for (int i = 0; i < 6; i++)
            h.args[i] = n->data.args[i];
    }
    h.resolved_len = (uint32_t)rlen;
    h.key_len = (uint32_t)keylen;
    memcpy(q->data, &h, sizeof h);
    if (rlen)
        memcpy(q->data + sizeof h, resolved, rlen);
    if (keylen)
        memcpy(q->data + sizeof h + rlen, key, keylen);
    return q;
}

static struct ef_rec_hdr *rec_hdr(struct qrec *q);

static struct qrec *rec_new(uint32_t kind, int listener, const struct seccomp_notif *n,
                            const struct ident *id, const unsigned char *key, size_t keylen)
{
    struct qrec *q = rec_alloc(kind, listener, n, id ? id->resolved : NULL,
                               id ? id->rlen : 0, key, keylen);
    if (q && id) {
        struct ef_rec_hdr *h = rec_hdr(q);
        h->dev = id->dev;
        h->ino = id->ino;
        h->mtime_ns = id->mtime_ns;
        h->ctime_ns = id->ctime_ns;
        h->size = id->size;
    }
    return q;
}

static struct ef_rec_hdr *rec_hdr(struct qrec *q)
{
    return (struct ef_rec_hdr *)(void *)q->data;
}

/* Append under ef->mu. Returns 0, or -1 if the queue is full (q not taken). */
static int queue_push_locked(struct ef *ef, struct qrec *q, int force)
{
    if (!force && (ef->qcount >= QUEUE_MAX_RECORDS || ef->qbytes + q->size > QUEUE_MAX_BYTES))
        return -1;
    rec_hdr(q)->dropped = ef->dropped;
    ef->dropped = 0;
    if (ef->qtail)
        ef->qtail->next = q;
    else
        ef->qhead = q;
    ef->qtail = q;
    ef->qcount++;
    ef->qbytes += q->size;
    return 0;
}

/* ------------------------------------ answers ---------------------------------- */

/* Queue a SLOW record; if the queue is full, fail the call closed (EPERM). */
static void queue_slow(struct ef *ef, int fd, const struct seccomp_notif *n, uint64_t t0,
                       int fastpathable, uint32_t depth)
{
    const struct ident *id = fastpathable ? &ef->id : NULL;
    struct qrec *q = rec_new(EF_SLOW, fd, n, id, fastpathable ? ef->key : NULL,
                             fastpathable ? ef->keylen : 0);
    if (q) {
        struct ef_rec_hdr *h = rec_hdr(q);
        h->fastpathable = (uint32_t)fastpathable;
        h->depth = depth;
        h->latency_ns = now_ns() - t0;
    }
    pthread_mutex_lock(&ef->mu);
    if (!q || queue_push_locked(ef, q, 0) < 0) {
        ef->dropped++;
        pthread_mutex_unlock(&ef->mu);
        free(q);
        notif_answer(fd, n->id, EPERM);
        return;
    }
    pthread_mutex_unlock(&ef->mu);
    wake(ef->evfd);
}

static void queue_gone(struct ef *ef, int fd)
{
    struct qrec *q = rec_new(EF_LISTENER_GONE, fd, NULL, NULL, NULL, 0);
    if (!q)
        return; /* out of memory: nothing better to do */
    pthread_mutex_lock(&ef->mu);
    queue_push_locked(ef, q, 1);
    pthread_mutex_unlock(&ef->mu);
    wake(ef->evfd);
}

/* ------------------------------- caller's memory ------------------------------- */

static void mem_reset(struct ef *ef, pid_t pid)
{
    ef->mempid = pid;
    ef->nextwin = 0;
    for (int i = 0; i < NWIN; i++)
        ef->win[i].len = 0;
}

/* The first read: the path's and the argv array's pages (to their ends), one syscall. */
static void mem_prime(struct ef *ef, uint64_t a, uint64_t b)
{
    struct memwin *wa = &ef->win[0], *wb = &ef->win[1];
    size_t la = PAGE - (size_t)(a % PAGE), lb = PAGE - (size_t)(b % PAGE);
    struct iovec local[2] = {{wa->buf, la}, {wb->buf, lb}};
    struct iovec remote[2] = {{(void *)(uintptr_t)a, la}, {(void *)(uintptr_t)b, lb}};
    ssize_t n = process_vm_readv(ef->mempid, local, b ? 2 : 1, remote, b ? 2 : 1, 0);
    ef->nextwin = 2;
    if (n <= 0)
        return;
    wa->base = a;
    wa->len = (size_t)n < la ? (size_t)n : la;
    if ((size_t)n > la) {
        wb->base = b;
        wb->len = (size_t)n - la;
    }
}

/* Pointer to `addr` in a window (read if needed), *avail bytes readable there. */
static const unsigned char *mem_at(struct ef *ef, uint64_t addr, size_t *avail)
{
    for (int i = 0; i < NWIN; i++) {
        struct memwin *w = &ef->win[i];
        if (w->len && addr >= w->base && addr - w->base < w->len) {
            *avail = (size_t)(w->base + w->len - addr);
            return w->buf + (addr - w->base);
        }
    }
    if (addr + 2 * PAGE < addr) /* wraps */
        return NULL;
    struct memwin *w = &ef->win[ef->nextwin++ % NWIN];
    size_t first = PAGE - (size_t)(addr % PAGE);
    struct iovec local = {w->buf, first + PAGE};
    struct iovec remote[2] = {{(void *)(uintptr_t)addr, first},
                              {(void *)(uintptr_t)(addr + first), PAGE}};
    ssize_t n = process_vm_readv(ef->mempid, &local, 1, remote, 2, 0);
    if (n <= 0) {
        w->len = 0;
        return NULL;
    }
    w->base = addr;
    w->len = (size_t)n;
    *avail = w->len;
    return w->buf;
}

/* Copy the NUL-terminated string at addr (without the NUL) to dst; < max bytes.
   Returns its length, or -1 (unreadable or too long). */
static long read_str(struct ef *ef, uint64_t addr, unsigned char *dst, size_t max)
{
    size_t got = 0;
    while (got < max) {
        size_t avail;
        const unsigned char *p = mem_at(ef, addr + got, &avail);
        if (!p)
            return -1;
        size_t take = avail < max - got ? avail : max - got;
        const unsigned char *nul = memchr(p, 0, take);
        if (nul) {
            size_t k = (size_t)(nul - p);
            memcpy(dst + got, p, k);
            return (long)(got + k);
        }
        memcpy(dst + got, p, take);
        got += take;
    }
    return -1;
}

static int read_ptr(struct ef *ef, uint64_t addr, int ptrsize, uint64_t *out)
{
    unsigned char b[8];
    size_t got = 0;
    while (got < (size_t)ptrsize) {
        size_t avail;
        const unsigned char *p = mem_at(ef, addr + got, &avail);
        if (!p)
            return -1;
        size_t take = avail < (size_t)ptrsize - got ? avail : (size_t)ptrsize - got;
        memcpy(b + got, p, take);
        got += take;
    }
    uint64_t v = 0;
    for (int i = ptrsize - 1; i >= 0; i--)
        v = (v << 8) | b[i];
    *out = v;
    return 0;
}

/* Read path + argv into ef->key (depth not yet appended). */
static int read_key(struct ef *ef, const struct seccomp_notif *n, int ptrsize)
{
    mem_reset(ef, (pid_t)n->pid);
    uint64_t path_ptr = n->data.args[0], argv_ptr = n->data.args[1];
    if (!path_ptr)
        return -1;
    mem_prime(ef, path_ptr, argv_ptr);
    long plen = read_str(ef, path_ptr, ef->key, MAX_PATH);
    if (plen <= 0 || ef->key[0] != '/')
        return -1; /* unreadable, too long, empty or relative: Python decides */
    size_t off = (size_t)plen;
    ef->key[off++] = '\0';
    size_t total = 0;
    if (argv_ptr) {
        for (size_t i = 0;; i++) {
            uint64_t p;
            if (read_ptr(ef, argv_ptr + i * (uint64_t)ptrsize, ptrsize, &p) < 0)
                return -1;
            if (!p)
                break;
            if (i >= MAX_ARGC)
                return -1;
            size_t room = MAX_ARGS_BYTES - total;
            if (room > MAX_ARG_STR)
                room = MAX_ARG_STR;
            long l = read_str(ef, p, ef->key + off, room);
            if (l < 0)
                return -1;
            total += (size_t)l + 1;
            if (total > MAX_ARGS_BYTES)
                return -1;
            off += (size_t)l;
            ef->key[off++] = '\0';
        }
    }
    ef->keylen = off;
    return 0;
}

/* ----------------------------------- processes ---------------------------------- */

/* ppid from /proc/PID/stat (the field after the last ')'), or -1; *threads if asked. */
static long stat_ppid(struct ef *ef, long pid, long *threads)
{
    char buf[1024];
    if (proc_read(ef->procfd, pid, "/stat", buf, sizeof buf) < 0)
        return -1;
    char *rp = strrchr(buf, ')');
    if (!rp || rp[1] != ' ' || !rp[2] || rp[3] != ' ')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(rp + 4, &end, 10);
    if (errno || end == rp + 4)
        return -1;
    if (threads) { /* field 20 (num_threads); we are at field 4 */
        char *p = end;
        for (int f = 4; f < 20 && p; f++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        *threads = p ? strtol(p, NULL, 10) : -1;
    }
    return v;
}

/* ppid of the process behind a pidfd, which must still be `pid`; -1 if not. */
static long pidfd_ppid(int pidfd, long pid)
{
    struct native_pidfd_info info;
    memset(&info, 0, sizeof info);
    info.mask = NATIVE_PIDFD_INFO_PID;
    if (ioctl(pidfd, NATIVE_PIDFD_GET_INFO, &info) < 0)
        return -1;
    if ((long)info.pid != pid)
        return -1;
    return (long)info.ppid;
}

/* The caller's ppid if it is a single-threaded thread-group leader, else -1. */
static long caller_ppid(struct ef *ef, long pid)
{
    char pp[64];
    struct stat st;
    if (!ef->have_getinfo) {
        long threads = -1;
        long ppid = stat_ppid(ef, pid, &threads);
        /* a non-leader thread: its group has more than one thread */
        return threads == 1 ? ppid : -1;
    }
    fmt_path(pp, sizeof pp, "", pid, "/task");
    if (fstatat(ef->procfd, pp, &st, 0) < 0 || st.st_nlink != 3)
        return -1; /* nlink = 2 + number of threads */
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pfd < 0)
        return -1; /* EINVAL: not a thread-group leader */
    long ppid = pidfd_ppid(pfd, pid);
    defer_close(ef, pfd);
    return ppid;
}

static int pidns_matches(struct ef *ef, long pid)
{
    char path[64];
    struct stat st;
    fmt_path(path, sizeof path, "", pid, "/ns/pid");
    if (fstatat(ef->procfd, path, &st, 0) < 0)
        return 0;
    return (uint64_t)st.st_ino == ef->pidns_ino;
}

static void anc_drop(struct ef *ef, size_t i)
{
    close(ef->anc[i].pidfd);
    ef->anc[i] = ef->anc[--ef->nanc];
}

/* An ancestor: is it in the container's pid namespace, and its ppid (*ppid).
   Returns 1 (in the namespace), 0 (not), -1 (gone). */
static int ancestor(struct ef *ef, long pid, long *ppid)
{
    if (!ef->have_getinfo) {
        *ppid = stat_ppid(ef, pid, NULL);
        if (*ppid < 0)
            return -1;
        return pidns_matches(ef, pid);
    }
    for (size_t i = 0; i < ef->nanc; i++) {
        if (ef->anc[i].pid != pid)
            continue;
        *ppid = pidfd_ppid(ef->anc[i].pidfd, pid);
        if (*ppid >= 0)
            return ef->anc[i].in_ns;
        anc_drop(ef, i); /* exited: the pid may be someone else's now */
        break;
    }
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pfd < 0)
        return -1;
    *ppid = pidfd_ppid(pfd, pid);
    int in_ns = pidns_matches(ef, pid);
    /* the pidfd proves that the namespace we looked at was this process's */
    if (*ppid < 0 || pidfd_ppid(pfd, pid) < 0) {
        close(pfd);
        return -1;
    }
    if (ef->nanc == ANC_MAX) {
        for (size_t i = ef->nanc; i-- > 0;) {
            long ignored = pidfd_ppid(ef->anc[i].pidfd, ef->anc[i].pid);
            if (ignored < 0)
                anc_drop(ef, i);
        }
        if (ef->nanc == ANC_MAX)
            anc_drop(ef, (size_t)(now_ns() % ANC_MAX));
    }
    ef->anc[ef->nanc].pid = pid;
    ef->anc[ef->nanc].pidfd = pfd;
    ef->anc[ef->nanc].in_ns = in_ns;
    ef->nanc++;
    return in_ns;
}

/* as execcheck.depth_of */
static uint32_t depth_of(struct ef *ef, long pid, long ppid0)
{
    uint32_t depth = 0;
    long cur = pid, parent = ppid0;
    while (cur != ef->init_pid && depth < 1024) {
        if (parent <= 1)
            break;
        long next;
        if (ancestor(ef, parent, &next) != 1)
            break;
        depth++;
        cur = parent;
        parent = next;
    }
    return depth;
}

static long kcmp_vm(long a, long b)
{
    return syscall(SYS_kcmp, (pid_t)a, (pid_t)b, KCMP_VM, 0UL, 0UL);
}

/* The whole cgroup.procs into ef->cgbuf, NUL-terminated. */
static int cg_read(struct ef *ef, int fd)
{
    size_t len = 0;
    for (;;) {
        if (ef->cgcap - len < 4096) {
            size_t ncap = ef->cgcap ? ef->cgcap * 2 : 65536;
            if (ncap > (64u << 20))
                return -1;
            char *nb = realloc(ef->cgbuf, ncap);
            if (!nb)
                return -1;
            ef->cgbuf = nb;
            ef->cgcap = ncap;
        }
        ssize_t n = pread(fd, ef->cgbuf + len, ef->cgcap - len - 1, (off_t)len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    ef->cgbuf[len] = '\0';
    return 0;
}

/* 1 if another process (parent, or one in the container cgroup) shares the caller's mm;
   -1 on doubt; 0 if not. */
static int mm_shared(struct ef *ef, long pid, long ppid)
{
    if (ppid > 0) {
        long r = kcmp_vm(pid, ppid);
        if (r == 0)
            return 1;
        if (r < 0)
            return -1;
    }
    if (ef->cgfd < 0 && !ef->cgpath)
        return 0;
    int fd = ef->cgfd;
    if (fd < 0) {
        fd = open(ef->cgpath, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
    }
    int ret = cg_read(ef, fd);
    if (fd != ef->cgfd)
        defer_close(ef, fd);
    if (ret < 0)
        return -1;
    char *p = ef->cgbuf;
    while (*p) {
        char *end;
        long q = strtol(p, &end, 10);
        if (end == p)
            return -1;
        p = end;
        while (*p == '\n')
            p++;
        if (q <= 0 || q == pid || q == ppid)
            continue;
        long r = kcmp_vm(pid, q);
        if (r == 0)
            return 1;
        if (r < 0 && errno != ESRCH)
            return -1;
    }
    return 0;
}

/* ------------------------------------- files ------------------------------------ */

/* Host path of the root at rootfd ("" for "/"), its length in *len; NULL if unknown.
   *cached: the index of the cache entry it came from, or -1. */
static const char *root_prefix(struct ef *ef, int rootfd, size_t *len, int *cached)
{
    *cached = -1;
    struct statx sx;
    int cacheable = 0;
    if (statx(rootfd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_INO | STATX_MNT_ID_UNIQUE,
              &sx) == 0 &&
        (sx.stx_mask & STATX_MNT_ID_UNIQUE) && (sx.stx_mask & STATX_INO)) {
        cacheable = 1;
        uint64_t dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
        for (unsigned i = 0; i < ef->nroots; i++) {
            struct rootc *r = &ef->roots[i];
            if (r->mnt_id == sx.stx_mnt_id && r->dev == dev && r->ino == sx.stx_ino) {
                *len = r->len;
                *cached = (int)i;
                return r->path;
            }
        }
    }
    char lp[64];
    fmt_path(lp, sizeof lp, "self/fd/", rootfd, "");
    ssize_t rl = readlinkat(ef->procfd, lp, ef->rootbuf, sizeof ef->rootbuf);
    if (rl <= 0 || (size_t)rl >= sizeof ef->rootbuf || ef->rootbuf[0] != '/')
        return NULL;
    if (rl == 1)
        rl = 0; /* root is "/": no prefix */
    ef->rootbuf[rl] = '\0';
    if (cacheable && (size_t)rl < PATH_MAX) {
        struct rootc *r = &ef->roots[ef->nextroot++ % NROOTS];
        if (ef->nroots < NROOTS)
            ef->nroots++;
        r->mnt_id = sx.stx_mnt_id;
        r->dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
        r->ino = sx.stx_ino;
        r->len = (size_t)rl;
        memcpy(r->path, ef->rootbuf, (size_t)rl + 1);
    }
    *len = (size_t)rl;
    return ef->rootbuf;
}

/* Open the program inside the caller's root; fill ef->id. Returns an O_PATH fd or -1. */
static int resolve(struct ef *ef, long pid, const char *path)
{
    char pp[64];
    fmt_path(pp, sizeof pp, "", pid, "/root");
    int rootfd = openat(ef->procfd, pp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return -1;
    PROF("root");
    size_t rl;
    int cached;
    const char *prefix = root_prefix(ef, rootfd, &rl, &cached);
    if (!prefix) {
        close(rootfd);
        return -1;
    }
    PROF("prefix");
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* O_PATH: opening a device node could have side effects; reopened for reading
       only when it is a regular file (see is_script) */
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    defer_close(ef, rootfd);
    if (fd < 0)
        return -1;
    PROF("openat2");
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink == 0)
        goto fail;
    char lp[64];
    fmt_path(lp, sizeof lp, "self/fd/", fd, "");
    ssize_t fl = readlinkat(ef->procfd, lp, ef->linkbuf, sizeof ef->linkbuf);
    if (fl <= 0 || (size_t)fl >= sizeof ef->linkbuf || ef->linkbuf[0] != '/')
        goto fail;
    PROF("readlink");
    static const char deleted[] = " (deleted)";
    if ((size_t)fl >= sizeof deleted - 1 &&
        memcmp(ef->linkbuf + fl - (sizeof deleted - 1), deleted, sizeof deleted - 1) == 0)
        goto fail;
    if (rl) {
        if ((size_t)fl <= rl || memcmp(ef->linkbuf, prefix, rl) != 0 || ef->linkbuf[rl] != '/') {
            if (cached >= 0) /* the root moved since: look its path up again next time */
                ef->roots[cached].mnt_id = 0;
            goto fail;
        }
    }
    size_t reslen = (size_t)fl - rl;
    if (reslen < 2 || reslen > MAX_RESOLVED)
        goto fail;
    memcpy(ef->id.resolved, ef->linkbuf + rl, reslen);
    ef->id.resolved[reslen] = '\0';
    ef->id.rlen = (uint32_t)reslen;
    ef->id.dev = (uint64_t)st.st_dev;
    ef->id.ino = (uint64_t)st.st_ino;
    ef->id.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    ef->id.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
    ef->id.size = (int64_t)st.st_size;
    return fd;
fail:
    close(fd);
    return -1;
}

/* 1 if the file (an O_PATH fd) starts with "#!", 0 if not, -1 if unreadable. */
static int is_script(struct ef *ef, int pathfd)
{
    char lp[64];
    fmt_path(lp, sizeof lp, "self/fd/", pathfd, "");
    int fd = openat(ef->procfd, lp, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    char b[2];
    ssize_t n;
    do {
        n = pread(fd, b, 2, 0);
    } while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return -1;
    return n == 2 && b[0] == '#' && b[1] == '!';
}

/* ------------------------------------ decide ----------------------------------- */

static struct ent *lookup_locked(struct ef *ef, uint64_t h, const unsigned char *key,
                                 size_t keylen)
{
    for (struct ent *e = ef->buckets[h & (TABLE_BUCKETS - 1)]; e; e = e->next)
        if (e->hash == h && e->keylen == keylen && memcmp(e->data, key, keylen) == 0)
            return e;
    return NULL;
}

static int ident_equal(const struct ent *e, const struct ident *id)
{
    return e->dev == id->dev && e->ino == id->ino && e->mtime_ns == id->mtime_ns &&
           e->ctime_ns == id->ctime_ns && e->size == id->size && e->rlen == id->rlen &&
           memcmp(e->resolved, id->resolved, id->rlen) == 0;
}

static int exec_ptr_size(uint32_t arch, int nr)
{
    if (arch == AUDIT_ARCH_X86_64 && nr == 59)
        return 8;
    if (arch == AUDIT_ARCH_I386 && nr == 11)
        return 4;
    if (arch == AUDIT_ARCH_X86_64 && nr == (X32_BIT | 520))
        return 4;
    return 0;
}

static void handle_exec(struct ef *ef, int fd, const struct seccomp_notif *n, int ptrsize,
                        uint64_t t0)
{
    long pid = (long)n->pid;
    uint32_t depth = 0;
    if (read_key(ef, n, ptrsize) < 0)
        goto slow;
    PROF("read");
    /* shared memory: another thread or process could swap the strings once answered */
    long ppid = caller_ppid(ef, pid);
    if (ppid < 0)
        goto slow;
    PROF("caller");
    if (mm_shared(ef, pid, ppid) != 0)
        goto slow;
    PROF("mm");
    if ((ef->flags & EF_NEED_DEPTH) && ef->init_pid > 0)
        depth = depth_of(ef, pid, ppid);
    PROF("depth");
    for (int i = 0; i < 4; i++)
        ef->key[ef->keylen++] = (unsigned char)(depth >> (8 * i));

    int pfd = resolve(ef, pid, (const char *)ef->key);
    if (pfd < 0)
        goto slow;

    uint64_t h = fnv1a(ef->key, ef->keylen);
    pthread_mutex_lock(&ef->mu);
    struct ent *e = lookup_locked(ef, h, ef->key, ef->keylen);
    int hit = e && ident_equal(e, &ef->id);
    int error = hit ? e->error : 0, tag = hit ? e->tag : 0;
    pthread_mutex_unlock(&ef->mu);

    if (!hit) {
        int s = is_script(ef, pfd);
        close(pfd);
        flush_closes(ef);
        queue_slow(ef, fd, n, t0, s == 0, depth);
        return;
    }
    defer_close(ef, pfd);
    PROF("lookup");

    /* everything read from /proc was about this very process only if the id still holds */
    uint64_t nid = n->id;
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &nid) < 0) {
        flush_closes(ef);
        return; /* gone (or its pid reused): nothing to answer */
    }
    PROF("idvalid");

    struct qrec *q = rec_new(EF_HANDLED, fd, n, &ef->id, ef->key, ef->keylen);
    if (q) {
        struct ef_rec_hdr *hd = rec_hdr(q);
        hd->tag = tag;
        hd->error = error;
        hd->depth = depth;
        hd->latency_ns = now_ns() - t0;
    }
    /* the record is queued before the answer; the eventfd is written after it (the
       woken caller often preempts this thread right in the SEND ioctl) */
    pthread_mutex_lock(&ef->mu);
    if (!q || queue_push_locked(ef, q, 0) < 0) {
        ef->dropped++;
        pthread_mutex_unlock(&ef->mu);
        free(q);
        notif_answer(fd, n->id, EPERM);
        flush_closes(ef);
        return;
    }
    pthread_mutex_unlock(&ef->mu);
    notif_answer(fd, n->id, error);
    PROF("answer");
    prof_dump(t0);
    flush_closes(ef);
    if (!(ef->flags & EF_QUIET_HANDLED))
        wake(ef->evfd);
    return;

slow:
    flush_closes(ef);
    queue_slow(ef, fd, n, t0, 0, depth);
}

/* An open notification: openfast answers it (CONTINUE or an fd); an open it answered
   with an fd that is to be logged gives a FILE_OPEN record: tag = rule (-1: the
   default for reads), error = the caller's new fd, depth = the open flags, resolved =
   the path as the container sees it, key = the caller's comm. */
static void handle_open(struct ef *ef, int fd, const struct seccomp_notif *n, uint64_t t0)
{
    struct of_out *o = &ef->ofout;
    int r = of_handle(ef->of, ef->procfd, fd, n, o);
    if (r == 2) {
        queue_slow(ef, fd, n, t0, 0, 0);
        return;
    }
    if (r != 1 || !o->log)
        return;
    struct qrec *q = rec_alloc(EF_FILE_OPEN, fd, n, o->path, o->rlen, o->comm,
                               strnlen(o->comm, sizeof o->comm));
    if (!q)
        return;
    struct ef_rec_hdr *h = rec_hdr(q);
    h->tag = o->rule;
    h->error = o->newfd;
    h->depth = o->flags;
    h->latency_ns = now_ns() - t0;
    pthread_mutex_lock(&ef->mu);
    if (queue_push_locked(ef, q, 0) < 0) {
        ef->dropped++;
        free(q);
    }
    pthread_mutex_unlock(&ef->mu);
}

/* One readable listener. Returns -1 if the listener is gone. */
static int on_listener(struct ef *ef, int fd)
{
    struct seccomp_notif *n = ef->notif;
    memset(n, 0, ef->notif_size);
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, n) < 0) {
        if (errno == ENOENT || errno == EINTR || errno == EAGAIN)
            return 0;
        return -1;
    }
    uint64_t t0 = now_ns();
    int ptrsize = exec_ptr_size(n->data.arch, n->data.nr);
    if (!ptrsize && of_is_open(n->data.arch, n->data.nr))
        handle_open(ef, fd, n, t0);
    else if (!ptrsize)
        queue_slow(ef, fd, n, t0, 0, 0);
    else
        handle_exec(ef, fd, n, ptrsize, t0);
    return 0;
}

/* ------------------------------------ thread ----------------------------------- */

static int pfds_add(struct ef *ef, int fd)
{
    if (ef->npfds == ef->cappfds) {
        size_t ncap = ef->cappfds ? ef->cappfds * 2 : 16;
        struct pollfd *np = realloc(ef->pfds, ncap * sizeof *np);
        if (!np)
            return -1;
        ef->pfds = np;
        ef->cappfds = ncap;
    }
    ef->pfds[ef->npfds].fd = fd;
    ef->pfds[ef->npfds].events = POLLIN;
    ef->pfds[ef->npfds].revents = 0;
    ef->npfds++;
    return 0;
}

static void *thread_main(void *arg)
{
    struct ef *ef = arg;
    __atomic_store_n(&ef->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    for (;;) {
        int r = poll(ef->pfds, (nfds_t)ef->npfds, -1);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ENOMEM)
                continue;
            break;
        }
        int changed = 0;
        for (size_t i = 1; i < ef->npfds; i++) {
            short rev = ef->pfds[i].revents;
            int fd = ef->pfds[i].fd;
            if (!rev || fd < 0)
                continue;
            int gone = 0;
            if (rev & POLLNVAL) {
                gone = 2; /* not open any more: do not close someone else's fd */
            } else if (rev & POLLIN) {
                gone = on_listener(ef, fd) < 0;
            } else if (rev & (POLLHUP | POLLERR)) {
                gone = 1;
            }
            if (gone) {
                if (gone == 1)
                    close(fd);
                ef->pfds[i].fd = -1;
                changed = 1;
                queue_gone(ef, fd);
            }
        }
        if (changed) {
            size_t j = 1;
            for (size_t i = 1; i < ef->npfds; i++)
                if (ef->pfds[i].fd >= 0)
                    ef->pfds[j++] = ef->pfds[i];
            ef->npfds = j;
        }
        if (ef->pfds[0].revents) {
            uint64_t v;
            while (read(ef->wakefd, &v, sizeof v) < 0 && errno == EINTR)
                ;
            pthread_mutex_lock(&ef->mu);
            int stop = ef->stop;
            struct of *old = NULL;
            if (ef->of_pending) {
                old = ef->of;
                ef->of = ef->of_pending;
                ef->of_pending = NULL;
            }
            size_t k = 0;
            if (!stop) {
                for (; k < ef->npending; k++)
                    if (pfds_add(ef, ef->pending[k]) < 0)
                        break;
                memmove(ef->pending, ef->pending + k, (ef->npending - k) * sizeof(int));
                ef->npending -= k;
            }
            pthread_mutex_unlock(&ef->mu);
            of_free(old);
            if (stop)
                break;
        }
    }
    return NULL;
}

/* ------------------------------------- API ------------------------------------- */

static void table_clear_locked(struct ef *ef)
{
    for (size_t b = 0; b < TABLE_BUCKETS; b++) {
        struct ent *e = ef->buckets[b];
        while (e) {
            struct ent *nx = e->next;
            free(e);
            e = nx;
        }
        ef->buckets[b] = NULL;
    }
    ef->nent = 0;
    ef->tbytes = 0;
}

static void ef_destroy(struct ef *ef)
{
    if (ef->procfd >= 0)
        close(ef->procfd);
    if (ef->cgfd >= 0)
        close(ef->cgfd);
    if (ef->evfd >= 0)
        close(ef->evfd);
    if (ef->wakefd >= 0)
        close(ef->wakefd);
    if (ef->buckets) {
        table_clear_locked(ef);
        free(ef->buckets);
    }
    struct qrec *q = ef->qhead;
    while (q) {
        struct qrec *nx = q->next;
        free(q);
        q = nx;
    }
    for (size_t i = 0; i < ef->npending; i++)
        close(ef->pending[i]);
    while (ef->nanc)
        anc_drop(ef, ef->nanc - 1);
    free(ef->pending);
    free(ef->pfds);
    free(ef->notif);
    free(ef->key);
    free(ef->cgbuf);
    free(ef->cgpath);
    of_free(ef->of);
    of_free(ef->of_pending);
    pthread_mutex_destroy(&ef->mu);
    free(ef);
}

static int probe_getinfo(void)
{
    int pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (pfd < 0)
        return 0;
    long pp = pidfd_ppid(pfd, (long)getpid());
    close(pfd);
    return pp == (long)getppid();
}

struct ef *ef_new(int flags, int init_pid, unsigned long long pidns_ino,
                  const char *cgroup_procs_path)
{
    if (flags & ~(EF_NEED_DEPTH | EF_QUIET_HANDLED)) {
        errno = EINVAL;
        return NULL;
    }
    struct ef *ef = calloc(1, sizeof *ef);
    if (!ef)
        return NULL;
    ef->flags = flags;
    ef->init_pid = init_pid;
    ef->pidns_ino = pidns_ino;
    ef->procfd = ef->cgfd = ef->evfd = ef->wakefd = -1;
    pthread_mutex_init(&ef->mu, NULL);
    int err = 0;

    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
        goto fail;
    ef->notif_size = sizes.seccomp_notif > sizeof(struct seccomp_notif)
                         ? sizes.seccomp_notif
                         : sizeof(struct seccomp_notif);
    ef->notif = calloc(1, ef->notif_size);
    ef->key = malloc(KEY_CAP);
    ef->buckets = calloc(TABLE_BUCKETS, sizeof *ef->buckets);
    if (!ef->notif || !ef->key || !ef->buckets)
        goto fail;
    ef->procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ef->procfd < 0)
        goto fail;
    if (cgroup_procs_path && cgroup_procs_path[0]) {
        ef->cgfd = open(cgroup_procs_path, O_RDONLY | O_CLOEXEC);
        if (ef->cgfd < 0)
            goto fail;
        struct statfs sfs;
        if (fstatfs(ef->cgfd, &sfs) < 0)
            goto fail;
        if (sfs.f_type != CGROUP2_MAGIC) {
            /* cgroup v1 keeps the pid list of an open cgroup.procs across reads */
            close(ef->cgfd);
            ef->cgfd = -1;
            ef->cgpath = strdup(cgroup_procs_path);
            if (!ef->cgpath)
                goto fail;
        }
    }
    ef->have_getinfo = probe_getinfo();
    ef->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ef->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ef->evfd < 0 || ef->wakefd < 0)
        goto fail;
    if (pfds_add(ef, ef->wakefd) < 0)
        goto fail;

    /* the thread takes no signals: they stay with the Python threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&ef->thread, NULL, thread_main, ef);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        errno = err;
        goto fail;
    }
    while (!__atomic_load_n(&ef->tid, __ATOMIC_ACQUIRE))
        sched_yield();
    return ef;
fail:
    err = errno ? errno : ENOMEM;
    ef_destroy(ef);
    errno = err;
    return NULL;
}

/* The native thread's id: file-system requests it makes (the open path's lookups)
   carry it, so that the FUSE server neither logs nor holds them. */
int ef_thread_tid(struct ef *ef)
{
    return (int)ef->tid;
}

int ef_event_fd(struct ef *ef)
{
    return ef->evfd;
}

int ef_add_listener(struct ef *ef, int fd)
{
    if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
        errno = EBADF;
        return -1;
    }
    pthread_mutex_lock(&ef->mu);
    if (ef->npending == ef->cappending) {
        size_t ncap = ef->cappending ? ef->cappending * 2 : 8;
        int *np = realloc(ef->pending, ncap * sizeof *np);
        if (!np) {
            pthread_mutex_unlock(&ef->mu);
            errno = ENOMEM;
            return -1;
        }
        ef->pending = np;
        ef->cappending = ncap;
    }
    ef->pending[ef->npending++] = fd;
    pthread_mutex_unlock(&ef->mu);
    wake(ef->wakefd);
    return 0;
}

/* Configure the open fast path (blob: openfast.c); the thread takes it at its next
   wake-up. 0, or -1 with errno (EINVAL: a bad blob). */
int ef_set_files(struct ef *ef, const void *blob, size_t len)
{
    struct of *o = of_new(blob, len);
    if (!o)
        return -1;
    pthread_mutex_lock(&ef->mu);
    struct of *old = ef->of_pending;
    ef->of_pending = o;
    pthread_mutex_unlock(&ef->mu);
    of_free(old);
    wake(ef->wakefd);
    return 0;
}

/* For tests of the compiled globs: the rule of_match gives `path` (-1: none), or -2
   with errno when the blob is bad. No thread involved. */
int ef_match_files(const void *blob, size_t len, const char *path, size_t plen)
{
    struct of *o = of_new(blob, len);
    if (!o)
        return -2;
    int r = of_match(o, path, plen);
    of_free(o);
    return r;
}

long ef_next(struct ef *ef, void *buf, size_t len)
{
    pthread_mutex_lock(&ef->mu);
    struct qrec *q = ef->qhead;
    if (!q) {
        pthread_mutex_unlock(&ef->mu);
        return 0;
    }
    if (len < q->size) {
        long need = (long)q->size;
        pthread_mutex_unlock(&ef->mu);
        return -need;
    }
    ef->qhead = q->next;
    if (!ef->qhead)
        ef->qtail = NULL;
    ef->qcount--;
    ef->qbytes -= q->size;
    pthread_mutex_unlock(&ef->mu);
    long size = (long)q->size;
    memcpy(buf, q->data, q->size);
    free(q);
    return size;
}

int ef_remember(struct ef *ef, const void *key, size_t keylen, const struct ef_ident *id,
                int error, int tag)
{
    if (!key || !id || keylen < 6 || keylen > KEY_CAP || id->resolved_len == 0 ||
        id->resolved_len > MAX_RESOLVED || error < 0 || error > 4095) {
        errno = EINVAL;
        return -1;
    }
    size_t bytes = sizeof(struct ent) + keylen + id->resolved_len;
    struct ent *e = malloc(bytes);
    if (!e) {
        errno = ENOMEM;
        return -1;
    }
    e->hash = fnv1a(key, keylen);
    e->keylen = keylen;
    e->bytes = bytes;
    e->dev = id->dev;
    e->ino = id->ino;
    e->mtime_ns = id->mtime_ns;
    e->ctime_ns = id->ctime_ns;
    e->size = id->size;
    e->rlen = id->resolved_len;
    e->error = error;
    e->tag = tag;
    memcpy(e->data, key, keylen);
    e->resolved = e->data + keylen;
    memcpy(e->resolved, id->resolved, id->resolved_len);

    pthread_mutex_lock(&ef->mu);
    struct ent **pp = &ef->buckets[e->hash & (TABLE_BUCKETS - 1)];
    for (; *pp; pp = &(*pp)->next) {
        struct ent *o = *pp;
        if (o->hash == e->hash && o->keylen == keylen && memcmp(o->data, key, keylen) == 0) {
            e->next = o->next;
            *pp = e;
            ef->tbytes += bytes - o->bytes;
            free(o);
            pthread_mutex_unlock(&ef->mu);
            return 0;
        }
    }
    if (ef->nent >= TABLE_MAX_ENTRIES || ef->tbytes + bytes > TABLE_MAX_BYTES)
        table_clear_locked(ef);
    pp = &ef->buckets[e->hash & (TABLE_BUCKETS - 1)];
    e->next = *pp;
    *pp = e;
    ef->nent++;
    ef->tbytes += bytes;
    pthread_mutex_unlock(&ef->mu);
    return 0;
}

void ef_free(struct ef *ef)
{
    if (!ef)
        return;
    pthread_mutex_lock(&ef->mu);
    ef->stop = 1;
    pthread_mutex_unlock(&ef->mu);
    wake(ef->wakefd);
    pthread_join(ef->thread, NULL);
    for (size_t i = 1; i < ef->npfds; i++)
        if (ef->pfds[i].fd >= 0)
            close(ef->pfds[i].fd);
    ef->npfds = 0;
    ef_destroy(ef);
}
