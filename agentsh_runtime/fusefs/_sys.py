"""Syscalls Python 3.11's os module lacks, through ctypes (x86_64 and aarch64 glibc)."""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_EMPTY_PATH = 0x1000
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _err(what: str) -> OSError:
    e = ctypes.get_errno()
    return OSError(e, f"{what}: {os.strerror(e)}")


_renameat2 = getattr(_libc, "renameat2", None)
if _renameat2 is not None:
    _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
    _renameat2.restype = ctypes.c_int
_libc.syscall.restype = ctypes.c_long
_SYS_renameat2 = {"x86_64": 316, "aarch64": 276}.get(os.uname().machine, 316)


def renameat2(olddirfd: int, oldname: bytes, newdirfd: int, newname: bytes,
              flags: int) -> None:
    if _renameat2 is not None:
        ret = _renameat2(olddirfd, oldname, newdirfd, newname, flags)
    else:
        ret = _libc.syscall(_SYS_renameat2, ctypes.c_int(olddirfd), ctypes.c_char_p(oldname),
                            ctypes.c_int(newdirfd), ctypes.c_char_p(newname),
                            ctypes.c_uint(flags))
    if ret != 0:
        raise _err("renameat2")


_fchownat = _libc.fchownat
_fchownat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_int]
_fchownat.restype = ctypes.c_int


def fchown_empty(fd: int, uid: int, gid: int) -> None:
    """fchownat(fd, "", uid, gid, AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW): works on O_PATH fds,
    symlinks included (-1 leaves a field as it is)."""
    if _fchownat(fd, b"", uid & 0xFFFFFFFF, gid & 0xFFFFFFFF,
                 AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0:
        raise _err("fchownat")


_utimensat = _libc.utimensat
_utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_Timespec), ctypes.c_int]
_utimensat.restype = ctypes.c_int


def utimensat(dirfd: int, path: bytes, atime_ns: int | None, mtime_ns: int | None,
              flags: int = 0) -> None:
    """utimensat with UTIME_OMIT for a time given as None."""
    ts = (_Timespec * 2)()
    for i, t in enumerate((atime_ns, mtime_ns)):
        if t is None:
            ts[i].tv_sec, ts[i].tv_nsec = 0, UTIME_OMIT
        else:
            ts[i].tv_sec, ts[i].tv_nsec = divmod(t, 1_000_000_000)
    if _utimensat(dirfd, path, ts, flags) != 0:
        raise _err("utimensat")
