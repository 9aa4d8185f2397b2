/*
 * openself: opening a file for a caller, as the caller, and handing it the fd.
 *
 * Why: answering an open notification with CONTINUE makes the kernel read the name
 * again from the caller's memory, which another thread of the caller may have rewritten
 * since the monitor read it. Once the policy denies something the kernel itself opens
 * (a kernel subtree: /proc, /sys, /dev), every CONTINUE is a way around that deny. So
 * the monitor opens the file itself: it walks the name it read (O_PATH, in the caller's
 * root), decides on what the walk found, opens exactly that inode again through
 * /proc/self/fd/N with the caller's flags (or creates the missing name in the directory
 * found), and installs the fd in the caller (SECCOMP_ADDFD_FLAG_SEND).
 *
 * As the caller: on this thread only (raw syscalls: no glibc set*id broadcast), its fs
 * uid and gid, its supplementary groups, its effective capabilities when it is in our
 * user namespace (none when it is in another: its capabilities count only there; what
 * that refuses is refused, never widened), its umask (this thread unshares its fs_struct
 * once). The kernel then applies its own checks (modes, ACLs, ptrace access for
 * /proc/PID files). Not the container's device cgroup: ours applies to the monitor, so
 * only the device nodes every container has (null, zero, full, random, urandom,
 * console, ptmx, pts) are opened here; any other device is refused (EACCES).
 * A FIFO opened without O_NONBLOCK waits for its other end in a thread of its own.
 */
#define _GNU_SOURCE
#include "openself.h"

#include "native.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* O_TMPFILE's own bit (glibc's __O_TMPFILE includes O_DIRECTORY) */
#define TMPFILE_BIT 020000000

int os_self_init(struct os_self *s)
{
    memset(s, 0, sizeof *s);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    if (syscall(SYS_capget, &hdr, s->caps) < 0)
        return -1;
    struct stat st;
    if (stat("/proc/self/ns/user", &st) < 0)
        return -1;
    s->userns_ino = (uint64_t)st.st_ino;
    return 0;
}

static const char *field(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? p + strlen(name) : NULL;
}

int os_read_creds(const struct os_self *s, int procfd, pid_t tid, struct os_creds *c)
{
    char path[64], buf[8192];
    if (proc_read(procfd, tid, "/status", buf, sizeof buf) < 0)
        return -1;
    const char *u = field(buf, "\nUmask:\t"), *uid = field(buf, "\nUid:\t"),
               *gid = field(buf, "\nGid:\t"), *grp = field(buf, "\nGroups:\t"),
               *cap = field(buf, "\nCapEff:\t");
    if (!u || !uid || !gid || !grp || !cap)
        return -1;
    char *e;
    c->umask = (mode_t)strtoul(u, &e, 8);
    unsigned long v[4];
    for (int k = 0; k < 2; k++) {
        const char *p = k ? gid : uid;
        for (int i = 0; i < 4; i++) {
            v[i] = strtoul(p, &e, 10);
            if (e == p)
                return -1;
            p = e;
        }
        if (k) {
            c->gid = (gid_t)v[0];
            c->egid = (gid_t)v[1];
            c->fsgid = (gid_t)v[3];
        } else {
            c->uid = (uid_t)v[0];
            c->euid = (uid_t)v[1];
            c->fsuid = (uid_t)v[3];
        }
    }
    c->ngroups = 0;
    const char *p = grp;
    while (*p && *p != '\n') {
        unsigned long g = strtoul(p, &e, 10);
        if (e == p)
            break;
        if (c->ngroups >= OS_MAX_GROUPS)
            return -1;
        c->groups[c->ngroups++] = (gid_t)g;
        p = e;
        while (*p == ' ')
            p++;
    }
    c->nstgid = 0;
    const char *ns = field(buf, "\nNStgid:\t");
    while (ns && *ns && *ns != '\n') {
        unsigned long v1 = strtoul(ns, &e, 10);
        if (e == ns)
            break;
        c->nstgid = (pid_t)v1;
        ns = e;
        while (*ns == ' ' || *ns == '\t')
            ns++;
    }
    unsigned long long ce = strtoull(cap, &e, 16);
    fmt_path(path, sizeof path, "", tid, "/ns/user");
    struct stat st;
    if (fstatat(procfd, path, &st, 0) < 0)
        return -1;
    if ((uint64_t)st.st_ino != s->userns_ino)
        ce = 0; /* its capabilities are for its own namespace */
    c->cap_lo = (uint32_t)ce;
    c->cap_hi = (uint32_t)(ce >> 32);
    return 0;
}

