"""Helpers for the policy tests: admin config, a Runtime that passes --admin-config,
the events a container's monitor writes, and small static C programs.

These are agentsh-runtime-only features (runc has no policies): every test that uses
them passes an admin config whose ``events_dir`` is inside the test's tmp_path, so
events never go to /var/log.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.support.bundle import REPO_ROOT, Bundle, Runtime, pid_alive

CACHE = REPO_ROOT / "tests" / ".cache" / "cprogs"
BIN_DIR = "/usr/local/bin"  # where install_program() puts programs in a rootfs

ANN_POLICY = "dev.agentsh.policy"
ANN_INLINE = "dev.agentsh.policy.inline"
ANN_MODE = "dev.agentsh.mode"
ANN_EVENTS = "dev.agentsh.events"
ANN_WORKSPACE = "dev.agentsh.workspace"
ANN_CRI_TYPE = "io.kubernetes.cri.container-type"

# ---------------------------------------------------------------------------
# policies and the admin config


def policy_text(name: str = "test", **sections: Any) -> str:
    """A policy document (YAML) with version 1, ``name`` and the given sections."""
    doc: dict[str, Any] = {"version": 1, "name": name}
    doc.update(sections)
    return yaml.safe_dump(doc, sort_keys=False)


def allow_rest(name: str = "allow-rest") -> dict[str, Any]:
    """The last command rule of most test policies (commands default to deny)."""
    return {"name": name, "commands": ["*"], "decision": "allow"}


def command_policy(*rules: Mapping[str, Any], name: str = "test", **sections: Any) -> str:
    """command_rules = rules + allow-everything-else."""
    return policy_text(name, command_rules=[dict(r) for r in rules] + [allow_rest()],
                       **sections)


# what every policy with file_rules must allow (POLICY.md): the /dev nodes programs write
DEV_NODES = {"name": "dev-nodes", "paths": ["/dev/null", "/dev/zero", "/dev/full", "/dev/tty",
                                            "/dev/urandom", "/dev/random", "/dev/pts/**"],
             "operations": ["open", "read", "write", "stat", "access", "readlink", "list"],
             "decision": "allow"}

DENY_RM = {"name": "no-rm", "commands": ["rm"], "decision": "deny",
           "message": "rm is not allowed here"}
DENY_MARKER = {"name": "no-marker", "commands": ["marker", f"{BIN_DIR}/marker"],
               "decision": "deny"}


def write_admin_config(tmp_path: Path, name: str = "admin.yaml", **keys: Any) -> Path:
    """An admin config in tmp_path; events go to tmp_path/events unless said otherwise."""
    keys.setdefault("events_dir", str(tmp_path / "events"))
    f = tmp_path / name
    f.write_text(yaml.safe_dump(keys, sort_keys=False))
    return f


# ---------------------------------------------------------------------------
# the runtime with --admin-config, and what a policy container leaves in its state


class PolicyRuntime(Runtime):
    """Runtime that passes ``--admin-config FILE`` (a global flag) on every call, and
    remembers every monitor it saw (checked to be gone after delete)."""

    def __init__(self, binary: str | os.PathLike[str], root: Path, admin_config: Path,
                 **kw: Any) -> None:
        super().__init__(binary, root, **kw)
        self.admin_config = Path(admin_config)
        self.monitors: dict[str, tuple[int, int | None]] = {}

    def global_args(self) -> list[str]:
        return super().global_args() + ["--admin-config", str(self.admin_config)]

    @property
    def events_dir(self) -> Path:
        raw = yaml.safe_load(self.admin_config.read_text()) or {}
        return Path(raw.get("events_dir") or "/var/log/agentsh-runtime")

    def state_file(self, cid: str) -> dict[str, Any] | None:
        """The runtime's own state.json of a container (not `state`'s OCI view)."""
        try:
            return json.loads((self.root / cid / "state.json").read_text())
        except FileNotFoundError:
            return None

    def monitor(self, cid: str) -> tuple[int, int | None] | None:
        """(pid, start time) of the container's monitor as state.json records it."""
        data = self.state_file(cid) or {}
        mon = data.get("monitor")
        if not mon:
            return None
        found = (int(mon["pid"]), mon.get("start"))
        self.monitors[cid] = found
        return found

    def create(self, bundle: Bundle, cid: str, *opts: str,
               **kw: Any) -> subprocess.CompletedProcess[str]:
        res = super().create(bundle, cid, *opts, **kw)
        if res.returncode == 0:
            self.monitor(cid)
        return res

    def live_monitors(self) -> list[str]:
        return [f"monitor {pid} of {cid}" for cid, (pid, start) in self.monitors.items()
                if pid_alive(pid, start)]

    def monitor_gone(self, cid: str, timeout: float = 3.0) -> bool:
        pid, start = self.monitors[cid]
        deadline = time.monotonic() + timeout
        while pid_alive(pid, start):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    # -- lifecycles the tests share ------------------------------------------
    def run_to_end(self, bundle: Bundle, cid: str, timeout: float = 20.0,
                   ) -> tuple[str, str, dict[str, Any]]:
        """create, start, wait until stopped, delete: (stdout, stderr, state.json as
        create left it). Asserts each step, and that the monitor (if any) is gone."""
        res = self.create(bundle, cid)
        assert res.returncode == 0, f"create: {res.stderr}"
        state = self.state_file(cid) or {}
        res = self.start(cid)
        assert res.returncode == 0, f"start: {res.stderr}"
        self.wait_status(cid, "stopped", timeout)
        out, err = self.output(bundle, cid)
        res = self.delete(cid)
        assert res.returncode == 0, f"delete: {res.stderr}"
        if cid in self.monitors:
            assert self.monitor_gone(cid), f"monitor {self.monitors[cid]} alive after delete"
        return out, err, state

    def start_idle(self, bundle: Bundle, cid: str) -> dict[str, Any]:
        """A running container whose init is `sleep 1000`; returns its OCI state."""
        bundle.update(args=["sleep", "1000"])
        res = self.create(bundle, cid)
        assert res.returncode == 0, f"create: {res.stderr}"
        res = self.start(cid)
        assert res.returncode == 0, f"start: {res.stderr}"
        return self.wait_status(cid, "running")

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """The runtime in the background (stdout/stderr piped, text)."""
        return subprocess.Popen(self.global_args() + list(args), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # -- the policy CLI --------------------------------------------------------
    def audit(self, cid: str, *filters: str) -> subprocess.CompletedProcess[str]:
        return self.cmd("audit", cid, *filters)

    def audit_events(self, cid: str, *filters: str) -> list[dict[str, Any]]:
        res = self.audit(cid, *filters)
        assert res.returncode == 0, f"audit {cid} {filters}: {res.stderr}"
        return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]

    def approvals(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cmd("approvals", *args)

    def pending(self, cid: str) -> list[dict[str, Any]]:
        res = self.approvals("list", cid)
        assert res.returncode == 0, f"approvals list {cid}: {res.stderr}"
        return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]

    # -- events ----------------------------------------------------------------
    def events(self, cid: str) -> list[dict[str, Any]]:
        return read_events(self.events_dir, cid)

    def wait_event(self, cid: str, pred: Callable[[dict[str, Any]], bool],
                   timeout: float = 10.0, what: str = "event") -> dict[str, Any]:
        return wait_event(self.events_dir, cid, pred, timeout, what)


