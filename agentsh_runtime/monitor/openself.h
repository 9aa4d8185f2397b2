/* openself: the monitor opens a file for a caller, as the caller, and answers its open
 * notification with the fd (SECCOMP_IOCTL_NOTIF_ADDFD), so the kernel never reads the
 * name from the caller's memory a second time. See openself.c. */
#ifndef AGENTSH_OPENSELF_H
#define AGENTSH_OPENSELF_H

#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/types.h>

#define OS_MAX_GROUPS 256
#define OS_PATH_MAX 4096

struct os_self { /* ours: what we come back to */
    struct __user_cap_data_struct caps[2];
    uint64_t userns_ino;
    int fs_private; /* this thread has its own fs_struct (umask) */
};

struct os_creds { /* the caller's, from /proc/TID/status */
    uid_t uid, euid, fsuid;
    gid_t gid, egid, fsgid;
    int ngroups;
    gid_t groups[OS_MAX_GROUPS];
    uint32_t cap_lo, cap_hi; /* effective; 0 when in another user namespace */
    mode_t umask;
    pid_t nstgid; /* its process id in its own (innermost) pid namespace */
};

/* Our credentials, to restore after each open made as a caller. -1 + errno. */
int os_self_init(struct os_self *s);

/* The caller's credentials. -1 when they cannot be read. */
int os_read_creds(const struct os_self *s, int procfd, pid_t tid, struct os_creds *c);

/* Become the caller on this thread (fs ids, groups, capabilities, umask), and back. */
int os_become(struct os_self *s, const struct os_creds *c);
void os_restore(struct os_self *s);

/* What an open of the file pfd (an O_PATH fd from a walk without following the last
   symlink when `flags` say so) gives the caller: the new fd (>= 0), or -errno. Made as
   the caller already (os_become). OS_PYTHON: not possible here (a blocking FIFO open,
   /dev/tty, O_TMPFILE). */
#define OS_PYTHON (-10000)
int os_open_at(int procfd, int pfd, uint64_t flags);

/* One of the device nodes every container has (opened here; others are refused). */
int os_common_device(dev_t rdev);

/* Is container path `cpath` in the caller's own /proc/PID directory (a reading of its own
   process: the kernel lets a process read its own entries whatever its dumpable flag;
   the monitor, another process, is let in with its own rights for those reads)? */
int os_own_proc(const char *cpath, pid_t nstgid);

/* Does an open with `flags` only read (no write access, no truncation, no create)? */
int os_reads_only(uint64_t flags);

/* Create `name` in the directory dfd (O_PATH) for the caller: fd or -errno; OS_PYTHON
   when the name is a symlink (the kernel would follow a dangling one). */
int os_create_in(int dfd, const char *name, uint64_t flags, uint64_t mode);

/* Answer notification `id` with fd (newfd flags from the caller's O_CLOEXEC): the
   caller's fd number, or -1 (errno ENOENT: the notification is gone). */
int os_send_fd(int listener, uint64_t id, int fd, uint64_t flags);

/* While thread `worker` opens for `caller` (0: no longer), the FUSE server attributes
   the worker's requests to the caller: ef_acting_for(worker). */
void os_acting_set(pid_t worker, pid_t caller);
int ef_acting_for(int worker);
/* Is a thread of ours opening for `caller` right now? (then a request made with the
   caller's pid comes from that thread: the caller itself waits for our answer) */
int ef_acted_for(int caller);

/* For the monitor's Python side (a thread that may block): open `path` for the caller of
   notification `id` (thread `tid`) as the caller and answer it. `path`: a container path
   walked in the caller's root, or with `host` a path of ours (/proc/TID/fd/N, a magic
   link to the caller's own object). The caller's new fd, or -errno (answered so). */
int ef_open_for(int listener, uint64_t id, int tid, const char *path, int host,
                uint64_t flags, uint64_t mode);

#endif
