"""Mount a FUSE file system with mount(2) on an opened /dev/fuse fd (no libfuse, no
fusermount), so the mount can be made inside another mount namespace (the container's,
before pivot_root) and the fd handed to the server, which then serves "/dev/fd/N"
(libfuse >= 3.3: "this fd is the FUSE device, do not mount").

Self-contained (ctypes only) so it can move to agentsh_runtime/linux.

Whose namespaces the connection gets: the FUSE kernel records the pid namespace and
the user namespace of the process calling mount(2). Request pids (ctx.pid) are
reported in that pid namespace and uids/gids (ctx.uid, ctx.gid) in that user
namespace. So mount from a process still in the monitor's pid namespace (and in the
initial user namespace when the backing files are owned by host ids), even when its
mount namespace is the container's; otherwise /proc/PID/comm read by the server
names the wrong process (or pid 0 when the caller is not visible).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
CLONE_NEWNS = 0x00020000

# mount(2) flag words accepted in `options`; everything else goes to the FUSE data string
_FLAG_WORDS = {
    "ro": (MS_RDONLY, True), "rw": (MS_RDONLY, False),
    "nosuid": (MS_NOSUID, True), "suid": (MS_NOSUID, False),
    "nodev": (MS_NODEV, True), "dev": (MS_NODEV, False),
    "noexec": (MS_NOEXEC, True), "exec": (MS_NOEXEC, False),
    "noatime": (MS_NOATIME, True), "atime": (MS_NOATIME, False),
    "nodiratime": (MS_NODIRATIME, True), "relatime": (MS_RELATIME, True),
}
# what the FUSE kernel itself understands in the data string
_FUSE_DATA = ("default_permissions", "allow_other", "max_read=", "blksize=", "user_id=",
              "group_id=", "rootmode=", "fd=")

DEFAULT_OPTIONS = ("default_permissions", "allow_other", "nosuid", "nodev")


def _check(ret: int, what: str, path: str | None = None) -> None:
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}", path)


def open_fuse_device() -> int:
    """Open /dev/fuse (close-on-exec; clear it before handing the fd to an exec)."""
    return os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)


def split_options(options: Iterable[str]) -> tuple[int, list[str]]:
    """mount(2) flags and FUSE data words from one option list (nosuid,nodev default)."""
    flags = MS_NOSUID | MS_NODEV
    data = []
    for o in options:
        o = o.strip()
        if not o:
            continue
        if o in _FLAG_WORDS:
            bit, on = _FLAG_WORDS[o]
            flags = flags | bit if on else flags & ~bit
        elif o.startswith(_FUSE_DATA):
            data.append(o)
        elif o.startswith(("fsname=", "subtype=")):
            continue  # libfuse options: the source and fstype arguments carry these
        else:
            raise ValueError(f"unknown FUSE mount option {o!r}")
    return flags, data


def mount_fuse_fd(target: str, fd: int, options: Iterable[str] = DEFAULT_OPTIONS, *,
                  rootmode: int = 0o40000, user_id: int = 0, group_id: int = 0,
                  source: str = "agentsh", subtype: str = "agentsh") -> None:
    """mount(2) a FUSE file system on `target` served through /dev/fuse fd `fd`:
    data "fd=N,rootmode=40000,user_id=0,group_id=0,<options>". Mount-flag words in
    `options` (ro, nosuid/suid, nodev/dev, noexec, noatime...) become mount flags
    (default nosuid,nodev); the rest (default_permissions, allow_other, max_read=N,
    blksize=N) go to the kernel. The mount is usable once a server answers INIT on
    the fd (the first access waits for it)."""
    flags, data = split_options(options)
    words = [f"fd={fd}", f"rootmode={rootmode:o}", f"user_id={user_id}",
             f"group_id={group_id}"]
    words += [w for w in data if not w.startswith(("fd=", "rootmode=", "user_id=",
                                                    "group_id="))]
    fstype = f"fuse.{subtype}" if subtype else "fuse"
    _check(_libc.mount(source.encode(), os.fsencode(target), fstype.encode(), flags,
                       ",".join(words).encode()), f"mount fuse on {target}", target)


def umount(target: str, detach: bool = True) -> None:
    _check(_libc.umount2(os.fsencode(target), MNT_DETACH if detach else 0),
           f"umount {target}", target)


def unshare_mount_ns(make_private: bool = True) -> None:
    """unshare(CLONE_NEWNS) and make every mount private (for tests and helpers)."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    if make_private:
        _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None),
               "make / rprivate", "/")


def mount_dev(mountpoint: str) -> str | None:
    """"major:minor" of the mount on `mountpoint` (the last one), from mountinfo: never
    stat a FUSE mount from its own server's thread (the stat would wait for itself)."""
    from ..linux.mount import mounts

    want = os.path.abspath(mountpoint)
    try:
        found = [dev for point, dev, _ in mounts() if point == want]
    except OSError:
        return None
    return found[-1] if found else None


def set_read_ahead(mountpoint: str, kb: int) -> bool:
    """Raise the read-ahead of a FUSE mount (its bdi is "0:<minor>"): bigger reads per
    request on sequential reads. Returns False when the host does not allow it. Call it
    after the server answered INIT (the INIT reply lowers it again)."""
    dev = mount_dev(mountpoint)
    return False if dev is None else set_read_ahead_bdi(dev, kb)


def set_read_ahead_bdi(dev: str, kb: int) -> bool:
    try:
        with open(f"/sys/class/bdi/{dev}/read_ahead_kb", "w") as f:
            f.write(str(int(kb)))
        return True
    except OSError:
        return False
