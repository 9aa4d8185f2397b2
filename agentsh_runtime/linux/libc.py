"""The C library through ctypes, and raw syscalls Python 3.11 lacks."""

from __future__ import annotations

import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

# x86_64 syscall numbers for calls glibc 2.36 has no wrapper for.
SYS_pivot_root = 155
SYS_keyctl = 250
SYS_ioprio_set = 251
SYS_sched_setattr = 314
SYS_open_tree = 428
SYS_move_mount = 429
SYS_mount_setattr = 442


def oserror(what: str, path: str | None = None) -> OSError:
    """The OSError for the errno the last libc call left behind."""
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}", path)


def check(ret: int, what: str, path: str | None = None) -> int:
    if ret < 0:
        raise oserror(what, path)
    return ret


def syscall(nr: int, *args: object, what: str) -> int:
    return check(libc.syscall(nr, *args), what)
