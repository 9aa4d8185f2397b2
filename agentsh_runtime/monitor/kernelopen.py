"""file_rules on kernel file systems (/proc, /sys, /dev and mounts of kernel types),
decided at the seccomp open notification, and the opens the native side hands over.

These subtrees are never FUSE-mediated (a FUSE copy of procfs would answer for the
wrong process), so the monitor decides the open itself: the name is walked as the
caller would walk it (procwalk.py: `self`, magic links, symlinks, `..`), and if it ends
in a kernel subtree the policy decides the operation the open means (read, write,
create, list, or stat for O_PATH). Denied: EACCES. An open that ends outside the
kernel subtrees is FUSE's or the plan's native mounts' to decide (an `approve` there is
held here first: the monitor's own open must not wait for a person inside FUSE).

Allowed: the monitor opens the file for the caller, as the caller, and hands it the fd
(openself.c via execfast.open_for, in a thread: a FIFO may wait for its other end).
Never CONTINUE: the kernel would read the name again from the caller's memory, and a
second thread could have rewritten it into a denied kernel path by then. Only without
the native library (or with AGENTSH_OPEN_CONTINUE=1, for comparisons) is it CONTINUE.
"""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass

from ..linux import procmem
from ..linux.syscalls import name_of
from ..policy.engine import Decision, Engine, FileQuery
from .procwalk import Walked, caller_ids, walk

AT_FDCWD = -100
O_ACCMODE, O_RDONLY = 3, 0
O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW = 0o100, 0o200, 0o1000, 0o400000
O_PATH = 0o10000000
O_TMPFILE = 0o20000000 | 0o200000
RESOLVE_IN_ROOT = 0x10
OPEN_HOW_SIZE = 24

__all__ = ["OpenCall", "KernelOpens", "open_call", "op_of", "Outcome"]


@dataclass(frozen=True, slots=True)
class OpenCall:
    syscall: str
    dirfd: int
    path: str
    flags: int
    resolve: int = 0
    mode: int = 0


def _int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def open_call(pid: int, arch: int, nr: int, args: tuple[int, ...]) -> OpenCall:
    """The arguments of an open-family notification, read from the caller."""
    name = name_of(arch, nr)
    with procmem.ProcMem(pid) as mem:
        if name == "open":
            return OpenCall(name, AT_FDCWD, _text(mem.string(args[0])), _int32(args[1]),
                            mode=args[2] & 0o7777)
        if name == "creat":
            return OpenCall(name, AT_FDCWD, _text(mem.string(args[0])),
                            O_CREAT | O_TRUNC | 1, mode=args[1] & 0o7777)
        if name == "openat":
            return OpenCall(name, _int32(args[0]), _text(mem.string(args[1])),
                            _int32(args[2]), mode=args[3] & 0o7777)
        if name == "openat2":
            if args[3] < OPEN_HOW_SIZE:
                raise OSError(errno.EINVAL, "open_how too small")
            how = mem.read(args[2], OPEN_HOW_SIZE)
            if len(how) < OPEN_HOW_SIZE:
                raise OSError(errno.EFAULT, "open_how not readable")
            return OpenCall(name, _int32(args[0]), _text(mem.string(args[1])),
                            int.from_bytes(how[0:8], "little"),
                            int.from_bytes(how[16:24], "little"),
                            int.from_bytes(how[8:16], "little") & 0o7777)
    raise OSError(errno.ENOSYS, f"not an open call: {arch:#x}/{nr}")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def op_of(flags: int, walked: Walked) -> str:
    """The policy operation an open with `flags` is, on what the walk found."""
    if flags & O_PATH:
        return "stat"
    if (flags & O_TMPFILE) == O_TMPFILE:
        return "create"
    if flags & O_CREAT and not walked.exists:
        return "create"
    if (flags & O_ACCMODE) != O_RDONLY or flags & O_TRUNC:
        return "write"
    return "list" if walked.is_dir else "read"


@dataclass(frozen=True, slots=True)
class Outcome:
    """error: 0 (allowed) or an errno; approve: the decision to hold for a person
    (the caller then waits; error is what a denial gives); event: the file_open event
    fields, None when nothing is to be logged. When allowed, what the monitor opens for
    the caller (openself.c): `target`, a container path or (`host`) a path of ours
    (a magic link); None: nothing to open by name (the kernel must, CONTINUE)."""

    error: int
    event: dict | None = None
    approve: Decision | None = None
    target: str | None = None
    host: bool = False
    flags: int = 0
    mode: int = 0
    op: str = ""
    path: str = ""


