"""ctypes wrapper of _execfast.so, the monitor's native fast path for repeated execs.

A native thread polls the seccomp listeners handed to `FastExec.add_listener` (it owns
and closes them from then on). A plain execve whose (path, argv, depth) and file
identity were remembered (`remember`) is answered there without Python (~35 us on a
fresh pid, mostly /proc lookups) and reported as a HANDLED record, queued before the
answer; everything else is queued as a SLOW record for Python to answer as before
(`Record.notif()` gives the `seccomp.Notif`; answer on `Record.listener`). The eventfd
(`fileno()`) is readable while records are queued; `drain()` clears it and pops them.

A SLOW exec record with `fastpathable` set carries the key and the file identity the
native side saw: after Python decides, `remember(record, error, tag)` caches the
decision (error 0: continue, >0: fail with that errno). Only remember a decision that
depends on nothing but the key and the identity, and only when Python's own reading
agrees with the record (make_key(path, argv, depth) == record.key and its resolved path
== record.resolved).

Layouts are documented in execfast.c; the header is mirrored by `_HDR` here.
No heavy imports: the monitor imports this on start.
"""

from __future__ import annotations

import ctypes
import os
import struct

EF_NEED_DEPTH = 1  # compute the depth (else 0)
EF_QUIET_HANDLED = 2  # HANDLED records do not make the eventfd readable

HANDLED = 1
SLOW = 2
LISTENER_GONE = 3
FILE_OPEN = 4  # a read-only open answered with a backing fd (openfast.c), to be logged

# u32 kind, u32 total_size, u64 notif_id, u32 pid, i32 listener_fd, u32 arch, i32 nr,
# u64 ip, u64 args[6], u32 notif_flags, i32 tag, i32 error, u32 depth, u64 latency_ns,
# u32 fastpathable, u32 dropped, u64 dev, u64 ino, i64 mtime_ns, i64 ctime_ns, i64 size,
# u32 resolved_len, u32 key_len; then resolved bytes, then key bytes
_HDR = struct.Struct("<IIQIiIiQ6QIiiIQIIQQqqqII")
HEADER_SIZE = _HDR.size  # 168
# struct ef_ident: u64 dev, ino; i64 mtime_ns, ctime_ns, size; u32 resolved_len; u32 pad;
# then the resolved path bytes
_IDENT = struct.Struct("<QQqqqI4x")

SO_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_execfast.so")

_lib: ctypes.CDLL | None = None


def _load() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(SO_PATH, use_errno=True)
        vp, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
        lib.ef_new.argtypes = [i, i, ctypes.c_ulonglong, ctypes.c_char_p]
        lib.ef_new.restype = vp
        lib.ef_event_fd.argtypes = [vp]
        lib.ef_event_fd.restype = i
        lib.ef_add_listener.argtypes = [vp, i]
        lib.ef_add_listener.restype = i
        lib.ef_next.argtypes = [vp, vp, sz]
        lib.ef_next.restype = ctypes.c_long
        lib.ef_remember.argtypes = [vp, ctypes.c_char_p, sz, ctypes.c_char_p, i, i]
        lib.ef_remember.restype = i
        lib.ef_thread_tid.argtypes = [vp]
        lib.ef_thread_tid.restype = i
        lib.ef_set_files.argtypes = [vp, ctypes.c_char_p, sz]
        lib.ef_set_files.restype = i
        lib.ef_acted_for.argtypes = [i]
        lib.ef_acted_for.restype = i
        lib.ef_acting_for.argtypes = [i]
        lib.ef_acting_for.restype = i
        ull = ctypes.c_ulonglong
        lib.ef_open_for.argtypes = [i, ull, i, ctypes.c_char_p, i, ull, ull]
        lib.ef_open_for.restype = i
        lib.ef_match_files.argtypes = [ctypes.c_char_p, sz, ctypes.c_char_p, sz]
        lib.ef_match_files.restype = i
        lib.ef_free.argtypes = [vp]
        lib.ef_free.restype = None
        _lib = lib
    return _lib


def available() -> bool:
    """Whether the native library is there and loads (False: keep the Python path)."""
    if _lib is not None:
        return True
    if not os.path.exists(SO_PATH):
        return False
    try:
        _load()
    except OSError:
        return False
    return True


