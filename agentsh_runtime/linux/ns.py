"""Namespaces: unshare(2) and setns(2) (os.unshare/os.setns arrive only in 3.12)."""

from __future__ import annotations

import os

from .libc import check, libc

CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# OCI namespace type -> (clone flag, name under /proc/PID/ns).
NAMESPACES: dict[str, tuple[int, str]] = {
    "user": (CLONE_NEWUSER, "user"),
    "pid": (CLONE_NEWPID, "pid"),
    "network": (CLONE_NEWNET, "net"),
    "mount": (CLONE_NEWNS, "mnt"),
    "ipc": (CLONE_NEWIPC, "ipc"),
    "uts": (CLONE_NEWUTS, "uts"),
    "cgroup": (CLONE_NEWCGROUP, "cgroup"),
    "time": (CLONE_NEWTIME, "time"),
}

# The order in which existing namespaces are joined: the user namespace first,
# so that the later joins are checked against its capabilities; mount last
# but one because joining it changes what paths mean.
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")


def unshare(flags: int) -> None:
    check(libc.unshare(flags), "unshare")


def setns_path(path: str, nstype: str) -> None:
    flag = NAMESPACES[nstype][0]
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        check(libc.setns(fd, flag), f"setns {nstype}", path)
    finally:
        os.close(fd)


def setns_fd(fd: int, nstype: str) -> None:
    check(libc.setns(fd, NAMESPACES[nstype][0]), f"setns {nstype}")


def ns_path(pid: int, nstype: str) -> str:
    return f"/proc/{pid}/ns/{NAMESPACES[nstype][1]}"
