"""A traced syscall's path as the policy sees it: absolute, in the tracee's root, `..`
and symlinks resolved by the kernel (an O_PATH open of ours, read back through
/proc/self/fd), the last component kept when it does not exist yet."""

from __future__ import annotations

import ctypes
import errno
import os

from ..linux.libc import libc

AT_FDCWD = -100
MAX_LINKS = 40
SYS_openat2 = 437
RESOLVE_IN_ROOT = 0x10
_O_PATH = os.O_PATH | os.O_CLOEXEC


class Unresolvable(Exception):
    """The path cannot be named (a dirfd that is not a directory path, a loop...)."""


def _dec(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class Resolver:
    def __init__(self, root: str = "/") -> None:
        self.root = os.path.realpath(root)
        self._prefix = "" if self.root == "/" else self.root
        self._rootfd = None if self.root == "/" else os.open(self.root, _O_PATH)
        self.tgid: dict[int, int] = {}  # tid -> tgid, filled by the tracer

    def close(self) -> None:
        if self._rootfd is not None:
            os.close(self._rootfd)
            self._rootfd = None

    # -- the tracee's view ------------------------------------------------------------
    def _inside(self, host: str) -> str:
        """A path as we see it -> as the tracee sees it."""
        p = self._prefix
        if not p:
            return host
        if host == p:
            return "/"
        if host.startswith(p + "/"):
            return host[len(p):]
        raise Unresolvable(f"{host} is outside the tracee's root")

    def base(self, tid: int, dirfd: int) -> str:
        link = f"/proc/{tid}/cwd" if dirfd == AT_FDCWD else f"/proc/{tid}/fd/{dirfd}"
        try:
            target = os.readlink(link)
        except OSError as e:
            raise Unresolvable(f"{link}: {e.strerror}") from None
        if not target.startswith("/"):
            raise Unresolvable(f"dirfd {dirfd} is {target}, not a directory")
        return self._inside(target)

    def literal(self, tid: int, dirfd: int, raw: bytes) -> tuple[str, str]:
        """The path the caller named, absolute: (normalised, for the policy as written;
        as is, for the kernel-like resolution: `..` after a symlink is not lexical)."""
        text = _dec(raw)
        if not text.startswith("/"):
            base = self.base(tid, dirfd)
            text = base if not text else base.rstrip("/") + "/" + text
        if text.startswith("/proc/"):
            text = self._proc_self(tid, text)
        return os.path.normpath(text).replace("//", "/"), text

    def _proc_self(self, tid: int, text: str) -> str:
        """/proc/self means the caller, not us."""
        head, _, rest = text[6:].partition("/")
        if head == "self":
            return f"/proc/{self._tgid(tid)}" + ("/" + rest if rest else "")
        if head == "thread-self":
            return f"/proc/{self._tgid(tid)}/task/{tid}" + ("/" + rest if rest else "")
        return text

    def _tgid(self, tid: int) -> int:
        tgid = self.tgid.get(tid)
        if tgid is None:
            from ..linux.proc import tgid_of

            tgid = tgid_of(tid) or tid
            self.tgid[tid] = tgid
        return tgid

    # -- resolution -------------------------------------------------------------------
    def resolve(self, path: str, follow: bool) -> str:
        """`path` (absolute, the tracee's view) with symlinks resolved as the kernel
        would for a call that does (follow) or does not follow the last component."""
        for _ in range(MAX_LINKS):
            try:
                return self._real(path, follow)
            except OSError as e:
                if e.errno not in (errno.ENOENT, errno.ENOTDIR):
                    if e.errno == errno.ELOOP and not follow:
                        return self._parent_then(path)
                    raise Unresolvable(f"{path}: {e.strerror}") from None
            # the last component (or more) does not exist: a dangling symlink is
            # followed to where it points (O_CREAT creates its target)
            if follow:
                target = self._readlink(path)
                if target is not None:
                    path = target if target.startswith("/") else \
                        os.path.join(os.path.dirname(path), target)
                    continue
            return self._parent_then(path)
        raise Unresolvable(f"{path}: too many levels of symbolic links")

    def _parent_then(self, path: str) -> str:
        parent, name = os.path.split(path.rstrip("/") or "/")
        if name in ("", ".", ".."):
            # the parent's own resolution gives the meaning of a trailing . or ..
            real = self.resolve(parent or "/", True) if name else "/"
            return real if name != ".." else (os.path.dirname(real) or "/")
        if parent == path:
            return "/"
        real_parent = self.resolve(parent, True)
        return (real_parent.rstrip("/") + "/" + name) if real_parent != "/" else "/" + name

    def _real(self, path: str, follow: bool) -> str:
        flags = _O_PATH | (0 if follow else os.O_NOFOLLOW)
        fd = self._open(path, flags)
        try:
            return self._inside(os.readlink(f"/proc/self/fd/{fd}"))
        finally:
            os.close(fd)

    def _open(self, path: str, flags: int) -> int:
        if self._rootfd is None:
            return os.open(path, flags)
        how = ctypes.create_string_buffer(
            flags.to_bytes(8, "little") + bytes(8) + RESOLVE_IN_ROOT.to_bytes(8, "little"))
        fd = libc.syscall(SYS_openat2, self._rootfd, path.lstrip("/").encode(
            "utf-8", "surrogateescape") or b".", how, 24)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
        return fd

    def _readlink(self, path: str) -> str | None:
        try:
            fd = self._open(path, _O_PATH | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            return _readlink_fd(fd)
        finally:
            os.close(fd)


def _readlink_fd(fd: int) -> str | None:
    """readlinkat(fd, "") on an O_PATH|O_NOFOLLOW fd: the symlink's own text."""
    buf = ctypes.create_string_buffer(4096)
    n = libc.readlinkat(fd, b"", buf, 4096)
    if n < 0:
        return None
    return _dec(buf.raw[:n])
