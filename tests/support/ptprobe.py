"""ptprobe: a static C program that tries the ways around ptrace mode's checks, one
raw syscall at a time, and prints what each got back ("NAME errno" lines)."""

from __future__ import annotations

from tests.support import policy

PTPROBE_C = r"""
/* ptprobe MODE ARGS
 *   files D         every path syscall against D/deny (file D/deny/f, dir D/deny/d) from
 *                   D/ok; prints "name errno" (0: it worked)
 *   ptraceme        PTRACE_TRACEME          attach PID   PTRACE_ATTACH PID
 *   untraced        clone(CLONE_UNTRACED)   clone3       raw clone3
 *   int80           getpid as a 32-bit syscall (int $0x80)
 *   iouring         io_uring_setup          rawsock      socket(AF_INET, SOCK_RAW)
 *   packet          socket(AF_PACKET)       vmwrite PID  process_vm_writev into PID
 *   vfork PATH      vfork, execv(PATH); prints the child's exit status
 *   thread PATH     a second thread opens PATH; prints "thread errno"
 *   swaprace D N    a child keeps swapping D/ok/sub between a directory (holding "f",
 *                   allowed) and a symlink to D/deny (whose "f" is denied) by rename;
 *                   we open D/ok/sub/f N times; "HIT" and exit 3 when what we read is
 *                   the denied file's AGENT_MARK, else "opened=K refused=R"
 *   swapunlink D N  the same swapper; we unlink D/ok/sub/f N times (making
 *                   D/ok/real/f again after each); "HIT" and exit 3 once D/deny/f is
 *                   gone, else
 *                   "unlinked=K refused=R" */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
static void say(const char *name, long r) { printf("%s %d\n", name, r < 0 ? errno : 0); }
static char D[512];
static char *p(const char *rel) {
    static char bufs[8][600]; static int i;
    char *b = bufs[i++ % 8]; snprintf(b, 600, "%s/%s", D, rel); return b;
}
static void *opener(void *path) {
    int fd = open((const char *)path, O_RDONLY);
    printf("thread %d\n", fd < 0 ? errno : 0);
    return 0;
}
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *m = argv[1];
    setvbuf(stdout, 0, _IONBF, 0);
    if (!strcmp(m, "files")) {
        snprintf(D, sizeof D, "%s", argv[2]);
        struct open_how how = {.flags = O_RDONLY};
        int dfd = open(D, O_PATH | O_DIRECTORY);  /* the allowed parent */
        say("open", syscall(SYS_open, p("deny/f"), O_RDONLY));
        say("open-write", syscall(SYS_open, p("deny/f"), O_WRONLY));
        say("openat", syscall(SYS_openat, AT_FDCWD, p("deny/f"), O_RDONLY));
        say("openat-dirfd", syscall(SYS_openat, dfd, "deny/f", O_RDONLY));
        say("openat2", syscall(SYS_openat2, AT_FDCWD, p("deny/f"), &how, sizeof how));
        say("creat", syscall(SYS_creat, p("deny/new"), 0644));
        say("truncate", syscall(SYS_truncate, p("deny/f"), 0));
        say("unlink", syscall(SYS_unlink, p("deny/f")));
        say("unlinkat", syscall(SYS_unlinkat, AT_FDCWD, p("deny/f"), 0));
        say("unlinkat-dir", syscall(SYS_unlinkat, AT_FDCWD, p("deny/d"), AT_REMOVEDIR));
        say("rmdir", syscall(SYS_rmdir, p("deny/d")));
        say("mkdir", syscall(SYS_mkdir, p("deny/nd"), 0755));
        say("mkdirat", syscall(SYS_mkdirat, dfd, "deny/nd", 0755));
        say("rename-from", syscall(SYS_rename, p("deny/f"), p("ok/moved")));
        say("rename-to", syscall(SYS_rename, p("ok/y"), p("deny/y")));
        say("renameat", syscall(SYS_renameat, AT_FDCWD, p("deny/f"), AT_FDCWD, p("ok/m2")));
        say("renameat2", syscall(SYS_renameat2, AT_FDCWD, p("deny/f"), AT_FDCWD, p("ok/m3"), 0));
        say("link-from", syscall(SYS_link, p("deny/f"), p("ok/hl")));
        say("link-to", syscall(SYS_link, p("ok/y"), p("deny/hl")));
        say("linkat", syscall(SYS_linkat, AT_FDCWD, p("deny/f"), AT_FDCWD, p("ok/hl2"), 0));
        say("symlink", syscall(SYS_symlink, "/etc/hostname", p("deny/sl")));
        say("symlinkat", syscall(SYS_symlinkat, "/etc/hostname", dfd, "deny/sl"));
        say("chmod", syscall(SYS_chmod, p("deny/f"), 0777));
        say("fchmodat", syscall(SYS_fchmodat, AT_FDCWD, p("deny/f"), 0777));
        say("fchmodat2", syscall(452, AT_FDCWD, p("deny/f"), 0777, 0));
        say("chown", syscall(SYS_chown, p("deny/f"), -1, -1));
        say("lchown", syscall(SYS_lchown, p("deny/f"), -1, -1));
        say("fchownat", syscall(SYS_fchownat, AT_FDCWD, p("deny/f"), -1, -1, 0));
        say("mknod", syscall(SYS_mknod, p("deny/fifo"), S_IFIFO | 0644, 0));
        say("mknodat", syscall(SYS_mknodat, dfd, "deny/fifo", S_IFIFO | 0644, 0));
        /* other names for the same file */
        say("via-symlink", syscall(SYS_open, p("ok/link-to-f"), O_RDONLY));
        say("via-symlink-write", syscall(SYS_open, p("ok/link-to-f"), O_WRONLY | O_APPEND));
        say("via-dir-symlink", syscall(SYS_open, p("ok/link-to-deny/f"), O_RDONLY));
        say("via-dotdot", syscall(SYS_open, p("ok/../deny/f"), O_RDONLY));
        say("via-dangling-create", syscall(SYS_open, p("ok/dangling"), O_WRONLY | O_CREAT, 0644));
        char fdpath[64]; snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d/deny/f", dfd);
        say("via-proc-fd", syscall(SYS_open, fdpath, O_RDONLY));
        if (chdir(p("ok")) == 0) say("via-relative", syscall(SYS_open, "../deny/f", O_RDONLY));
        say("via-proc-cwd", syscall(SYS_open, "/proc/self/cwd/../deny/f", O_RDONLY));
        say("allowed-open", syscall(SYS_open, p("ok/y"), O_RDONLY));
        say("allowed-write", syscall(SYS_open, p("ok/w"), O_WRONLY | O_CREAT, 0644));
        int ok = open(p("ok/y"), O_RDONLY);
        say("fchmod-allowed", syscall(SYS_fchmod, ok, 0644));
        return 0;
    }
    if (!strcmp(m, "swaprace")) {
        snprintf(D, sizeof D, "%s", argv[2]);
        int n = atoi(argv[3]);
        char real[600], link[600], sub[600], f[600], deny[600];
        snprintf(real, sizeof real, "%s/ok/real", D); snprintf(link, sizeof link, "%s/ok/lnk", D);
        snprintf(sub, sizeof sub, "%s/ok/sub", D); snprintf(f, sizeof f, "%s/ok/sub/f", D);
        snprintf(deny, sizeof deny, "%s/deny", D);
        pid_t c = fork();
        if (c == 0) {
            for (;;) {
                rename(real, sub);           /* sub: the real directory */
                rename(sub, real);
                symlink(deny, link);
                rename(link, sub);           /* sub: a symlink to deny */
                unlink(sub);
            }
        }
        int opened = 0, refused = 0;
        for (int i = 0; i < n; i++) {
            int fd = open(f, O_RDONLY);
            if (fd < 0) { if (errno == EACCES) refused++; continue; }
            char b[64] = {0};
            ssize_t k = read(fd, b, sizeof b - 1);
            close(fd);
            opened++;
            if (k > 0 && strstr(b, "AGENT_MARK")) { printf("HIT\n"); kill(c, 9); return 3; }
        }
        kill(c, 9); waitpid(c, 0, 0);
        printf("opened=%d refused=%d\n", opened, refused);
        return 0;
    }
    if (!strcmp(m, "swapunlink")) {
        snprintf(D, sizeof D, "%s", argv[2]);
        int n = atoi(argv[3]);
        char real[600], link[600], sub[600], f[600], rf[600], deny[600], df[600];
        snprintf(real, sizeof real, "%s/ok/real", D); snprintf(link, sizeof link, "%s/ok/lnk", D);
        snprintf(sub, sizeof sub, "%s/ok/sub", D); snprintf(f, sizeof f, "%s/ok/sub/f", D);
        snprintf(rf, sizeof rf, "%s/ok/real/f", D);
        snprintf(deny, sizeof deny, "%s/deny", D); snprintf(df, sizeof df, "%s/deny/f", D);
        pid_t c = fork();
        if (c == 0) {
            for (;;) {
                rename(real, sub);
                rename(sub, real);
                symlink(deny, link);
                rename(link, sub);
                unlink(sub);
            }
        }
        int unlinked = 0, refused = 0;
        for (int i = 0; i < n; i++) {
            if (unlink(f) == 0) unlinked++; else if (errno == EACCES) refused++;
            if (access(df, F_OK) != 0) { printf("HIT\n"); kill(c, 9); return 3; }
            close(open(rf, O_CREAT | O_WRONLY, 0644));  /* "real" is never a symlink */
        }
        kill(c, 9); waitpid(c, 0, 0);
        printf("unlinked=%d refused=%d\n", unlinked, refused);
        return 0;
    }
    if (!strcmp(m, "ptraceme")) { say("ptraceme", ptrace(PTRACE_TRACEME, 0, 0, 0)); return 0; }
    if (!strcmp(m, "attach")) {
        say("attach", ptrace(PTRACE_ATTACH, atoi(argv[2]), 0, 0)); return 0;
    }
    if (!strcmp(m, "untraced")) {
        long r = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
        if (r == 0) _exit(0);
        if (r > 0) waitpid(r, 0, 0);
        say("untraced", r); return 0;
    }
    if (!strcmp(m, "clone3")) {
        unsigned long long args[11] = {0};
        args[4] = SIGCHLD;  /* exit_signal */
        long r = syscall(435, args, 88);
        if (r == 0) _exit(0);
        if (r > 0) waitpid(r, 0, 0);
        say("clone3", r); return 0;
    }
    if (!strcmp(m, "int80")) {
        long r;
        __asm__ volatile ("int $0x80" : "=a"(r) : "a"(20L) : "memory");  /* getpid */
        printf("int80 %ld\n", r < 0 ? -r : 0); return 0;
    }
    if (!strcmp(m, "iouring")) {
        char params[120] = {0};
        say("iouring", syscall(425, 4, params)); return 0;
    }
    if (!strcmp(m, "rawsock")) { say("rawsock", socket(AF_INET, SOCK_RAW, 1)); return 0; }
    if (!strcmp(m, "packet")) { say("packet", socket(17, SOCK_RAW, 0)); return 0; }
    if (!strcmp(m, "vmwrite")) {
        char x = 0; struct iovec l = {&x, 1}, r = {(void *)4096, 1};
        say("vmwrite", process_vm_writev(atoi(argv[2]), &l, 1, &r, 1, 0)); return 0;
    }
    if (!strcmp(m, "vfork")) {
        pid_t c = vfork();
        if (c == 0) { execv(argv[2], argv + 2); _exit(errno == EACCES ? 126 : 127); }
        int st; waitpid(c, &st, 0);
        printf("vfork %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        return 0;
    }
    if (!strcmp(m, "thread")) {
        pthread_t t; pthread_create(&t, 0, opener, argv[2]); pthread_join(t, 0); return 0;
    }
    return 2;
}
"""

policy.PROGRAMS["ptprobe"] = PTPROBE_C


def ptprobe() -> str:
    return str(policy.compiled("ptprobe"))