int os_become(struct os_self *s, const struct os_creds *c)
{
    if (!s->fs_private) {
        if (unshare(CLONE_FS) < 0)
            return -1;
        s->fs_private = 1;
    }
    umask(c->umask);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memcpy(d, s->caps, sizeof d);
    /* real and effective ids too, not only the fs ids: what the kernel records of the
       opener (f_cred) is checked later by some files (/proc/PID/uid_map, setgroups).
       The saved ids stay 0, so this thread can come back (its permitted capabilities
       are kept; effective ones go with a non-zero euid and are set below) */
    if (syscall(SYS_setgroups, c->ngroups, c->groups) < 0 ||
        syscall(SYS_setresgid, c->gid, c->egid, 0) < 0 ||
        syscall(SYS_setresuid, c->uid, c->euid, 0) < 0)
        return -1;
    if (syscall(SYS_capset, &hdr, d) < 0) /* effective = permitted, to set the fs ids */
        return -1;
    syscall(SYS_setfsgid, c->fsgid);
    syscall(SYS_setfsuid, c->fsuid);
    if ((gid_t)syscall(SYS_setfsgid, -1) != c->fsgid || (uid_t)syscall(SYS_setfsuid, -1) != c->fsuid)
        return -1;
    d[0].effective = c->cap_lo & d[0].permitted;
    d[1].effective = c->cap_hi & d[1].permitted;
    return syscall(SYS_capset, &hdr, d) < 0 ? -1 : 0;
}

void os_restore(struct os_self *s)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    syscall(SYS_setresuid, 0, 0, 0); /* allowed: the saved uid is 0 */
    syscall(SYS_capset, &hdr, s->caps);
    syscall(SYS_setresgid, 0, 0, 0);
    syscall(SYS_setfsuid, 0);
    syscall(SYS_setfsgid, 0);
    syscall(SYS_setgroups, 0, NULL);
    umask(022);
}

/* The character devices of every container (runtime-spec "Default Devices"). */
int os_common_device(dev_t rdev)
{
    unsigned ma = major(rdev), mi = minor(rdev);
    if (ma == 1)
        return mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9; /* null zero full random urandom */
    if (ma == 5)
        return mi == 1 || mi == 2; /* console, ptmx */
    return ma >= 136 && ma <= 143; /* pts */
}