def _under(path: str, prefix: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/")


class KernelOpens:
    def __init__(self, engine: Engine, mode: str, prefixes: list[str],
                 log_allowed: bool) -> None:
        self.engine = engine
        self.mode = mode
        self.prefixes = sorted({"/" + p.strip("/") for p in prefixes if p.strip("/")})
        self.log_allowed = log_allowed

    def is_kernel(self, path: str) -> bool:
        return any(_under(path, p) for p in self.prefixes)

    def where(self, pid: int, call: OpenCall) -> Walked:
        """Where the open leads, as the container sees it."""
        base = "/"
        if not call.path.startswith("/") or call.resolve & RESOLVE_IN_ROOT:
            link = procmem.cwd_of(pid) if call.dirfd == AT_FDCWD else \
                procmem.fd_path(pid, call.dirfd)
            root = procmem.root_of(pid)
            if link is None or root is None or not link.startswith("/"):
                return Walked(None, object="dirfd")
            prefix = "" if root == "/" else root
            if prefix and not (link == prefix or link.startswith(prefix + "/")):
                return Walked(None, object="outside")
            base = link[len(prefix):] or "/"
        follow = not (call.flags & O_NOFOLLOW) and \
            not (call.flags & O_CREAT and call.flags & O_EXCL)
        root = base if call.resolve & RESOLVE_IN_ROOT else "/"
        return walk(pid, base, call.path, follow, root=root, ids=caller_ids(pid))

    def decide(self, pid: int, arch: int, nr: int, args: tuple[int, ...],
               comm: str | None) -> Outcome:
        t0 = time.perf_counter()
        try:
            call = open_call(pid, arch, nr, args)
        except procmem.TooLong:
            return Outcome(errno.ENAMETOOLONG)
        except OSError:
            return Outcome(errno.EFAULT)  # unreadable: the kernel would say the same
        try:
            walked = self.where(pid, call)
        except OSError:
            return Outcome(errno.EACCES)  # the caller went away while we looked
        # what to open when allowed: the very object a magic link names, or the name
        target, host = (walked.magic, True) if walked.magic else (walked.path, False)
        opened = {"target": target, "host": host, "flags": call.flags, "mode": call.mode}
        if walked.path is None:
            if walked.object == "not-in-namespace":
                return Outcome(errno.EACCES)  # its own /proc/self unknown: fail closed
            if walked.object == "loop":
                return Outcome(errno.ELOOP)
            if not walked.magic:
                return Outcome(errno.EACCES)  # a dirfd that is no directory of a path
            return Outcome(0, **opened)  # a pipe, a socket, an fd from outside
        op = op_of(call.flags, walked)
        if not self.is_kernel(walked.path):
            # FUSE or a native subtree of the plan decides; the monitor opens it for
            # the caller, or holds it first when FUSE would ask a person
            d = self.engine.decide("file", FileQuery(op, walked.path))
            if d.decision == "approve" and self.mode != "audit":
                return Outcome(errno.EACCES, approve=d, op=op, path=walked.path,
                               **opened)
            return Outcome(0, op=op, path=walked.path, **opened)
        d = self.engine.decide("file", FileQuery(op, walked.path))
        decision = d.decision
        effective = "allow" if self.mode == "audit" or decision in ("allow", "audit") \
            else "approve" if decision == "approve" else "deny"
        event = None
        if effective != "allow" or self.log_allowed or decision == "audit" or \
                self.mode == "audit":
            message = d.message
            if decision in ("redirect", "soft_delete") and effective == "deny":
                message = (message or "") + f" ({decision} is not possible on a kernel " \
                                            "file system: denied)"
            event = {"operation": op, "path": walked.path, "pid": pid, "comm": comm,
                     "policy": {"decision": decision, "effective_decision": effective,
                                "rule": d.rule, "message": message},
                     "effective_action": "allowed" if effective == "allow" else "blocked",
                     "latency_us": int((time.perf_counter() - t0) * 1e6),
                     "fields": {"syscall": call.syscall, "flags": call.flags,
                                "via": "seccomp"}}
        if effective == "allow":
            return Outcome(0, event, op=op, path=walked.path, **opened)
        if effective == "approve":
            return Outcome(errno.EACCES, event, approve=d, op=op, path=walked.path,
                           **opened)
        return Outcome(errno.EACCES, event)
