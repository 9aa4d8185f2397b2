"""Make the test process a child subreaper, as conmon and containerd's shim are.

`create` and `exec --detach` must exit and leave the container process orphaned,
so that it is re-parented to the caller's subreaper (contract §2.2).  With the
pytest process marked as subreaper, tests can check that, and the container
inits are reaped here instead of piling up as zombies under PID 1.

Only orphans that live in another pid namespace (container processes) are reaped
on SIGCHLD: our own subprocess children belong to subprocess.run, which must see
their exit status.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37

_installed = False


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def set_subreaper() -> None:
    if _libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def is_subreaper() -> bool:
    v = ctypes.c_int(0)
    _libc().prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(v), 0, 0, 0)
    return bool(v.value)


def parent_of(pid: int) -> int | None:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _pid_ns_depth(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return len(line.split()) - 1
    except OSError:
        pass
    return 1


def _zombie_children() -> list[int]:
    me = os.getpid()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == me:
            out.append(int(d))
    return out


def reap_orphans(all_children: bool = False) -> list[int]:
    """Reap zombie children that are container processes (pid-ns depth > 1);
    with all_children, every zombie child (only safe when no subprocess is running)."""
    reaped: list[int] = []
    candidates: list[int] | None = None
    # Fast path: peek at one waitable child without reaping it.
    try:
        info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return reaped
    if info is None:
        return reaped
    if all_children or _pid_ns_depth(info.si_pid) > 1:
        candidates = [info.si_pid] + [p for p in _zombie_children() if p != info.si_pid]
    else:
        candidates = _zombie_children()
    for pid in candidates:
        if not all_children and _pid_ns_depth(pid) <= 1:
            continue
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                reaped.append(pid)
        except ChildProcessError:
            pass
        except OSError as e:  # pragma: no cover
            if e.errno != errno.ECHILD:
                raise
    return reaped


def _on_sigchld(signum: int, frame: object) -> None:
    reap_orphans()


def install() -> None:
    """Mark this process a child subreaper and reap container orphans on SIGCHLD."""
    global _installed
    if _installed:
        return
    set_subreaper()
    signal.signal(signal.SIGCHLD, _on_sigchld)
    _installed = True
