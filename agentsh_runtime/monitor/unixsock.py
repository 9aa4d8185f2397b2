"""AF_UNIX addresses from connect/bind/listen/sendto/sendmsg/sendmmsg notifications."""

from __future__ import annotations

import os

from ..linux import procmem as pm

AF_UNIX = 1
OPS = {"connect": "connect", "bind": "bind", "listen": "listen", "sendto": "sendto",
       "sendmsg": "sendto", "sendmmsg": "sendto"}


def _sockaddr_un(mem: pm.ProcMem, addr: int, length: int) -> str | None:
    """The socket path ("@name" for an abstract one), or None when not AF_UNIX."""
    if addr == 0 or length < 2:
        return None
    raw = mem.read(addr, min(length, 110))
    if len(raw) < 2 or int.from_bytes(raw[:2], "little") != AF_UNIX:
        return None
    name = raw[2:]
    if not name:
        return "@"  # autobind
    if name[0] == 0:
        return "@" + name[1:].decode("utf-8", "surrogateescape")
    return name.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _msghdr_name(mem: pm.ProcMem, hdr: int, ptr: int) -> tuple[int, int]:
    raw = mem.read(hdr, ptr + 4)
    return int.from_bytes(raw[:ptr], "little"), int.from_bytes(raw[ptr:ptr + 4], "little")


def bound_path(pid: int, fd: int) -> str | None:
    """listen(2) has no address: the path the socket was bound to, from /proc/net/unix."""
    link = pm.fd_path(pid, fd)
    if not link or not link.startswith("socket:["):
        return None
    inode = link[8:-1]
    try:
        with open(f"/proc/{pid}/net/unix") as f:
            next(f)
            for line in f:
                parts = line.split()
                if len(parts) >= 7 and parts[6] == inode:
                    return parts[7] if len(parts) > 7 else None
    except OSError:
        return None
    return None


def unix_targets(name: str, pid: int, arch: int, nr: int, args: tuple[int, ...]) -> list[str]:
    """Every AF_UNIX path the call names (empty: not a unix-address call)."""
    ptr = pm.pointer_size(arch, nr)
    if name == "listen":
        path = bound_path(pid, args[0] & 0xFFFFFFFF)
        return [path] if path else []
    with pm.ProcMem(pid) as mem:
        if name in ("connect", "bind"):
            path = _sockaddr_un(mem, args[1], args[2] & 0xFFFFFFFF)
            return [path] if path else []
        if name == "sendto":
            path = _sockaddr_un(mem, args[4], args[5] & 0xFFFFFFFF)
            return [path] if path else []
        if name == "sendmsg":
            addr, length = _msghdr_name(mem, args[1], ptr)
            path = _sockaddr_un(mem, addr, length)
            return [path] if path else []
        if name == "sendmmsg":
            # struct mmsghdr: a msghdr (7 words, padded) and an unsigned int
            size = 64 if ptr == 8 else 32
            out = []
            for i in range(min(args[2] & 0xFFFFFFFF, 1024)):
                addr, length = _msghdr_name(mem, args[1] + i * size, ptr)
                path = _sockaddr_un(mem, addr, length)
                if path:
                    out.append(path)
            return out
    return []


def normalise(path: str, pid: int) -> str:
    """A relative socket path as the container sees it (relative to the caller's cwd)."""
    if path.startswith(("@", "/")):
        return path
    return os.path.normpath(os.path.join(pm.cwd_of(pid) or "/", path))