def _enc(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _dec(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def make_key(path: str, argv: tuple[str, ...], depth: int) -> bytes:
    """The native side's key: path NUL, each argv string NUL, u32-le depth."""
    parts = [_enc(path), b"\0"]
    for a in argv:
        parts.append(_enc(a))
        parts.append(b"\0")
    parts.append((depth & 0xFFFFFFFF).to_bytes(4, "little"))
    return b"".join(parts)


def split_key(key: bytes) -> tuple[str, tuple[str, ...], int]:
    """(path, argv, depth) of a key made by make_key (or the native side)."""
    if len(key) < 5:
        return "", (), 0
    parts = key[:-4].split(b"\0")
    depth = int.from_bytes(key[-4:], "little")
    return _dec(parts[0]), tuple(_dec(p) for p in parts[1:-1]), depth


class Record:
    """One record popped from the native queue (see execfast.c for the meaning)."""

    __slots__ = ("kind", "notif_id", "pid", "listener", "arch", "nr", "ip", "args", "flags",
                 "tag", "error", "depth", "latency_ns", "fastpathable", "dropped", "dev",
                 "ino", "mtime_ns", "ctime_ns", "size", "resolved", "key")

    def __init__(self, raw: bytes | bytearray | memoryview) -> None:
        (self.kind, total, self.notif_id, self.pid, self.listener, self.arch, self.nr,
         self.ip, a0, a1, a2, a3, a4, a5, self.flags, self.tag, self.error, self.depth,
         self.latency_ns, fp, self.dropped, self.dev, self.ino, self.mtime_ns,
         self.ctime_ns, self.size, rlen, klen) = _HDR.unpack_from(raw)
        self.args = (a0, a1, a2, a3, a4, a5)
        self.fastpathable = bool(fp)
        off = HEADER_SIZE
        self.resolved = _dec(bytes(raw[off:off + rlen]))
        self.key = bytes(raw[off + rlen:off + rlen + klen])

    @property
    def path(self) -> str:
        return split_key(self.key)[0]

    @property
    def argv(self) -> tuple[str, ...]:
        return split_key(self.key)[1]

    @property
    def ident(self) -> tuple[int, int, int, int, int, str]:
        """(dev, ino, mtime_ns, ctime_ns, size, resolved), as `remember` takes it."""
        return (self.dev, self.ino, self.mtime_ns, self.ctime_ns, self.size, self.resolved)

    def notif(self):  # noqa: ANN201 - a seccomp.Notif (imported lazily)
        """The notification as agentsh_runtime.linux.seccomp.Notif, for the Python handlers."""
        from ..linux.seccomp import Notif

        return Notif(self.notif_id, self.pid, self.flags, self.nr, self.arch, self.ip,
                     self.args)

    def __repr__(self) -> str:
        kind = {HANDLED: "HANDLED", SLOW: "SLOW", LISTENER_GONE: "LISTENER_GONE",
                FILE_OPEN: "FILE_OPEN"}.get(
            self.kind, str(self.kind))
        return (f"Record({kind}, id={self.notif_id:#x}, pid={self.pid}, "
                f"listener={self.listener}, nr={self.nr}, error={self.error}, "
                f"tag={self.tag}, fastpathable={self.fastpathable}, depth={self.depth}, "
                f"resolved={self.resolved!r}, key={self.key[:80]!r})")


def acting_for(tid: int) -> int:
    """The container thread one of the monitor's threads (`tid`) is opening a file for
    right now (openself.c), or 0."""
    return _load().ef_acting_for(tid)


def acted_for(tid: int) -> bool:
    """Is one of the monitor's threads opening a file for container thread `tid`?"""
    return bool(_load().ef_acted_for(tid))


def open_for(listener: int, notif_id: int, tid: int, path: str, host: bool, flags: int,
             mode: int) -> int:
    """Open `path` for the caller `tid` as the caller and answer notification
    `notif_id` with the fd (openself.c ef_open_for; this thread may block, on a FIFO).
    The caller's new fd, or -errno (answered with that error)."""
    p = path.encode("utf-8", "surrogateescape")
    return _load().ef_open_for(listener, notif_id, tid, p, 1 if host else 0, flags, mode)


def match_files(blob: bytes, path: str) -> int:
    """The rule index the native matcher gives a read of `path` under `blob` (-1: none)."""
    p = _enc(path)
    r = _load().ef_match_files(blob, len(blob), p, len(p))
    if r == -2:
        raise _err("ef_match_files")
    return r


def _err(what: str) -> OSError:
    e = ctypes.get_errno()
    return OSError(e, f"{what}: {os.strerror(e)}")


class FastExec:
    """The native fast path of one container's monitor."""

    def __init__(self, procs_file: str, need_depth: bool, init_pid: int,
                 pidns_ino: int, quiet_handled: bool = False) -> None:
        """procs_file: the container's cgroup.procs ("" to check only the parent for
        shared memory; a cgroup2 one is kept open, a v1 one reopened per exec).
        need_depth, init_pid, pidns_ino: as execcheck.depth_of. quiet_handled: HANDLED
        records do not wake the eventfd (drain() them when convenient, e.g. before
        handling process events); SLOW and LISTENER_GONE ones always do."""
        lib = _load()
        self._lib = lib
        flags = (EF_NEED_DEPTH if need_depth else 0) | (EF_QUIET_HANDLED if quiet_handled else 0)
        h = lib.ef_new(flags, init_pid, pidns_ino, _enc(procs_file or ""))
        if not h:
            raise _err("ef_new")
        self._h: int | None = h
        self._fd = lib.ef_event_fd(h)
        self.thread_tid = lib.ef_thread_tid(h)
        self._buf = ctypes.create_string_buffer(1 << 16)

    def fileno(self) -> int:
        return self._fd

    def add_listener(self, fd: int) -> None:
        """Hand a seccomp listener over: the native thread polls (and closes) it from now on."""
        if self._h is None:
            raise ValueError("FastExec is closed")
        if self._lib.ef_add_listener(self._h, fd) < 0:
            raise _err("ef_add_listener")

    def next(self) -> Record | None:
        """Pop one record, or None."""
        if self._h is None:
            return None
        while True:
            n = self._lib.ef_next(self._h, self._buf, len(self._buf))
            if n == 0:
                return None
            if n > 0:
                return Record(memoryview(self._buf)[:n])
            self._buf = ctypes.create_string_buffer(-n)

    def drain(self) -> list[Record]:
        """Clear the eventfd, then pop every queued record."""
        if self._h is None:
            return []
        try:
            os.read(self._fd, 8)
        except BlockingIOError:
            pass
        out: list[Record] = []
        while (rec := self.next()) is not None:
            out.append(rec)
        return out

    def remember(self, what: Record | tuple[bytes, tuple], error: int = 0, tag: int = 0) -> None:
        """Cache a decision for a key + identity: a fastpathable SLOW record, or
        (key, (dev, ino, mtime_ns, ctime_ns, size, resolved))."""
        if self._h is None:
            raise ValueError("FastExec is closed")
        if isinstance(what, Record):
            if not what.fastpathable and what.kind != HANDLED:
                raise ValueError("record is not fastpathable")
            key, ident = what.key, what.ident
        else:
            key, ident = what
        dev, ino, mtime_ns, ctime_ns, size, resolved = ident
        res = resolved if isinstance(resolved, bytes) else _enc(resolved)
        packed = _IDENT.pack(dev, ino, mtime_ns, ctime_ns, size, len(res)) + res
        if self._lib.ef_remember(self._h, key, len(key), packed, error, tag) < 0:
            raise _err("ef_remember")

    def set_files(self, blob: bytes) -> None:
        """Configure the open fast path (openfast.c; blob from openfast.build_config)."""
        if self._h is None:
            raise ValueError("FastExec is closed")
        if self._lib.ef_set_files(self._h, blob, len(blob)) < 0:
            raise _err("ef_set_files")

    def close(self) -> None:
        """Stop and join the native thread; closes the listeners it owns and the eventfd."""
        h, self._h = self._h, None
        if h is not None:
            self._lib.ef_free(h)
            self._fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __enter__(self) -> FastExec:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