def read_events(events_dir: Path, cid: str) -> list[dict[str, Any]]:
    f = Path(events_dir) / f"{cid}.jsonl"
    try:
        text = f.read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def wait_event(events_dir: Path, cid: str, pred: Callable[[dict[str, Any]], bool],
               timeout: float = 10.0, what: str = "event") -> dict[str, Any]:
    """The first event matching pred (the monitor writes in batches: wait for it)."""
    deadline = time.monotonic() + timeout
    while True:
        evs = read_events(events_dir, cid)
        for ev in evs:
            if pred(ev):
                return ev
        if time.monotonic() > deadline:
            shown = "\n".join(json.dumps(e) for e in evs[-30:])
            raise AssertionError(f"no {what} in {events_dir}/{cid}.jsonl after {timeout}s; "
                                 f"last events:\n{shown}")
        time.sleep(0.05)


def is_exec(decision: str | None = None, *, rule: str | None = None,
            argv0: str | None = None, effective: str | None = None,
            argv_has: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """A predicate for execve events."""

    def pred(ev: dict[str, Any]) -> bool:
        if ev.get("type") != "execve":
            return False
        pol = ev.get("policy") or {}
        argv = ev.get("argv") or []
        if decision is not None and pol.get("decision") != decision:
            return False
        if effective is not None and pol.get("effective_decision") != effective:
            return False
        if rule is not None and pol.get("rule") != rule:
            return False
        if argv0 is not None and (not argv or argv[0] != argv0):
            return False
        return argv_has is None or argv_has in argv

    return pred


def of_type(type_: str) -> Callable[[dict[str, Any]], bool]:
    return lambda ev: ev.get("type") == type_


def processes_with_arg(word: str) -> list[tuple[int, str]]:
    """(pid, cmdline) of live processes with `word` as one of their arguments (a monitor
    is a fork of `create`, so its cmdline still names the container id)."""
    found = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if word.encode() in args and pid_alive(int(d)):
            found.append((int(d), b" ".join(args).decode(errors="replace")))
    return found


def cgroup_of(pid: int, controller: str) -> str:
    """The v1 cgroup directory of pid for a controller (hybrid host)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(","):
                return f"/sys/fs/cgroup/{controller}{path}"
    raise AssertionError(f"pid {pid} has no {controller} cgroup")


def status_mask(status: str, field: str) -> int:
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1], 16)
    raise AssertionError(f"no {field} in {status!r}")


# ---------------------------------------------------------------------------
# small static C programs

MARKER_C = r"""
/* marker FILE...: create each FILE (the "action" of a program a policy denies). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) { (void)!write(fd, "ran\n", 4); close(fd); }
    }
    printf("marker ran\n");
    return 0;
}
"""

XEXEC_C = r"""
/* xexec MODE PATH [ARGV0 [ARGS...]]: exec PATH with that argv, by
 *   execve          execve(PATH)
 *   execveat        execveat(AT_FDCWD, PATH, 0)
 *   execveat-dirfd  execveat(open(dirname(PATH)), basename(PATH), 0)
 *   fexecve         execveat(open(PATH, O_RDONLY), "", AT_EMPTY_PATH)
 * On failure: "xexec: PATH: strerror" on stderr, exit 126 (EACCES) or 127. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
extern char **environ;
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: xexec MODE PATH [ARGV0 ARGS...]\n"); return 2; }
    const char *mode = argv[1], *path = argv[2];
    char *one[2] = {(char *)path, NULL};
    char **av = argc > 3 ? argv + 3 : one;
    if (!strcmp(mode, "execve")) {
        execve(path, av, environ);
    } else if (!strcmp(mode, "execveat")) {
        syscall(SYS_execveat, AT_FDCWD, path, av, environ, 0);
    } else if (!strcmp(mode, "execveat-dirfd")) {
        char dir[4096];
        const char *slash = strrchr(path, '/');
        if (!slash) { fprintf(stderr, "xexec: need a path with /\n"); return 2; }
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n); dir[n] = 0;
        int dfd = open(dir, O_PATH | O_DIRECTORY);
        if (dfd < 0) { perror("xexec: open dir"); return 2; }
        syscall(SYS_execveat, dfd, slash + 1, av, environ, 0);
    } else if (!strcmp(mode, "fexecve")) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) { perror("xexec: open"); return 2; }
        syscall(SYS_execveat, fd, "", av, environ, AT_EMPTY_PATH);
    } else {
        fprintf(stderr, "xexec: unknown mode %s\n", mode); return 2;
    }
    int e = errno;
    fprintf(stderr, "xexec: %s: %s\n", path, strerror(e));
    return e == EACCES ? 126 : 127;
}
"""

RACE_C = r"""
/* race SECONDS ALLOWED DENIED MARKER main|thread
 * ALLOWED and DENIED are paths of the same length differing in one byte. For
 * SECONDS, fork children; each child execs a path buffer that another thread keeps
 * flipping between ALLOWED and DENIED (a single-byte store: no torn names), with argv
 * {"true", MARKER}. "main": the main thread execs, a second thread flips; "thread": a
 * second thread execs while the main thread flips (a non-leader thread's exec takes
 * over the leader's pid). The DENIED program creates MARKER if it ever runs.
 * Prints: attempts=N exit0=N denied=N killed=N other=N */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
static char buf[256] __attribute__((aligned(64)));
static size_t pos;
static char ca, cd;
static char *args[3];
static void *flipper(void *unused) {
    (void)unused;
    volatile char *p = (volatile char *)buf + pos;
    for (;;) { *p = cd; *p = ca; }
    return NULL;
}
static void *execer(void *unused) {
    (void)unused;
    execve(buf, args, environ);
    _exit(errno == EACCES ? 126 : 125);
    return NULL;
}
static double now(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: race SECS ALLOWED DENIED MARKER main|thread\n");
        return 2;
    }
    double secs = atof(argv[1]);
    const char *a = argv[2], *d = argv[3];
    int in_thread = !strcmp(argv[5], "thread");
    size_t n = strlen(a);
    if (n != strlen(d) || n >= sizeof buf) {
        fprintf(stderr, "race: paths differ in length\n");
        return 2;
    }
    int diff = 0;
    for (size_t i = 0; i < n; i++) if (a[i] != d[i]) { pos = i; diff++; }
    if (diff != 1) { fprintf(stderr, "race: paths must differ in exactly one byte\n"); return 2; }
    ca = a[pos]; cd = d[pos];
    args[0] = "true"; args[1] = argv[4]; args[2] = NULL;
    long attempts = 0, exit0 = 0, denied = 0, killed = 0, other = 0;
    double end = now() + secs;
    while (now() < end) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); break; }
        if (pid == 0) {
            memcpy(buf, a, n + 1);
            pthread_t t;
            if (in_thread) {
                pthread_create(&t, NULL, execer, NULL);
                volatile char *p = (volatile char *)buf + pos;
                for (;;) { *p = cd; *p = ca; }
            }
            pthread_create(&t, NULL, flipper, NULL);
            execer(NULL);
        }
        int st;
        if (waitpid(pid, &st, 0) < 0) { perror("waitpid"); break; }
        attempts++;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) exit0++;
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 126) denied++;
        else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) killed++;
        else other++;
    }
    printf("attempts=%ld exit0=%ld denied=%ld killed=%ld other=%ld\n",
           attempts, exit0, denied, killed, other);
    return 0;
}
"""

IO_URING_C = r"""
/* io_uring_setup(8, &params): prints "io_uring_setup: ok fd=N" or
 * "io_uring_setup: errno=E (strerror)". */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long fd = syscall(__NR_io_uring_setup, 8, &p);
    if (fd < 0) {
        int e = errno;
        printf("io_uring_setup: errno=%d (%s)\n", e, strerror(e));
        return 1;
    }
    printf("io_uring_setup: ok fd=%ld\n", fd);
    return 0;
}
"""


FOPS_C = r"""
/* fops MODE ARGS: ways around a path check, each printing "ok: <data>" when it read the
 * file, or "errno=E (strerror)" when refused.
 *   opath FILE            open(O_PATH), then reopen /proc/self/fd/N for reading
 *   openat DIR NAME       open(DIR, O_DIRECTORY), then openat(dirfd, NAME)
 *   openat2 DIR NAME      openat2(dirfd, NAME, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
 *   mmap FILE             open, mmap(PROT_READ), copy out
 *   sendfd FILE           a child opens FILE and passes the fd over a socketpair
 *   rename-parent DIR NEW rename(DIR, NEW), then read NEW/key
 *   vmself X              process_vm_readv of its own memory ("ok: X" when it worked)
 *   int80 FILE            open(FILE) as the 32-bit syscall (int $0x80), then read */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
