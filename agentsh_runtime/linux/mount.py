"""mount(2), umount2(2), pivot_root(2), mount_setattr(2)."""

from __future__ import annotations

import ctypes

from .libc import SYS_mount_setattr, SYS_pivot_root, check, libc

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOSYMFOLLOW = 256
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25

MNT_DETACH = 2
UMOUNT_NOFOLLOW = 8

AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1

libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]


def _b(s: str | None) -> bytes | None:
    return None if s is None else s.encode()


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0,
          data: str | None = None) -> None:
    ret = libc.mount(_b(source), target.encode(), _b(fstype), flags, _b(data))
    check(ret, f"mount {source or fstype or ''} to {target}", target)


def umount(target: str, flags: int = 0) -> None:
    check(libc.umount2(target.encode(), flags), f"umount {target}", target)


def pivot_root(new_root: str, put_old: str) -> None:
    check(libc.syscall(SYS_pivot_root, new_root.encode(), put_old.encode()), "pivot_root")


def mount_setattr_recursive(target: str, attr_set: int, attr_clr: int) -> None:
    """Set/clear MOUNT_ATTR_* on the whole subtree (the OCI `rro`, `rnosuid`, ... options)."""
    import struct

    # struct mount_attr: u64 attr_set, attr_clr, propagation, userns_fd
    attr = ctypes.create_string_buffer(struct.pack("=QQQQ", attr_set, attr_clr, 0, 0))
    ret = libc.syscall(SYS_mount_setattr, AT_FDCWD, target.encode(), AT_RECURSIVE, attr, 32)
    check(ret, f"mount_setattr {target}", target)


_MOUNTINFO_ESCAPES = (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\"))


def mounts() -> list[tuple[str, str, str]]:
    """(mount point, "major:minor", fs type) of every mount in our namespace, in
    /proc/self/mountinfo order (parents first). Read, never stat: a stat of a FUSE mount
    from its own server's thread would wait for itself."""
    out = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            fields = line.split(b" ", 5)
            point = fields[4].decode("utf-8", "surrogateescape")
            if "\\" in point:
                for esc, ch in _MOUNTINFO_ESCAPES:
                    point = point.replace(esc, ch)
            fstype = line.split(b" - ", 1)[-1].split(b" ", 1)[0].decode()
            out.append((point, fields[2].decode(), fstype))
    return out
