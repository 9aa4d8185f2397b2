/* Helpers shared by the monitor's native fast paths (execfast.c, openfast.c). */
#ifndef AGENTSH_NATIVE_H
#define AGENTSH_NATIVE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* struct pidfd_info (Linux 6.13+), the first PIDFD_INFO_SIZE_VER0 bytes */
struct native_pidfd_info {
    uint64_t mask;
    uint64_t cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
};
#define NATIVE_PIDFD_INFO_PID 1ULL
#define NATIVE_PIDFD_INFO_CREDS 2ULL
#define NATIVE_PIDFD_GET_INFO _IOWR(0xFF, 11, struct native_pidfd_info)
_Static_assert(sizeof(struct native_pidfd_info) == 64, "pidfd_info v0");

/* pre + decimal n + post into buf, e.g. "123/stat" or "self/fd/7" (relative to /proc). */
static inline void fmt_path(char *buf, size_t cap, const char *pre, long n, const char *post)
{
    char digits[24];
    size_t nd = 0, off = 0;
    unsigned long v = (unsigned long)n;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && nd < sizeof digits);
    for (; *pre && off + 1 < cap; pre++)
        buf[off++] = *pre;
    while (nd && off + 1 < cap)
        buf[off++] = digits[--nd];
    for (; *post && off + 1 < cap; post++)
        buf[off++] = *post;
    buf[off] = '\0';
}

/* Answer a notification: error 0 lets the syscall run (CONTINUE), else it fails with
   -error. The ioctl's result (-1 with errno ENOENT: the caller is gone). */
static inline int notif_answer(int listener, uint64_t id, int error)
{
    struct seccomp_notif_resp r;
    memset(&r, 0, sizeof r);
    r.id = id;
    if (error)
        r.error = -error;
    else
        r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    int ret;
    do {
        ret = ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &r);
    } while (ret < 0 && errno == EINTR);
    return ret;
}

/* The text of /proc/PID/NAME (procfd: an fd of /proc), NUL-terminated in buf: its
   length, or -1. One read: these files are small and generated whole. */
static inline long proc_read(int procfd, long pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    fmt_path(path, sizeof path, "", pid, name);
    int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return (long)n;
}

#endif