static int fail(const char *what) {
    int e = errno;
    printf("%s: errno=%d (%s)\n", what, e, strerror(e));
    return 1;
}
static int show(int fd) {
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) return fail("read");
    buf[n] = 0;
    printf("ok: %s", buf);
    return 0;
}
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage\n"); return 2; }
    const char *m = argv[1];
    if (!strcmp(m, "opath")) {
        int fd = open(argv[2], O_PATH);
        if (fd < 0) return fail("open O_PATH");
        char p[64]; snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        int r = open(p, O_RDONLY);
        if (r < 0) return fail("reopen");
        return show(r);
    }
    if (!strcmp(m, "openat") || !strcmp(m, "openat2")) {
        int d = open(argv[2], O_RDONLY | O_DIRECTORY);
        if (d < 0) return fail("open dir");
        int fd;
        if (!strcmp(m, "openat")) fd = openat(d, argv[3], O_RDONLY);
        else {
            struct open_how how = {.flags = O_RDONLY,
                                   .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
            fd = syscall(SYS_openat2, d, argv[3], &how, sizeof how);
        }
        if (fd < 0) return fail(m);
        return show(fd);
    }
    if (!strcmp(m, "mmap")) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) return fail("open");
        char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) return fail("mmap");
        printf("ok: %.*s", 64, p);
        return 0;
    }
    if (!strcmp(m, "sendfd")) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open(argv[2], O_RDONLY);
            char c = fd < 0 ? 'E' : 'F';
            struct msghdr msg = {0}; struct iovec io = {&c, 1};
            char cbuf[CMSG_SPACE(sizeof(int))]; memset(cbuf, 0, sizeof cbuf);
            msg.msg_iov = &io; msg.msg_iovlen = 1;
            if (fd >= 0) {
                msg.msg_control = cbuf; msg.msg_controllen = sizeof cbuf;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int)); memcpy(CMSG_DATA(cm), &fd, sizeof fd);
            }
            sendmsg(sv[1], &msg, 0);
            _exit(fd < 0 ? errno : 0);
        }
        char c; struct msghdr msg = {0}; struct iovec io = {&c, 1};
        char cbuf[CMSG_SPACE(sizeof(int))];
        msg.msg_iov = &io; msg.msg_iovlen = 1; msg.msg_control = cbuf;
        msg.msg_controllen = sizeof cbuf;
        recvmsg(sv[0], &msg, 0);
        int st; waitpid(pid, &st, 0);
        if (c != 'F') { errno = WEXITSTATUS(st); return fail("child open"); }
        int fd; memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
        return show(fd);
    }
    if (!strcmp(m, "int80")) {
        static char p[256]; /* a static binary's .bss: an address int $0x80 can pass */
        strncpy(p, argv[2], sizeof p - 1);
        long fd;
        __asm__ volatile("int $0x80" : "=a"(fd) : "a"(5L), "b"(p), "c"(0L), "d"(0L)
                         : "memory", "r8", "r9", "r10", "r11");
        if (fd < 0) { errno = (int)-fd; return fail("int80 open"); }
        return show((int)fd);
    }
    if (!strcmp(m, "vmself")) {
        char dst[64] = {0};
        struct iovec l = {dst, strlen(argv[2])}, r = {argv[2], strlen(argv[2])};
        if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) < 0) return fail("process_vm_readv");
        printf("ok: %s\n", dst);
        return 0;
    }
    if (!strcmp(m, "rename-parent")) {
        if (rename(argv[2], argv[3]) < 0) return fail("rename");
        char p[512]; snprintf(p, sizeof p, "%s/key", argv[3]);
        int fd = open(p, O_RDONLY);
        if (fd < 0) return fail("open");
        return show(fd);
    }
    fprintf(stderr, "unknown mode\n");
    return 2;
}
"""

OPENRACE_C = r"""
/* openrace MODE GOOD BAD N: try N times to read BAD while the open is made for GOOD,
 * printing "LEAK" if BAD's content ever came back, then "opens=N ok=K denied=D".
 *   string  a second thread rewrites the path buffer between GOOD and BAD (same memory
 *           the open reads its path from)
 *   link    a second thread swaps (RENAME_EXCHANGE) the symlinks /tmp/racelink -> GOOD
 *           and /tmp/raceother -> BAD, made beforehand */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char buf[4096];
