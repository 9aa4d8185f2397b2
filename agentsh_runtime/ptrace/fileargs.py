"""Which paths a file syscall names, with which policy operation, from its raw
arguments (x86_64 order). Pure but for openat2, whose flags live in the caller's memory."""

from __future__ import annotations

from typing import NamedTuple

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400
AT_EMPTY_PATH = 0x1000
O_CREAT, O_WRONLY, O_TRUNC, O_NOFOLLOW = 0o100, 0o1, 0o1000, 0o400000


class PathArg(NamedTuple):
    op: str  # the policy operation ("open": decided from the flags and the file)
    dirfd: int  # AT_FDCWD or a directory fd; the fd itself when ptr is None
    ptr: int | None  # the path string's address; None: the call names an fd's file
    follow: bool  # does the call follow a symlink in the last component?
    arg: int  # which argument register holds ptr (for a rewrite)


def _fd(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _at(op: str, dirfd: int, ptr: int, follow: bool, arg: int) -> PathArg:
    return PathArg(op, _fd(dirfd), ptr, follow, arg)


def _cwd(op: str, ptr: int, follow: bool, arg: int) -> PathArg:
    return PathArg(op, AT_FDCWD, ptr, follow, arg)


def decode(name: str, a: tuple[int, ...], tid: int = 0) -> tuple[list[PathArg], int]:
    """([PathArg], open flags or 0)."""
    if name == "open":
        return [_cwd("open", a[0], not a[1] & O_NOFOLLOW, 0)], a[1] & 0xFFFFFFFF
    if name == "openat":
        return [_at("open", a[0], a[1], not a[2] & O_NOFOLLOW, 1)], a[2] & 0xFFFFFFFF
    if name == "openat2":
        from ..linux.ptrace import read_mem

        how = read_mem(tid, a[2], 8)
        if len(how) < 8:
            raise OSError(14, "open_how not readable")
        flags = int.from_bytes(how, "little")
        return [_at("open", a[0], a[1], not flags & O_NOFOLLOW, 1)], flags
    if name == "creat":
        return [_cwd("open", a[0], True, 0)], O_CREAT | O_WRONLY | O_TRUNC
    if name == "truncate":
        return [_cwd("write", a[0], True, 0)], 0
    if name == "rename":
        return [_cwd("rename", a[0], False, 0), _cwd("rename", a[1], False, 1)], 0
    if name in ("renameat", "renameat2"):
        return [_at("rename", a[0], a[1], False, 1), _at("rename", a[2], a[3], False, 3)], 0
    if name == "mkdir":
        return [_cwd("mkdir", a[0], False, 0)], 0
    if name == "mkdirat":
        return [_at("mkdir", a[0], a[1], False, 1)], 0
    if name == "rmdir":
        return [_cwd("rmdir", a[0], False, 0)], 0
    if name == "unlink":
        return [_cwd("delete", a[0], False, 0)], 0
    if name == "unlinkat":
        op = "rmdir" if a[2] & AT_REMOVEDIR else "delete"
        return [_at(op, a[0], a[1], False, 1)], 0
    if name == "link":
        return [_cwd("link", a[0], False, 0), _cwd("link", a[1], False, 1)], 0
    if name == "linkat":
        follow = bool(a[4] & AT_SYMLINK_FOLLOW)
        first = PathArg("link", _fd(a[0]), None, True, 1) if a[4] & AT_EMPTY_PATH and \
            _empty(tid, a[1]) else _at("link", a[0], a[1], follow, 1)
        return [first, _at("link", a[2], a[3], False, 3)], 0
    if name == "symlink":
        return [_cwd("symlink", a[1], False, 1)], 0
    if name == "symlinkat":
        return [_at("symlink", a[1], a[2], False, 2)], 0
    if name == "chmod":
        return [_cwd("chmod", a[0], True, 0)], 0
    if name == "fchmodat":
        return [_at("chmod", a[0], a[1], True, 1)], 0
    if name == "fchmodat2":
        if a[3] & AT_EMPTY_PATH and _empty(tid, a[1]):
            return [PathArg("chmod", _fd(a[0]), None, True, 0)], 0
        return [_at("chmod", a[0], a[1], not a[3] & AT_SYMLINK_NOFOLLOW, 1)], 0
    if name == "fchmod":
        return [PathArg("chmod", _fd(a[0]), None, True, 0)], 0
    if name == "chown":
        return [_cwd("chown", a[0], True, 0)], 0
    if name == "lchown":
        return [_cwd("chown", a[0], False, 0)], 0
    if name == "fchownat":
        if a[4] & AT_EMPTY_PATH and _empty(tid, a[1]):
            return [PathArg("chown", _fd(a[0]), None, True, 0)], 0
        return [_at("chown", a[0], a[1], not a[4] & AT_SYMLINK_NOFOLLOW, 1)], 0
    if name == "fchown":
        return [PathArg("chown", _fd(a[0]), None, True, 0)], 0
    if name == "mknod":
        return [_cwd("mknod", a[0], False, 0)], 0
    if name == "mknodat":
        return [_at("mknod", a[0], a[1], False, 1)], 0
    return [], 0


def _empty(tid: int, ptr: int) -> bool:
    from ..linux.ptrace import read_mem

    return ptr != 0 and read_mem(tid, ptr, 1) in (b"\0", b"")