int os_open_at(int procfd, int pfd, uint64_t flags)
{
    struct stat st;
    if (fstat(pfd, &st) < 0)
        return -errno;
    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        return -EEXIST;
    if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (flags & O_PATH) {
        int d = fcntl(pfd, F_DUPFD_CLOEXEC, 0);
        return d < 0 ? -errno : d;
    }
    if (S_ISLNK(st.st_mode))
        return -ELOOP; /* O_NOFOLLOW on a symlink */
    if (flags & TMPFILE_BIT) {
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
        return OS_PYTHON;
    }
    if (S_ISDIR(st.st_mode) && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT)))
        return -EISDIR;
    if (S_ISFIFO(st.st_mode) && !(flags & O_NONBLOCK))
        return OS_PYTHON; /* it would wait for the other end here */
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(5, 0))
        return OS_PYTHON; /* /dev/tty: the opener's own terminal, not ours */
    if ((S_ISCHR(st.st_mode) && !os_common_device(st.st_rdev)) || S_ISBLK(st.st_mode))
        return -EACCES;
    char path[64];
    fmt_path(path, sizeof path, "self/fd/", pfd, "");
    int fd = openat(procfd, path,
                    (int)((flags & ~(uint64_t)(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_NOCTTY |
                          O_CLOEXEC));
    return fd < 0 ? -errno : fd;
}

int os_own_proc(const char *cpath, pid_t nstgid)
{
    if (nstgid <= 0 || strncmp(cpath, "/proc/", 6) != 0)
        return 0;
    char *e;
    unsigned long v = strtoul(cpath + 6, &e, 10);
    return e != cpath + 6 && (pid_t)v == nstgid && (*e == '\0' || *e == '/');
}

int os_reads_only(uint64_t flags)
{
    return (flags & O_ACCMODE) == O_RDONLY && !(flags & (O_TRUNC | O_CREAT | TMPFILE_BIT));
}

int os_create_in(int dfd, const char *name, uint64_t flags, uint64_t mode)
{
    int fd = openat(dfd, name, (int)(flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC), (mode_t)mode);
    if (fd >= 0)
        return fd;
    int e = errno;
    if (e == ELOOP && !(flags & O_NOFOLLOW) &&
        (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL))
        return OS_PYTHON; /* a symlink the kernel would follow */
    return -e;
}

int os_send_fd(int listener, uint64_t id, int fd, uint64_t flags)
{
    struct seccomp_notif_addfd add;
    memset(&add, 0, sizeof add);
    add.id = id;
    add.flags = SECCOMP_ADDFD_FLAG_SEND;
    add.srcfd = (uint32_t)fd;
    add.newfd_flags = (uint32_t)(flags & O_CLOEXEC);
    int newfd;
    do {
        newfd = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    } while (newfd < 0 && errno == EINTR);
    if (newfd < 0 && errno != ENOENT) {
        int e = errno; /* EMFILE and the like: what the open would have failed with */
        notif_answer(listener, id, e);
        errno = e;
    }
    return newfd;
}

/* ------------------------------ who the monitor acts for ------------------------------ */

/* While a thread of ours opens for a caller, the FUSE server attributes that thread's
   requests to the caller (its events, its decisions). */
#define ACTING_MAX 64
static struct {
    pid_t worker, caller;
} acting[ACTING_MAX];
static pthread_mutex_t acting_mu = PTHREAD_MUTEX_INITIALIZER;

void os_acting_set(pid_t worker, pid_t caller)
{
    pthread_mutex_lock(&acting_mu);
    int free_slot = -1;
    for (int i = 0; i < ACTING_MAX; i++) {
        if (acting[i].worker == worker) {
            acting[i].caller = caller;
            if (!caller)
                acting[i].worker = 0;
            pthread_mutex_unlock(&acting_mu);
            return;
        }
        if (free_slot < 0 && !acting[i].worker)
            free_slot = i;
    }
    if (caller && free_slot >= 0) {
        acting[free_slot].worker = worker;
        acting[free_slot].caller = caller;
    }
    pthread_mutex_unlock(&acting_mu);
}

int ef_acting_for(int worker)
{
    int caller = 0;
    pthread_mutex_lock(&acting_mu);
    for (int i = 0; i < ACTING_MAX; i++)
        if (acting[i].worker == worker) {
            caller = acting[i].caller;
            break;
        }
    pthread_mutex_unlock(&acting_mu);
    return caller;
}

int ef_acted_for(int caller)
{
    int yes = 0;
    pthread_mutex_lock(&acting_mu);
    for (int i = 0; i < ACTING_MAX && !yes; i++)
        yes = acting[i].worker && acting[i].caller == caller;
    pthread_mutex_unlock(&acting_mu);
    return yes;
}

/* ------------------------------ opens Python asks for ------------------------------ */

/* The caller's controlling terminal as a path in its root ("/dev/pts/N", "/dev/console"),
   or NULL (none: ENXIO, as the kernel says). */
static const char *ctty_path(int procfd, pid_t tid, char *out, size_t cap)
{
    char buf[1024];
    if (proc_read(procfd, tid, "/stat", buf, sizeof buf) < 0)
        return NULL;
    char *p = strrchr(buf, ')');
    if (!p)
        return NULL;
    long v[5];
    char *e;
    p += 2; /* past ") " and the state */
    p = strchr(p, ' ');
    for (int i = 0; p && i < 4; i++) { /* ppid pgrp session tty_nr */
        v[i] = strtol(p, &e, 10);
        p = e;
    }
    unsigned long tty = (unsigned long)v[3];
    unsigned ma = (tty >> 8) & 0xfff, mi = (tty & 0xff) | ((tty >> 12) & 0xfff00);
    if (ma >= 136 && ma <= 143) {
        char num[24];
        fmt_path(num, sizeof num, "", (long)((ma - 136) * 256 + mi), "");
        size_t l = strlen(num);
        if (l + 10 >= cap)
            return NULL;
        memcpy(out, "/dev/pts/", 9);
        memcpy(out + 9, num, l + 1);
        return out;
    }
    if (ma == 5 && mi == 1)
        return "/dev/console";
    return NULL;
}

static int walk_opath(int rootfd, const char *path, int nofollow, int dir)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0) | (dir ? O_DIRECTORY : 0);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    int fd;
    for (int i = 0; i < 4; i++) {
        fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN)
            break;
    }
    return fd;
}