static const char *good, *bad;
static volatile int stop;
static void *flip_string(void *a) {
    (void)a;
    while (!stop) { strcpy(buf, bad); strcpy(buf, good); }
    return NULL;
}
static void *flip_link(void *a) {
    (void)a;
    while (!stop)
        syscall(SYS_renameat2, AT_FDCWD, "/tmp/racelink", AT_FDCWD, "/tmp/raceother",
                RENAME_EXCHANGE);
    return NULL;
}
int main(int argc, char **argv) {
    if (argc != 5) return 2;
    good = argv[2]; bad = argv[3];
    long n = atol(argv[4]), ok = 0, denied = 0, leak = 0;
    char secret[256] = {0};
    int sfd = open(bad, O_RDONLY);  /* expected to fail: only used if the test is wrong */
    if (sfd >= 0) { printf("BAD is readable directly\n"); return 3; }
    pthread_t t;
    const char *path = buf;
    if (strcmp(argv[1], "link") == 0) {
        path = "/tmp/racelink"; /* made by the test: -> GOOD, and /tmp/raceother -> BAD */
        pthread_create(&t, NULL, flip_link, NULL);
    } else {
        strcpy(buf, good);
        pthread_create(&t, NULL, flip_string, NULL);
    }
    for (long i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) { if (errno == EACCES) denied++; continue; }
        ssize_t r = read(fd, secret, sizeof secret - 1);
        close(fd);
        if (r > 0) { secret[r] = 0; if (strstr(secret, "topsecret")) leak++; }
        ok++;
    }
    stop = 1;
    pthread_join(t, NULL);
    if (leak) printf("LEAK %ld\n", leak);
    printf("opens=%ld ok=%ld denied=%ld\n", n, ok, denied);
    return 0;
}
"""

FLIP_C = r"""
/* flip A B N [rw]: a second thread rewrites one name buffer between A and B without
 * pause while the first opens the buffer N times (O_RDONLY, or O_RDWR with "rw");
 * prints how many opens succeeded, were refused, and how many got B: the fd's path is
 * B, or what it reads holds AGENT_MARK (the test's environment, in an environ file). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char buf[128];
static volatile int stop;
static const char *A, *B;
static void *flipper(void *x) {
    (void)x;
    while (!stop) { strcpy(buf, A); strcpy(buf, B); }
    return 0;
}
int main(int argc, char **argv) {
    if (argc < 4) return 2;
    A = argv[1]; B = argv[2];
    int n = atoi(argv[3]);
    int flags = argc > 4 && !strcmp(argv[4], "rw") ? O_RDWR : O_RDONLY;
    strcpy(buf, A);
    pthread_t t;
    pthread_create(&t, 0, flipper, 0);
    int hits = 0, opens = 0, denied = 0;
    for (int i = 0; i < n; i++) {
        int fd = open(buf, flags);
        if (fd < 0) { denied++; continue; }
        opens++;
        char r[8192], lp[64], got[256];
        snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd);
        ssize_t gl = readlink(lp, got, sizeof got - 1);
        got[gl > 0 ? gl : 0] = 0;
        ssize_t k = read(fd, r, sizeof r - 1);
        if (!strcmp(got, B) || (k > 0 && memmem(r, (size_t)k, "AGENT_MARK", 10))) hits++;
        close(fd);
    }
    stop = 1;
    pthread_join(t, 0);
    printf("opens=%d denied=%d hits=%d\n", opens, denied, hits);
    return 0;
}
"""

SHMFLIP_C = r"""
/* shmflip MODE SECONDS A D [MARKER]
 * An argument lives in a MAP_SHARED page; a second *process* (no shared address space:
 * nothing a tracer would freeze) keeps flipping its one differing byte between the
 * allowed value A and the denied value D. Modes:
 *   open     A, D paths: open+read the path again and again; "HIT" for every read
 *            that returned D's content (it must contain AGENT_MARK)
 *   exec     A, D programs: fork children that execve the path with argv
 *            {"true", MARKER}; the D program creates MARKER if it ever runs
 *   unlink   A, D paths: unlink the path again and again (A is made again each
 *            time); "HIT" once D is gone
 *   connect  A, D ports on 127.0.0.1 differing in their low byte: connect a
 *            sockaddr_in in the shared page again and again (the test's server on D
 *            counts what reaches it)
 *   open-file  as open, but the path lives in a MAP_PRIVATE mapping of the file
 *            ./shmflip.buf, which the second process rewrites with pwrite (a
 *            private mapping shows the file's bytes until its page is written)
 * Prints attempts=N hits=N at the end. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
static double now(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: shmflip open|exec|unlink|connect SECS A D [MARKER]\n");
        return 2;
    }
    const char *mode = argv[1];
    double secs = atof(argv[2]);
    const char *a = argv[3], *d = argv[4];
    int file_mode = !strcmp(mode, "open-file"), bfd = -1;
    if (file_mode) mode = "open";
    char *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) { perror("mmap"); return 2; }
    size_t pos = 0;
    char ca, cd;
    if (!strcmp(mode, "connect")) {
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons(atoi(a));
        unsigned short pd = htons(atoi(d));
        memcpy(buf, &sa, sizeof sa);
        pos = offsetof(struct sockaddr_in, sin_port) + 1;
        ca = ((char *)&sa.sin_port)[1];
        cd = ((char *)&pd)[1];
        if (((char *)&sa.sin_port)[0] != ((char *)&pd)[0]) {
            fprintf(stderr, "shmflip: ports differ in more than their low byte\n");
            return 2;
        }
    } else {
        size_t n = strlen(a);
        int diff = 0;
        if (n != strlen(d) || n > 200) { fprintf(stderr, "shmflip: lengths differ\n"); return 2; }
        for (size_t i = 0; i < n; i++) if (a[i] != d[i]) { pos = i; diff++; }
        if (diff != 1) { fprintf(stderr, "shmflip: A and D must differ in one byte\n"); return 2; }
        memcpy(buf, a, n + 1);
        ca = a[pos]; cd = d[pos];
    }
    if (file_mode) {
        bfd = open("shmflip.buf", O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (bfd < 0 || pwrite(bfd, buf, 4096, 0) != 4096) { perror("shmflip.buf"); return 2; }
        munmap(buf, 4096);
        buf = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, bfd, 0);
        if (buf == MAP_FAILED) { perror("mmap file"); return 2; }
    }
    pid_t flipper = fork();
    if (flipper == 0) {
        if (file_mode)
            for (;;) { pwrite(bfd, &cd, 1, pos); pwrite(bfd, &ca, 1, pos); }
        volatile char *p = buf + pos;
        for (;;) { *p = cd; *p = ca; }
    }
    long attempts = 0, hits = 0;
    double end = now() + secs;
    char data[256];
    while (now() < end) {
        attempts++;
        if (!strcmp(mode, "exec")) {
            pid_t pid = fork();
            if (pid == 0) {
                char *args[] = {"true", argc > 5 ? argv[5] : "x", NULL};
                execve(buf, args, environ);
                _exit(126);
            }
            int st;
            waitpid(pid, &st, 0);
        } else if (!strcmp(mode, "unlink")) {
            close(open(a, O_CREAT | O_WRONLY, 0644));
            unlink(buf);
            if (access(d, F_OK) != 0) { hits++; printf("HIT\n"); fflush(stdout); break; }
        } else if (!strcmp(mode, "connect")) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (s < 0) { perror("socket"); break; }
            connect(s, (struct sockaddr *)buf, sizeof(struct sockaddr_in));
            close(s);
        } else {
            int fd = open(buf, O_RDONLY);
            if (fd < 0) continue;
            ssize_t got = read(fd, data, sizeof data - 1);
            close(fd);
            if (got > 0) {
                data[got] = 0;
                if (strstr(data, "AGENT_MARK")) { hits++; printf("HIT\n"); fflush(stdout); }
            }
        }
    }
    kill(flipper, SIGKILL);
    waitpid(flipper, NULL, 0);
    printf("attempts=%ld hits=%ld\n", attempts, hits);
    return 0;
}
"""

PROGRAMS = {"openrace": OPENRACE_C, "marker": MARKER_C, "xexec": XEXEC_C, "race": RACE_C,
            "iouring": IO_URING_C, "fops": FOPS_C, "flip": FLIP_C, "shmflip": SHMFLIP_C}


def compiled(name: str) -> Path:
    """The static binary of PROGRAMS[name], built once (cached by source hash)."""
    src = PROGRAMS[name]
    digest = hashlib.sha256(src.encode()).hexdigest()[:16]
    out = CACHE / f"{name}-{digest}"
    if out.exists():
        return out
    gcc = shutil.which("gcc")
    if gcc is None:
        raise AssertionError("gcc is missing (apt-get install gcc libc6-dev): the policy "
                             "tests build small static C programs")
    CACHE.mkdir(parents=True, exist_ok=True)
    c_file = CACHE / f"{name}-{digest}.c"
    c_file.write_text(src)
    tmp = CACHE / f"{name}-{digest}.{os.getpid()}.tmp"
    p = subprocess.run([gcc, "-static", "-O2", "-pthread", "-Wall", "-o", str(tmp),
                        str(c_file)], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"gcc -static {name}.c failed:\n{p.stderr}")
    os.replace(tmp, out)
    return out


def install_program(bundle: Bundle, name: str, dest: str | None = None) -> str:
    """Copy the compiled program into the bundle's rootfs (default /usr/local/bin/NAME);
    returns its path inside the container."""
    dest = dest or f"{BIN_DIR}/{name}"
    host = bundle.rootfs / dest.lstrip("/")
    host.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(compiled(name), host)
    os.chmod(host, 0o755)
    return dest


def install_programs(bundle: Bundle, names: Iterable[str]) -> None:
    for n in names:
        install_program(bundle, n)


def symlink_in(bundle: Bundle, link: str, target: str) -> None:
    """A symlink inside the rootfs (link and target are container paths)."""
    host = bundle.rootfs / link.lstrip("/")
    host.parent.mkdir(parents=True, exist_ok=True)
    if host.is_symlink() or host.exists():
        host.unlink()
    host.symlink_to(target)


def write_in(bundle: Bundle, path: str, text: str, mode: int = 0o644) -> Path:
    host = bundle.rootfs / path.lstrip("/")
    host.parent.mkdir(parents=True, exist_ok=True)
    host.write_text(text)
    os.chmod(host, mode)
    return host


def in_rootfs(bundle: Bundle, path: str) -> Path:
    return bundle.rootfs / path.lstrip("/")
