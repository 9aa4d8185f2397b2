"""Reading /proc: process start times (against pid reuse) and liveness."""

from __future__ import annotations

import os


def read_small(path: str) -> bytes | None:
    """A /proc file in one read: os-level calls, a buffered open() costs ~20 us more."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None
    try:
        return os.read(fd, 65536)
    except (ProcessLookupError, OSError):
        return None
    finally:
        os.close(fd)


def comm_of(pid: int) -> str | None:
    data = read_small(f"/proc/{pid}/comm")
    return data.decode(errors="replace").strip() if data else None


def stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the comm, or None when the pid is gone."""
    data = read_small(f"/proc/{pid}/stat")
    if not data:
        return None
    # comm may hold spaces and parentheses: split after the last ')'.
    return data[data.rindex(b")") + 2:].decode().split()


def start_time(pid: int) -> int | None:
    """Field 22 (starttime, clock ticks since boot)."""
    fields = stat_fields(pid)
    return None if fields is None else int(fields[19])


def is_alive(pid: int, started: int | None) -> bool:
    """The pid runs, is not a zombie, and is the same process as recorded."""
    if pid <= 0:
        return False
    fields = stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return started is None or int(fields[19]) == started


def ppid(pid: int) -> int | None:
    fields = stat_fields(pid)
    return None if fields is None else int(fields[1])


def children_pids_in_ns(ns_inode_path: str) -> list[int]:
    """Every host pid whose pid namespace is the one at ns_inode_path."""
    try:
        target = os.stat(ns_inode_path)
    except OSError:
        return []
    pids: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{name}/ns/pid")
        except OSError:
            continue
        if st.st_ino == target.st_ino and st.st_dev == target.st_dev:
            pids.append(int(name))
    return sorted(pids)


def status_fields(pid: int) -> dict[str, str]:
    data = read_small(f"/proc/{pid}/status")
    if not data:
        return {}
    return dict(line.split(":\t", 1) for line in data.decode().splitlines() if ":\t" in line)


def status_value(pid: int, key: str) -> str | None:
    """One field of /proc/PID/status without parsing the rest."""
    data = read_small(f"/proc/{pid}/status")
    if not data:
        return None
    start = data.find(b"\n" + key.encode() + b":\t")
    if start < 0:
        return None
    start += len(key) + 3
    end = data.find(b"\n", start)
    return data[start:end if end >= 0 else None].decode()


def host_pid_of(ns_pid: int, candidates: list[int]) -> int | None:
    """The host pid of the process a pid namespace calls ns_pid, among candidates."""
    for host in candidates:
        nspids = status_fields(host).get("NSpid", "").split()
        if nspids and int(nspids[-1]) == ns_pid:
            return host
    return None


def tgid_of(tid: int) -> int | None:
    tgid = status_value(tid, "Tgid")
    return int(tgid) if tgid else None


def session_of(pid: int) -> int | None:
    fields = stat_fields(pid)
    return None if fields is None else int(fields[3])


def pgid_of(pid: int) -> int | None:
    fields = stat_fields(pid)
    return None if fields is None else int(fields[2])


def cgroup2_of(pid: int) -> str | None:
    """The process's cgroup v2 path (on hybrid hosts too); None without one of its own."""
    raw = read_small(f"/proc/{pid}/cgroup")
    for line in (raw or b"").decode(errors="replace").splitlines():
        if line.startswith("0::"):
            path = line[3:].strip()
            return path if path and path != "/" else None
    return None