/* Create a missing name (container path `abs`) for the caller: follows a dangling
   symlink as the kernel would (40 at most). fd or -errno. */
static int create_path(int rootfd, const char *abs, uint64_t flags, uint64_t mode)
{
    char cur[OS_PATH_MAX + 1], link[OS_PATH_MAX + 1];
    size_t len = strlen(abs);
    if (len > OS_PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(cur, abs, len + 1);
    for (int hop = 0; hop < 40; hop++) {
        char *cut = strrchr(cur, '/');
        if (!cut || !cut[1])
            return -EISDIR;
        char name[256];
        size_t nl = strlen(cut + 1);
        if (nl >= sizeof name)
            return -ENAMETOOLONG;
        memcpy(name, cut + 1, nl + 1);
        if (cut == cur)
            cut[1] = '\0';
        else
            *cut = '\0';
        int dfd = walk_opath(rootfd, cur, 0, 1);
        if (dfd < 0)
            return -errno;
        int fd = os_create_in(dfd, name, flags, mode);
        if (fd != OS_PYTHON) {
            close(dfd);
            return fd;
        }
        ssize_t ll = readlinkat(dfd, name, link, sizeof link - 1);
        close(dfd);
        if (ll <= 0)
            return -ELOOP;
        link[ll] = '\0';
        if (link[0] == '/') {
            memcpy(cur, link, (size_t)ll + 1);
        } else {
            size_t cl = strlen(cur);
            if (cl + 1 + (size_t)ll > OS_PATH_MAX)
                return -ENAMETOOLONG;
            if (cur[cl - 1] != '/')
                cur[cl++] = '/';
            memcpy(cur + cl, link, (size_t)ll + 1);
        }
    }
    return -ELOOP;
}

/* Open for the caller, everything allowed: a blocking FIFO waits, /dev/tty is the
   caller's terminal, O_TMPFILE is made in the directory. fd or -errno. */
static int open_fully(int procfd, int rootfd, pid_t tid, int pfd, uint64_t flags,
                      uint64_t mode)
{
    int fd = os_open_at(procfd, pfd, flags);
    if (fd != OS_PYTHON)
        return fd;
    struct stat st;
    if (fstat(pfd, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode)) { /* O_TMPFILE */
        fd = openat(pfd, ".", (int)(flags | O_CLOEXEC), (mode_t)mode);
        return fd < 0 ? -errno : fd;
    }
    if (S_ISCHR(st.st_mode)) { /* /dev/tty */
        char buf[64];
        const char *tty = rootfd >= 0 ? ctty_path(procfd, tid, buf, sizeof buf) : NULL;
        if (!tty)
            return -ENXIO;
        int tfd = walk_opath(rootfd, tty, 0, 0);
        if (tfd < 0)
            return -ENXIO;
        struct stat ts;
        if (fstat(tfd, &ts) < 0 || !S_ISCHR(ts.st_mode) || !os_common_device(ts.st_rdev)) {
            close(tfd);
            return -ENXIO;
        }
        fd = os_open_at(procfd, tfd, flags);
        close(tfd);
        return fd;
    }
    char path[64]; /* a FIFO: wait for the other end (we are in a thread of our own) */
    fmt_path(path, sizeof path, "self/fd/", pfd, "");
    fd = openat(procfd, path, (int)((flags & ~(uint64_t)(O_CREAT | O_EXCL | O_NOFOLLOW)) |
                                    O_NOCTTY | O_CLOEXEC));
    return fd < 0 ? -errno : fd;
}

/* Did the walk reach the caller's own /proc/PID entry? (its path as the container sees
   it: ours with the caller's root stripped) */
static int reaches_own(int procfd, pid_t tid, int pfd, pid_t nstgid)
{
    char lp[64], root[OS_PATH_MAX + 1], got[OS_PATH_MAX + 1];
    fmt_path(lp, sizeof lp, "", tid, "/root");
    ssize_t rl = readlinkat(procfd, lp, root, sizeof root - 1);
    fmt_path(lp, sizeof lp, "self/fd/", pfd, "");
    ssize_t gl = readlinkat(procfd, lp, got, sizeof got - 1);
    if (rl <= 0 || gl <= 0)
        return 0;
    root[rl] = got[gl] = '\0';
    size_t pl = (rl == 1) ? 0 : (size_t)rl;
    if ((size_t)gl < pl || memcmp(got, root, pl) != 0)
        return 0;
    return os_own_proc(got + pl, nstgid);
}

int ef_open_for(int listener, uint64_t id, int tid, const char *path, int host,
                uint64_t flags, uint64_t mode)
{
    struct os_self s;
    struct os_creds c;
    if (os_self_init(&s) < 0)
        return -errno;
    int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0)
        return -errno;
    int r, rootfd = -1, pfd = -1;
    if (os_read_creds(&s, procfd, tid, &c) < 0) {
        r = -EACCES;
        goto answer;
    }
    char rp[64];
    fmt_path(rp, sizeof rp, "", tid, "/root");
    rootfd = openat(procfd, rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    pid_t me = (pid_t)syscall(SYS_gettid);
    int nofollow = (flags & O_NOFOLLOW) || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    /* a magic link: the caller's own object, found with our rights (the caller may
       always reach its own /proc/self/fd; we act from another process), opened below
       with the caller's */
    if (host)
        pfd = open(path, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    os_acting_set(me, tid);
    /* a read of its own /proc/PID entries: with our rights, as openfast.c does */
    int own = !host && rootfd >= 0 && os_reads_only(flags) && os_own_proc(path, c.nstgid);
    if (own) {
        pfd = walk_opath(rootfd, path, nofollow, 0);
        if (pfd >= 0 && !reaches_own(procfd, tid, pfd, c.nstgid)) {
            close(pfd);
            pfd = -1;
            own = 0;
        }
    }
    if (!own && os_become(&s, &c) < 0) {
        r = -EACCES;
        goto restore;
    }
    if (host || own)
        ; /* opened above */
    else if (rootfd >= 0)
        pfd = walk_opath(rootfd, path, nofollow, 0);
    else
        errno = ESRCH;
    if (pfd < 0) {
        r = -errno;
        if (r == -ENOENT && (flags & O_CREAT) && !host && rootfd >= 0)
            r = create_path(rootfd, path, flags, mode);
    } else {
        r = open_fully(procfd, rootfd, tid, pfd, flags, mode);
    }
restore:
    os_restore(&s);
    os_acting_set(me, 0);
answer:
    if (pfd >= 0)
        close(pfd);
    if (rootfd >= 0)
        close(rootfd);
    close(procfd);
    if (r >= 0) {
        int newfd = os_send_fd(listener, id, r, flags);
        close(r);
        return newfd < 0 ? -errno : newfd;
    }
    notif_answer(listener, id, -r);
    return r;
}
