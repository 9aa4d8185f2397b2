"""Signal syscalls: which processes they hit, and what each target is to the sender."""

from __future__ import annotations

import os

from ..linux import proc


class Target:
    __slots__ = ("host_pid", "types", "comm")

    def __init__(self, host_pid: int, types: frozenset[str], comm: str | None) -> None:
        self.host_pid, self.types, self.comm = host_pid, types, comm


def _comm(pid: int) -> str | None:
    return proc.comm_of(pid)


def _ancestors(pid: int, stop: set[int]) -> list[int]:
    out = []
    cur = pid
    for _ in range(4096):
        parent = proc.ppid(cur)
        if not parent or parent in out:
            break
        out.append(parent)
        if parent in stop or parent <= 1:
            break
        cur = parent
    return out


def classify(sender: int, target: int, container: set[int], init_pid: int) -> frozenset[str]:
    """POLICY.md's target types that describe `target` as seen from `sender`."""
    types: set[str] = set()
    inside = target in container
    if target == sender:
        types.add("self")
    if inside:
        if target == init_pid:
            types.add("system")  # ours: the container's pid 1
        tpar = proc.ppid(target)
        spar = proc.ppid(sender)
        if tpar == sender:
            types.add("children")
        if sender in _ancestors(target, {init_pid}):
            types.add("descendants")
        if tpar is not None and tpar == spar and target != sender:
            types.add("siblings")
        if proc.session_of(target) == proc.session_of(sender):
            types.add("session")
    else:
        types.add("external")
        init_parent = proc.ppid(init_pid) if init_pid else None
        if target == init_parent:
            types.add("parent")
        try:
            if os.stat(f"/proc/{target}").st_uid == os.stat(f"/proc/{sender}").st_uid:
                types.add("user")
        except OSError:
            pass
    return frozenset(types)


def _to_host(ns_pid: int, sender: int, container: list[int]) -> int | None:
    """A pid as the sender names it -> the host pid (same namespace: unchanged)."""
    nspids = proc.status_fields(sender).get("NSpid", "").split()
    if len(nspids) <= 1:
        return ns_pid  # the sender lives in the host's pid namespace (--pid=host)
    return proc.host_pid_of(ns_pid, container)


def targets_of(name: str, args: tuple[int, ...], sender: int, container: list[int],
               init_pid: int) -> tuple[int, list[int]] | None:
    """(signal number, host pids it would reach), or None when not decidable (deny)."""
    s32 = [a & 0xFFFFFFFF for a in args]
    signed = [a - (1 << 32) if a & 0x80000000 else a for a in s32]
    if name == "kill":
        pid, sig = signed[0], s32[1]
        if pid > 0:
            host = _to_host(pid, sender, container)
            return (sig, [host]) if host else None
        if pid == -1:  # everything the sender may signal: all of the container but init
            return sig, [p for p in container if p not in (sender, init_pid)]
        pgid = proc.pgid_of(sender) if pid == 0 else -pid
        if pid != 0:
            host_pg = _to_host(-pid, sender, container)
            pgid = proc.pgid_of(host_pg) if host_pg else None
        members = [p for p in container if pgid is not None and proc.pgid_of(p) == pgid]
        return sig, members
    if name == "tkill":
        host = _to_host(signed[0], sender, container)
        return (s32[1], [proc.tgid_of(host) or host]) if host else None
    if name in ("tgkill", "rt_tgsigqueueinfo"):
        host = _to_host(signed[0], sender, container)
        return (s32[2], [host]) if host else None
    if name == "rt_sigqueueinfo":
        host = _to_host(signed[0], sender, container)
        return (s32[1], [host]) if host else None
    if name == "pidfd_send_signal":
        pid = _pidfd_pid(sender, s32[0])
        return (s32[1], [pid]) if pid else None
    return None


def _pidfd_pid(sender: int, fd: int) -> int | None:
    """The host pid behind the sender's pidfd (fdinfo shows it in our namespace)."""
    try:
        with open(f"/proc/{sender}/fdinfo/{fd}") as f:
            for line in f:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
    except (OSError, ValueError):
        pass
    return None


def build_targets(pids: list[int], sender: int, container: set[int],
                  init_pid: int) -> list[Target]:
    return [Target(p, classify(sender, p, container, init_pid), _comm(p)) for p in pids]
