"""The FUSE server of file_rules (agentsh_runtime.fusefs), on real FUSE mounts, as root.

- Passthrough correctness: one POSIX-behaviour suite run in a child process against a
  native directory and through the FUSE mount of another one; the results must match.
- Policy hook: denied reads and writes through every path form, hardlinks, redirect,
  soft_delete, approve, events with bytes aggregated per handle.
- kmount: a mount(2) made on an opened /dev/fuse fd in a private mount namespace, served
  through "/dev/fd/N".
- Speed figures (printed, never asserted): find+cat of 2,000 small files and a 256 MiB
  sequential write+read, native / our FUSE / bindfs.

The server runs in a thread of this process; every file operation on a mount runs in a
forked child (an mmap fault in this process would hold the GIL the server needs).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import mmap
import os
import random
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pyfuse3 = pytest.importorskip("pyfuse3")
trio = pytest.importorskip("trio")

from agentsh_runtime.fusefs import kmount, trash  # noqa: E402
from agentsh_runtime.fusefs.mount import serve_async  # noqa: E402
from agentsh_runtime.fusefs.passthrough import Passthrough, scan_hardlinks  # noqa: E402
from agentsh_runtime.fusefs.verdict import ALLOW, Verdict  # noqa: E402

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="FUSE mounts need root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
]

REPO = Path(__file__).resolve().parents[2]
USER = 1000  # the non-root "container user"


# ---- harness ------------------------------------------------------------------------

def mounted(path: str | Path) -> bool:
    return kmount.mount_dev(str(path)) is not None


class FuseServer:
    """A Passthrough served in a thread of this process (trio.run in that thread)."""

    def __init__(self, backing: str | int, mountpoint: str | int,
                 options: list[str] | None = None, **kw: Any) -> None:
        self.ops = Passthrough(backing, **kw)
        self.mountpoint = mountpoint
        self.options = options
        self.token: Any = None
        self.nursery: Any = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.token = trio.lowlevel.current_trio_token()
            async with trio.open_nursery() as n:
                self.nursery = n
                await n.start(serve_async, self.ops, self.mountpoint, self.options)
                self.ready.set()
        try:
            trio.run(main)
        except BaseException as e:  # noqa: BLE001
            self.error = e
        finally:
            self.ready.set()
            self.done.set()

    def __enter__(self) -> FuseServer:
        self.thread.start()
        assert self.ready.wait(15), "the FUSE server did not start"
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        if not self.done.is_set() and self.token is not None:
            try:
                trio.from_thread.run_sync(self.nursery.cancel_scope.cancel,
                                          trio_token=self.token)
            except trio.RunFinishedError:
                pass
        self.thread.join(15)
        assert not self.thread.is_alive(), "the FUSE server did not stop"

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if isinstance(self.mountpoint, str):
            assert not mounted(self.mountpoint), "still mounted after the server stopped"

    def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        return trio.from_thread.run_sync(fn, *args, trio_token=self.token)


def in_child(fn: Callable[..., Any], *args: Any, uid: int | None = None,
             timeout: float = 120.0) -> Any:
    """Run fn(*args) in a forked child (optionally as uid:uid with no groups); return
    its JSON-able result, or raise what it raised (as RuntimeError with its repr)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            res = {"ok": fn(*args)}
        except BaseException as e:  # noqa: BLE001
            res = {"exc": repr(e)}
            code = 1
        try:
            data = json.dumps(res, default=repr).encode()
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise TimeoutError(f"child {fn.__name__} timed out")
            b = os.read(r, 1 << 20)
            if not b:
                break
            chunks.append(b)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    res = json.loads(b"".join(chunks) or b'{"exc": "no result"}')
    if "exc" in res:
        raise RuntimeError(f"child {fn.__name__}: {res['exc']}")
    return res["ok"]


def spawn_child(fn: Callable[..., Any], *args: Any) -> tuple[int, int]:
    """fn(*args) in a forked child that is not waited for; returns (pid, read fd)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            res = {"ok": fn(*args)}
        except BaseException as e:  # noqa: BLE001
            res = {"exc": repr(e)}
        try:
            os.write(w, json.dumps(res, default=repr).encode())
        finally:
            os._exit(0)
    os.close(w)
    return pid, r


def child_result(pid: int, r: int, timeout: float = 30.0) -> Any:
    if not select.select([r], [], [], timeout)[0]:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
        raise TimeoutError("child did not finish")
    data = b""
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        data += b
    os.close(r)
    os.waitpid(pid, 0)
    res = json.loads(data or b'{"exc": "no result"}')
    if "exc" in res:
        raise RuntimeError(res["exc"])
    return res["ok"]


def try_(f: Callable[..., Any], *a: Any, **kw: Any) -> Any:
    """f's result, or the errno name it failed with."""
    try:
        out = f(*a, **kw)
    except OSError as e:
        return errno.errorcode.get(e.errno or 0, str(e))
    return "ok" if out is None else out


def errno_of(f: Callable[..., Any], *a: Any, **kw: Any) -> str:
    """"ok" (closing the fd f returned) or the errno name f failed with."""
    try:
        fd = f(*a, **kw)
    except OSError as e:
        return errno.errorcode.get(e.errno or 0, str(e))
    if isinstance(fd, int):
        os.close(fd)
    return "ok"


@pytest.fixture
def base() -> Iterator[Path]:
    """A scratch directory a non-root user can traverse (pytest's tmp_path is 0700)."""
    d = Path(tempfile.mkdtemp(prefix="agentsh-fusefs-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    leftover = [m for m in _mounts() if m.startswith(str(d))]
    for m in leftover:
        subprocess.run(["umount", "-l", m], check=False)
    shutil.rmtree(d, ignore_errors=True)
    assert not leftover, f"left mounted: {leftover}"


def _mounts() -> list[str]:
    with open("/proc/self/mounts") as f:
        return [ln.split()[1] for ln in f]


@pytest.fixture
def dirs(base: Path) -> tuple[Path, Path, Path]:
    """(native dir, backing dir, mount point)."""
    native, backing, mnt = base / "native", base / "backing", base / "mnt"
    for d in (native, backing, mnt):
        d.mkdir()
        os.chmod(d, 0o755)
    return native, backing, mnt


# ---- the POSIX-behaviour suite (runs in a child, same code on both trees) ------------

def _st(st: os.stat_result) -> dict:
    return {"mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
            "size": st.st_size, "nlink": st.st_nlink}


def _fsx(root: str, seed: int = 1234, nops: int = 400) -> dict:
    """fsx-style: random writes, truncates, reads through several fds, against a model."""
    rnd = random.Random(seed)
    path = os.path.join(root, "fsx.bin")
    model = bytearray()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    bad = []
    maxlen = 1 << 20
    for i in range(nops):
        op = rnd.choice(["write", "write", "read", "read", "trunc", "reopen", "mapread",
                         "mapwrite", "append"])
        if op == "write":
            off = rnd.randrange(0, maxlen)
            n = rnd.randrange(1, 65536)
            data = rnd.randbytes(n)
            os.pwrite(fd, data, off)
            if len(model) < off:
                model.extend(b"\0" * (off - len(model)))
            model[off:off + n] = data
        elif op == "append":
            data = rnd.randbytes(rnd.randrange(1, 9000))
            afd = os.open(path, os.O_WRONLY | os.O_APPEND)
            os.write(afd, data)
            os.close(afd)
            model.extend(data)
        elif op == "read":
            off = rnd.randrange(0, maxlen)
            n = rnd.randrange(1, 65536)
            got = os.pread(fd, n, off)
            if got != bytes(model[off:off + n]):
                bad.append([i, op, off, n])
        elif op == "trunc":
            size = rnd.randrange(0, maxlen)
            if rnd.random() < 0.5:
                os.ftruncate(fd, size)
            else:
                os.truncate(path, size)
            if size < len(model):
                del model[size:]
            else:
                model.extend(b"\0" * (size - len(model)))
        elif op == "reopen":
            os.close(fd)
            fd = os.open(path, os.O_RDWR)
        elif op in ("mapread", "mapwrite") and len(model) > 0:
            with mmap.mmap(fd, len(model)) as m:
                off = rnd.randrange(0, len(model))
                n = min(rnd.randrange(1, 8192), len(model) - off)
                if op == "mapread":
                    if m[off:off + n] != bytes(model[off:off + n]):
                        bad.append([i, op, off, n])
                else:
                    data = rnd.randbytes(n)
                    m[off:off + n] = data
                    model[off:off + n] = data
                    m.flush()
        if os.fstat(fd).st_size != len(model):
            bad.append([i, op, "size", os.fstat(fd).st_size, len(model)])
            break
    os.close(fd)
    with open(path, "rb") as f:
        final = f.read()
    return {"mismatches": bad[:5], "final_ok": final == bytes(model),
            "sha": hashlib.sha256(final).hexdigest(), "size": len(final)}


def posix_suite(root: str) -> dict:
    r: dict[str, Any] = {}
    j = lambda *p: os.path.join(root, *p)  # noqa: E731

    r["fsx"] = _fsx(root)

    # rename over an existing file; rename a directory with contents; rename flags
    for n, c in (("a", b"AAA"), ("b", b"BBBB")):
        with open(j(n), "wb") as f:
            f.write(c)
    os.rename(j("a"), j("b"))
    r["rename_over"] = [sorted(os.listdir(root)), open(j("b"), "rb").read().decode()]
    os.makedirs(j("d1", "sub"))
    with open(j("d1", "sub", "f"), "w") as f:
        f.write("deep")
    os.rename(j("d1"), j("d2"))
    r["rename_dir"] = [os.path.exists(j("d1")), open(j("d2", "sub", "f")).read()]
    libc = ctypes.CDLL(None, use_errno=True)

    def renameat2(a: str, b: str, flags: int) -> str:
        rc = libc.renameat2(-100, a.encode(), -100, b.encode(), flags)
        return "ok" if rc == 0 else errno.errorcode[ctypes.get_errno()]
    with open(j("x1"), "w") as f:
        f.write("one")
    with open(j("x2"), "w") as f:
        f.write("two")
    r["noreplace"] = renameat2(j("x1"), j("x2"), 1)
    r["exchange"] = [renameat2(j("x1"), j("x2"), 2), open(j("x1")).read(),
                     open(j("x2")).read()]
    r["noreplace_new"] = [renameat2(j("x1"), j("x3"), 1), os.path.exists(j("x1"))]
    r["rename_errors"] = [try_(os.rename, j("d2"), j("x2")), try_(os.rename, j("x2"), j("d2")),
                          try_(os.rename, j("nope"), j("x9"))]

    # unlink of an open file, then read and write through the fd
    fd = os.open(j("gone"), os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b"before")
    os.unlink(j("gone"))
    os.write(fd, b"+after")
    os.lseek(fd, 0, 0)
    r["unlink_open"] = [os.read(fd, 100).decode(), os.fstat(fd).st_nlink,
                        os.path.exists(j("gone"))]
    os.close(fd)

    # O_APPEND from two fds; O_EXCL
    a1 = os.open(j("app"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    a2 = os.open(j("app"), os.O_WRONLY | os.O_APPEND)
    for i in range(5):
        os.write(a1 if i % 2 else a2, f"<{i}>".encode())
    os.lseek(a1, 0, 0)
    os.write(a1, b"|")  # still appends
    os.close(a1)
    os.close(a2)
    r["append"] = open(j("app")).read()
    r["excl"] = [errno_of(os.open, j("app"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600),
                 errno_of(os.open, j("newx"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600),
                 oct(os.stat(j("newx")).st_mode)]
    r["trunc_open"] = errno_of(os.open, j("app"), os.O_WRONLY | os.O_TRUNC)
    r["trunc_open_size"] = os.stat(j("app")).st_size

    # sparse file
    fd = os.open(j("sparse"), os.O_RDWR | os.O_CREAT, 0o644)
    os.lseek(fd, 10 << 20, 0)
    os.write(fd, b"Z")
    os.fsync(fd)
    st = os.fstat(fd)
    r["sparse"] = [st.st_size, st.st_blocks * 512 < (1 << 20), os.pread(fd, 8, 4096) == b"\0" * 8,
                   os.pread(fd, 4, (10 << 20) - 1)]
    r["sparse"][3] = r["sparse"][3].hex()
    os.close(fd)

    # mmap: write through MAP_SHARED, read back with read(); read a mapping of write()n data
    fd = os.open(j("mm"), os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, bytes(range(256)) * 256)
    m = mmap.mmap(fd, 65536, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[100:105] = b"HELLO"
    m[65530:65536] = b"ENDEND"
    m.flush()
    first = m[0:16].hex()
    m.close()
    os.close(fd)
    with open(j("mm"), "rb") as f:
        data = f.read()
    r["mmap"] = [first, data[100:105].decode(), data[65530:].decode(),
                 hashlib.sha256(data).hexdigest()]

    # a 64 MiB file written in 1 MiB chunks, read back in odd-sized chunks
    h = hashlib.sha256()
    with open(j("big"), "wb") as f:
        for i in range(64):
            chunk = bytes([i]) * (1 << 20)
            h.update(chunk)
            f.write(chunk)
    h2 = hashlib.sha256()
    with open(j("big"), "rb") as f:
        while True:
            b = f.read(777_777)
            if not b:
                break
            h2.update(b)
    r["big"] = [os.stat(j("big")).st_size, h.hexdigest() == h2.hexdigest()]
    os.unlink(j("big"))

    # xattrs
    with open(j("xa"), "w") as f:
        f.write("x")
    os.setxattr(j("xa"), "user.one", b"1")
    os.setxattr(j("xa"), "user.two", b"22")
    r["xattr"] = [sorted(os.listxattr(j("xa"))), os.getxattr(j("xa"), "user.two").decode(),
                  try_(os.setxattr, j("xa"), "user.one", b"x", os.XATTR_CREATE),
                  try_(os.setxattr, j("xa"), "user.new", b"x", os.XATTR_REPLACE),
                  try_(os.removexattr, j("xa"), "user.one"),
                  try_(os.getxattr, j("xa"), "user.one"), sorted(os.listxattr(j("xa")))]

    # symlinks and hardlinks
    os.symlink("b", j("sl"))
    os.symlink("/nonexistent/target", j("dangling"))
    os.symlink("d2/sub", j("sldir"))
    r["symlink"] = [os.readlink(j("sl")), open(j("sl")).read(), oct(os.lstat(j("sl")).st_mode),
                    os.readlink(j("dangling")), try_(os.stat, j("dangling")),
                    sorted(os.listdir(j("sldir"))), os.path.islink(j("sl")),
                    try_(os.open, j("sl"), os.O_RDONLY | os.O_NOFOLLOW)]
    os.link(j("b"), j("hl"))
    s1, s2 = os.stat(j("b")), os.stat(j("hl"))
    with open(j("hl"), "ab") as f:
        f.write(b"+hl")
    r["hardlink"] = [s1.st_nlink, s2.st_nlink, s1.st_ino == s2.st_ino,
                     open(j("b")).read()]
    os.unlink(j("b"))
    r["hardlink"] += [os.stat(j("hl")).st_nlink, open(j("hl")).read()]
    r["link_errors"] = [try_(os.link, j("d2"), j("dl")), try_(os.link, j("nope"), j("nl")),
                        try_(os.link, j("hl"), j("app"))]

    # readdir of 1000 entries
    os.mkdir(j("many"))
    names = [f"f{i:04d}" for i in range(1000)]
    for n in names:
        os.close(os.open(j("many", n), os.O_CREAT | os.O_WRONLY, 0o600))
    os.mkdir(j("many", "adir"))
    os.symlink("f0001", j("many", "alink"))
    listed = os.listdir(j("many"))
    types = {e.name: (e.is_dir(follow_symlinks=False), e.is_symlink())
             for e in os.scandir(j("many")) if e.name in ("adir", "alink", "f0002")}
    r["readdir"] = [len(listed), sorted(listed) == sorted(names + ["adir", "alink"]),
                    sorted(types.items())]
    shutil.rmtree(j("many"))

    # statfs
    sv = os.statvfs(root)
    r["statfs"] = [sv.f_bsize, sv.f_namemax, sv.f_blocks > 0]

    # chmod, chown, utime, truncate by path
    with open(j("meta"), "w") as f:
        f.write("0123456789")
    os.chmod(j("meta"), 0o640)
    os.chown(j("meta"), USER, USER)
    os.utime(j("meta"), ns=(1_000_000_123, 2_000_000_456))
    st = os.stat(j("meta"))
    r["meta"] = [_st(st), st.st_atime_ns, st.st_mtime_ns]
    os.chmod(j("meta"), 0o4755)
    os.chown(j("meta"), 0, 0)  # chown clears setuid
    r["chown_clears_suid"] = oct(os.stat(j("meta")).st_mode)
    os.truncate(j("meta"), 4)
    r["truncate_path"] = [os.stat(j("meta")).st_size, open(j("meta")).read()]
    os.utime(j("meta"))  # now
    r["utime_now"] = abs(os.stat(j("meta")).st_mtime - time.time()) < 5
    os.symlink("meta", j("metalink"))
    os.utime(j("metalink"), ns=(5_000_000_000, 6_000_000_000), follow_symlinks=False)
    r["lutime"] = [os.lstat(j("metalink")).st_mtime_ns, os.stat(j("meta")).st_mtime_ns
                   == 6_000_000_000]
    os.chown(j("metalink"), USER, USER, follow_symlinks=False)
    r["lchown"] = [os.lstat(j("metalink")).st_uid, os.stat(j("meta")).st_uid]

    # mkdir/rmdir/unlink errors, mknod of a fifo
    r["dir_errors"] = [try_(os.rmdir, j("d2")), try_(os.rmdir, j("hl")), try_(os.unlink, j("d2")),
                       errno_of(os.open, j("d2"), os.O_WRONLY), try_(os.mkdir, j("d2")),
                       try_(os.rmdir, j("nope")), errno_of(os.open, j("hl", "x"), os.O_RDONLY)]
    os.mkfifo(j("fifo"), 0o600)
    r["fifo"] = oct(os.stat(j("fifo")).st_mode)
    os.mknod(j("nod"), 0o600 | stat.S_IFREG)
    r["mknod_reg"] = [oct(os.stat(j("nod")).st_mode), os.stat(j("nod")).st_size]

    # posix_fallocate (glibc emulates it when fallocate(2) is not supported), fsync
    fd = os.open(j("falloc"), os.O_RDWR | os.O_CREAT, 0o644)
    r["posix_fallocate"] = [try_(os.posix_fallocate, fd, 0, 100_000), os.fstat(fd).st_size]
    r["fsync"] = [try_(os.fsync, fd), try_(os.fdatasync, fd)]
    os.close(fd)

    # locks: flock and POSIX locks between two open file descriptions
    f1 = os.open(j("lock"), os.O_RDWR | os.O_CREAT, 0o644)
    f2 = os.open(j("lock"), os.O_RDWR)
    fcntl.flock(f1, fcntl.LOCK_EX)
    r["flock"] = try_(fcntl.flock, f2, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(f1, fcntl.LOCK_UN)
    r["flock_after"] = try_(fcntl.flock, f2, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(f1)
    os.close(f2)

    # directory listing and final sizes of everything left
    out = {}
    for dp, dn, fn in os.walk(root):
        for n in sorted(dn + fn):
            p = os.path.join(dp, n)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = [oct(st.st_mode), st.st_size, st.st_nlink,
                                             st.st_uid]
    r["tree"] = out
    return r


def perm_setup(root: str) -> None:
    j = lambda *p: os.path.join(root, *p)  # noqa: E731
    os.mkdir(j("perm"), 0o755)
    with open(j("perm", "ro"), "w") as f:
        f.write("root's")
    os.chmod(j("perm", "ro"), 0o644)
    with open(j("perm", "secret"), "w") as f:
        f.write("no")
    os.chmod(j("perm", "secret"), 0o600)
    with open(j("perm", "mine"), "w") as f:
        f.write("user's")
    os.chown(j("perm", "mine"), USER, USER)
    os.chmod(j("perm", "mine"), 0o600)
    os.mkdir(j("perm", "open"))
    os.chmod(j("perm", "open"), 0o777)
    os.mkdir(j("perm", "sticky"))
    os.chmod(j("perm", "sticky"), 0o1777)
    with open(j("perm", "sticky", "rootfile"), "w") as f:
        f.write("x")
    os.chmod(j("perm", "sticky", "rootfile"), 0o666)
    os.mkdir(j("perm", "sgid"))
    os.chown(j("perm", "sgid"), 0, 4242)
    os.chmod(j("perm", "sgid"), 0o2777)
    for n, mode in (("suid_w", 0o4755), ("suid_t", 0o4755), ("sgid_w", 0o2775)):
        with open(j("perm", n), "w") as f:
            f.write("#!/bin/sh\n")
        os.chown(j("perm", n), USER if n.startswith("suid") else 0, USER)
        os.chmod(j("perm", n), mode)


def perm_check(root: str) -> dict:
    j = lambda *p: os.path.join(root, "perm", *p)  # noqa: E731
    os.umask(0o022)
    r: dict[str, Any] = {"uid": os.getuid()}
    r["read_ro"] = open(j("ro")).read()
    r["write_ro"] = errno_of(os.open, j("ro"), os.O_WRONLY)
    r["read_secret"] = errno_of(os.open, j("secret"), os.O_RDONLY)
    r["create_in_perm"] = errno_of(os.open, j("new"), os.O_CREAT | os.O_WRONLY, 0o644)
    r["mkdir_in_perm"] = try_(os.mkdir, j("newdir"))
    r["chmod_ro"] = try_(os.chmod, j("ro"), 0o777)
    r["chown_mine"] = try_(os.chown, j("mine"), 0, 0)
    r["utime_ro"] = try_(os.utime, j("ro"), ns=(1, 1))
    r["utime_now_ro"] = try_(os.utime, j("ro"))
    r["truncate_ro"] = try_(os.truncate, j("ro"), 0)
    r["unlink_ro"] = try_(os.unlink, j("ro"))
    r["rw_mine"] = [errno_of(os.open, j("mine"), os.O_RDWR), try_(os.chmod, j("mine"), 0o640),
                    oct(os.stat(j("mine")).st_mode)]
    r["sticky_unlink"] = try_(os.unlink, j("sticky", "rootfile"))
    r["sticky_rename"] = try_(os.rename, j("sticky", "rootfile"), j("sticky", "x"))
    fd = os.open(j("open", "created"), os.O_CREAT | os.O_WRONLY, 0o666)
    os.close(fd)
    os.mkdir(j("open", "dir"), 0o777)
    os.symlink("created", j("open", "link"))
    os.mkfifo(j("open", "fifo"), 0o666)
    r["owners"] = {n: [os.lstat(j("open", n)).st_uid, os.lstat(j("open", n)).st_gid,
                       oct(os.lstat(j("open", n)).st_mode)]
                   for n in ("created", "dir", "link", "fifo")}
    fd = os.open(j("sgid", "f"), os.O_CREAT | os.O_WRONLY, 0o2755)
    os.close(fd)
    os.mkdir(j("sgid", "d"), 0o755)
    r["sgid"] = {n: [os.stat(j("sgid", n)).st_gid, oct(os.stat(j("sgid", n)).st_mode)]
                 for n in ("f", "d")}
    r["access"] = [os.access(j("ro"), os.R_OK), os.access(j("ro"), os.W_OK),
                   os.access(j("secret"), os.R_OK), os.access(j("open"), os.W_OK)]
    r["setxattr_ro"] = try_(os.setxattr, j("ro"), "user.x", b"1")
    # a write or truncate by a non-root user drops setuid/setgid bits (the kernel's job)
    for n in ("suid_w", "sgid_w"):
        with open(j(n), "a") as f:
            f.write("echo\n")
    os.truncate(j("suid_t"), 0)
    r["killpriv"] = {n: oct(os.stat(j(n)).st_mode) for n in ("suid_w", "sgid_w", "suid_t")}
    return r


def test_posix_suite_matches_native(dirs: tuple[Path, Path, Path]) -> None:
    native, backing, mnt = dirs
    with FuseServer(str(backing), str(mnt)):
        fuse = in_child(posix_suite, str(mnt))
    nat = in_child(posix_suite, str(native))
    assert nat["fsx"]["final_ok"] and not nat["fsx"]["mismatches"]
    diffs = {k: (nat[k], fuse.get(k)) for k in nat if nat[k] != fuse.get(k)}
    assert not diffs, json.dumps(diffs, indent=1)[:6000]


def test_permissions_as_user_match_native(dirs: tuple[Path, Path, Path]) -> None:
    native, backing, mnt = dirs
    in_child(perm_setup, str(native))
    in_child(perm_setup, str(backing))
    nat = in_child(perm_check, str(native), uid=USER)
    with FuseServer(str(backing), str(mnt)):
        fuse = in_child(perm_check, str(mnt), uid=USER)
    assert nat["uid"] == USER and nat["write_ro"] == "EACCES"
    diffs = {k: (nat[k], fuse.get(k)) for k in nat if nat[k] != fuse.get(k)}
    assert not diffs, json.dumps(diffs, indent=1)


# ---- policy hook ----------------------------------------------------------------------

WRITE_OPS = frozenset(("write", "create", "delete", "rmdir", "mkdir", "rename", "link",
                       "symlink", "chmod", "chown", "mknod"))


class Rules:
    """A small policy: no reads under /secret, no writes outside /work; every
    decision that is not a plain allow is logged; `extra(op, path, path2)` may answer
    first. Paths are as the container sees them (the mount is the container's /)."""

    def __init__(self, extra: Callable[..., Verdict | None] | None = None,
                 allow_links: bool = False, log_allowed: bool = False) -> None:
        self.extra = extra
        self.allow_links = allow_links
        self.log_allowed = log_allowed
        self.calls: list[tuple[str, str, str | None]] = []

    def __call__(self, op: str, path: str, path2: str | None, pid: int) -> Verdict:
        self.calls.append((op, path, path2))
        if self.extra is not None:
            v = self.extra(op, path, path2)
            if v is not None:
                return v
        ends = (path, path2) if op in ("rename", "link") else (path,)
        for p in ends:
            if p is None:
                continue
            if op == "read" and p.startswith("/secret/"):
                return Verdict.deny(rule="no-secrets", message="secrets are off limits")
            if op in WRITE_OPS and not p.startswith("/work/"):
                if op == "link" and self.allow_links:
                    continue
                return Verdict.deny(rule="workspace-only")
        if self.log_allowed:
            return Verdict.allow(log=True, decision="audit", rule="audit-all")
        return ALLOW


def make_tree(backing: Path, outside: Path) -> None:
    """The container's view: /secret/key, /etc/conf, /work/... (made natively)."""
    (backing / "secret").mkdir()
    (backing / "secret" / "key").write_text("TOPSECRET")
    (backing / "secret" / "key2").write_text("ALSOSECRET")
    (backing / "etc").mkdir()
    (backing / "etc" / "conf").write_text("conf")
    (backing / "etc" / "emptydir").mkdir()
    (backing / "work").mkdir()
    os.chmod(backing / "work", 0o777)
    (backing / "work" / "a").write_text("work-a")
    (backing / "work" / "real.txt").write_text("the real one")
    (backing / "work" / "alias.txt").write_text("the alias")
    os.symlink("../secret/key", backing / "work" / "tosecret")
    os.symlink("/secret/key", backing / "work" / "tosecret_abs")
    os.link(backing / "secret" / "key2", backing / "work" / "hl2")  # a hardlink in the image
    outside.mkdir(exist_ok=True)
    os.symlink(str(outside), backing / "work" / "symdir")


def bypass_attempts(mnt: str) -> dict:
    j = lambda p: os.path.join(mnt, p)  # noqa: E731
    r: dict[str, Any] = {"pid": os.getpid()}
    rd = os.O_RDONLY
    r["path"] = errno_of(os.open, j("secret/key"), rd)
    r["symlink_rel"] = errno_of(os.open, j("work/tosecret"), rd)
    r["dotdot"] = errno_of(os.open, j("work/../secret/key"), rd)
    r["proc_self_root"] = errno_of(os.open, f"/proc/self/root{mnt}/secret/key", rd)
    os.chdir(j("work"))
    r["relative"] = errno_of(os.open, "../secret/key", rd)
    os.chdir("/proc/self/cwd")
    r["proc_cwd"] = errno_of(os.open, "../secret/key", rd)
    for name, fl in (("openat_opath_dirfd", os.O_PATH), ("openat_dirfd", os.O_RDONLY)):
        dfd = os.open(j("secret"), fl | os.O_DIRECTORY)
        r[name] = errno_of(os.open, "key", rd, dir_fd=dfd)
        os.close(dfd)
    opath = os.open(j("secret/key"), os.O_PATH)  # O_PATH opens no data: not a FUSE open
    r["reopen_opath_via_proc"] = errno_of(os.open, f"/proc/self/fd/{opath}", rd)
    os.close(opath)
    r["mmap"] = errno_of(lambda: mmap.mmap(os.open(j("secret/key"), rd), 0, prot=mmap.PROT_READ))
    r["stat_secret"] = try_(lambda: os.stat(j("secret/key")) and None)
    r["list_secret"] = sorted(os.listdir(j("secret")))
    r["link_secret"] = try_(os.link, j("secret/key"), j("work/hl"))
    r["rename_secret_dir"] = try_(os.rename, j("secret"), j("work/stolen"))
    r["rename_secret_file"] = try_(os.rename, j("secret/key"), j("work/stolen"))
    # writes outside /work
    r["write_outside"] = errno_of(os.open, j("etc/conf"), os.O_WRONLY)
    r["append_outside"] = errno_of(os.open, j("etc/conf"), os.O_WRONLY | os.O_APPEND)
    r["create_outside"] = errno_of(os.open, j("etc/new"), os.O_CREAT | os.O_WRONLY, 0o644)
    r["truncate_outside"] = try_(os.truncate, j("etc/conf"), 0)
    r["chmod_outside"] = try_(os.chmod, j("etc/conf"), 0o600)
    r["chown_outside"] = try_(os.chown, j("etc/conf"), 1, 1)
    r["utime_outside"] = try_(os.utime, j("etc/conf"), ns=(1, 1))
    r["setxattr_outside"] = try_(os.setxattr, j("etc/conf"), "user.x", b"1")
    r["mkdir_outside"] = try_(os.mkdir, j("etc/newdir"))
    r["rmdir_outside"] = try_(os.rmdir, j("etc/emptydir"))
    r["unlink_outside"] = try_(os.unlink, j("etc/conf"))
    r["symlink_outside"] = try_(os.symlink, "x", j("etc/sl"))
    r["mkfifo_outside"] = try_(os.mkfifo, j("etc/fifo"))
    r["rename_out_of_work"] = try_(os.rename, j("work/a"), j("etc/a"))
    r["rename_into_work"] = try_(os.rename, j("etc/conf"), j("work/conf"))
    r["read_outside"] = open(j("etc/conf")).read()
    # the workspace works
    with open(j("work/new"), "w") as f:
        f.write("fine")
    os.rename(j("work/new"), j("work/new2"))
    os.mkdir(j("work/dir"))
    os.rmdir(j("work/dir"))
    r["work"] = [open(j("work/new2")).read(), try_(os.unlink, j("work/new2")),
                 try_(os.chmod, j("work/a"), 0o600)]
    # the chroot view: the container's own absolute paths
    os.chroot(mnt)
    os.chdir("/")
    r["chroot_abs"] = errno_of(os.open, "/secret/key", rd)
    r["chroot_dotdot"] = errno_of(os.open, "/work/../../secret/key", rd)
    r["chroot_abs_symlink"] = errno_of(os.open, "/work/tosecret_abs", rd)
    r["chroot_write"] = errno_of(os.open, "/etc/conf", os.O_WRONLY)
    return r


def test_policy_denies_through_every_path_form(dirs: tuple[Path, Path, Path],
                                               base: Path) -> None:
    _, backing, mnt = dirs
    make_tree(backing, base / "outside")
    events: list[dict] = []
    rules = Rules()
    with FuseServer(str(backing), str(mnt), decide=rules, emit=events.append):
        r = in_child(bypass_attempts, str(mnt))
    denied = ["path", "symlink_rel", "dotdot", "proc_self_root", "relative", "proc_cwd",
              "openat_opath_dirfd", "openat_dirfd", "reopen_opath_via_proc", "mmap",
              "link_secret", "rename_secret_dir", "rename_secret_file", "write_outside",
              "append_outside", "create_outside", "truncate_outside", "chmod_outside",
              "chown_outside", "utime_outside", "setxattr_outside", "mkdir_outside",
              "rmdir_outside", "unlink_outside", "symlink_outside", "mkfifo_outside",
              "rename_out_of_work", "rename_into_work", "chroot_abs", "chroot_dotdot",
              "chroot_abs_symlink", "chroot_write"]
    assert {k: r[k] for k in denied} == dict.fromkeys(denied, "EACCES")
    assert r["stat_secret"] == "ok" and r["list_secret"] == ["key", "key2"]
    assert r["read_outside"] == "conf"
    assert r["work"] == ["fine", "ok", "ok"]
    # nothing changed outside /work
    assert (backing / "etc" / "conf").read_text() == "conf"
    assert sorted(os.listdir(backing / "etc")) == ["conf", "emptydir"]
    assert (backing / "secret" / "key").read_text() == "TOPSECRET"
    assert not (base / "outside").exists() or not os.listdir(base / "outside")
    # the server was asked with container paths (the mount is the container's /)
    assert ("read", "/secret/key", None) in rules.calls
    assert ("rename", "/secret", "/work/stolen") in rules.calls
    # one event per denial, with pid and comm of the caller
    ev = [e for e in events if e["path"] == "/secret/key" and e["operation"] == "read"]
    assert ev, events
    e = ev[0]
    assert e["type"] == "file_open" and e["effective_action"] == "blocked"
    assert e["policy"]["decision"] == "deny" and e["policy"]["rule"] == "no-secrets"
    assert e["pid"] == r["pid"] and e["comm"] and isinstance(e["latency_us"], int)
    types = {(e["type"], e["operation"]) for e in events}
    assert {("file_create", "create"), ("file_chmod", "chmod"), ("dir_create", "mkdir"),
            ("file_delete", "delete"), ("dir_delete", "rmdir"), ("file_rename", "rename"),
            ("file_write", "write"), ("file_create", "link")} <= types
    assert all(e["effective_action"] == "blocked" for e in events)  # silent allows: none


def read_file(path: str) -> str:
    with open(path) as f:
        return f.read()


def test_hardlinks_cannot_reach_a_denied_file(dirs: tuple[Path, Path, Path],
                                              base: Path) -> None:
    _, backing, mnt = dirs
    make_tree(backing, base / "outside")
    # link() allowed by the policy: the new name is checked with the old one on open
    with FuseServer(str(backing), str(mnt), decide=Rules(allow_links=True)):
        m = str(mnt)
        assert in_child(try_, os.link, m + "/secret/key", m + "/work/hl") == "ok"
        assert in_child(errno_of, os.open, m + "/work/hl", os.O_RDONLY) == "EACCES"
        assert in_child(errno_of, os.open, m + "/work/a", os.O_RDONLY) == "ok"
        # a hardlink already in the image, never seen under its other name: allowed
        # (documented); see the seeded case below
        assert in_child(errno_of, os.open, m + "/work/hl2", os.O_RDONLY) == "ok"
    # pre-existing hardlinks given by scan_hardlinks: checked under every name
    seed = scan_hardlinks(str(backing), "/")
    assert sorted(next(iter(seed.values()))) in (["/secret/key2", "/work/hl2"],
                                                 ["/secret/key", "/work/hl"])
    with FuseServer(str(backing), str(mnt), decide=Rules(), hardlinks=seed):
        assert in_child(errno_of, os.open, str(mnt) + "/work/hl2", os.O_RDONLY) == "EACCES"
        assert in_child(errno_of, os.open, str(mnt) + "/work/hl", os.O_RDONLY) == "EACCES"
    # deny_hardlinks: link() is refused outright
    with FuseServer(str(backing), str(mnt), decide=Rules(allow_links=True),
                    deny_hardlinks=True):
        assert in_child(try_, os.link, str(mnt) + "/work/a", str(mnt) + "/work/a2") == "EPERM"


def test_redirect(dirs: tuple[Path, Path, Path], base: Path) -> None:
    _, backing, mnt = dirs
    make_tree(backing, base / "outside")

    def extra(op: str, path: str, path2: str | None) -> Verdict | None:
        if op in ("create", "mkdir") and path.startswith("/work/redir/"):
            return Verdict.redirect_to("/work/shadow/deep/" + path.rsplit("/", 1)[1],
                                       rule="to-shadow")
        if op == "read" and path == "/work/alias.txt":
            return Verdict.redirect_to("/work/real.txt", rule="alias")
        if op == "create" and path.startswith("/work/esc/"):
            return Verdict.redirect_to("/work/symdir/escaped", rule="through-a-symlink")
        if op == "create" and path.startswith("/work/out/"):
            return Verdict.redirect_to("/../../etc/x", rule="dotdot")
        return None

    events: list[dict] = []
    (backing / "work" / "redir").mkdir()
    (backing / "work" / "esc").mkdir()
    (backing / "work" / "out").mkdir()

    def attempts(m: str) -> dict:
        with open(m + "/work/redir/new.txt", "w") as f:
            f.write("redirected data")
        os.mkdir(m + "/work/redir/newdir")
        return {"alias": read_file(m + "/work/alias.txt"),
                "esc": errno_of(os.open, m + "/work/esc/x", os.O_CREAT | os.O_WRONLY, 0o644),
                "out": errno_of(os.open, m + "/work/out/x", os.O_CREAT | os.O_WRONLY, 0o644)}

    with FuseServer(str(backing), str(mnt), decide=Rules(extra=extra), emit=events.append):
        r = in_child(attempts, str(mnt))
    assert r["alias"] == "the real one"
    assert r["esc"] == "EACCES" and not os.listdir(base / "outside")
    assert (backing / "work" / "shadow" / "deep" / "new.txt").read_text() == "redirected data"
    assert (backing / "work" / "shadow" / "deep" / "newdir").is_dir()
    assert not (backing / "work" / "redir" / "new.txt").exists()
    assert r["out"] in ("EACCES", "ok")
    assert not (backing / "etc" / "x").exists() or r["out"] == "ok"
    assert (backing / "work" / "alias.txt").read_text() == "the alias"
    red = [e for e in events if e["policy"]["effective_decision"] == "redirect"]
    assert any(e.get("fields", {}).get("redirected_to") == "/work/shadow/deep/new.txt"
               for e in red), events


def test_soft_delete_and_restore(dirs: tuple[Path, Path, Path], base: Path) -> None:
    _, backing, mnt = dirs
    make_tree(backing, base / "outside")
    tdir = base / "trash"
    (backing / "work" / "keep").mkdir()
    (backing / "work" / "keep" / "f1").write_text("one")
    (backing / "work" / "keep" / "sub").mkdir()
    (backing / "work" / "keep" / "sub" / "f2").write_text("two")
    (backing / "work" / "keep" / "target").write_text("old target")
    (backing / "work" / "keep" / "src").write_text("new content")

    def extra(op: str, path: str, path2: str | None) -> Verdict | None:
        ends = [p for p in (path, path2) if p]
        if op in ("delete", "rmdir", "rename") and any(p.startswith("/work/keep/")
                                                       for p in ends):
            return Verdict.soft_delete(rule="keep-deleted")
        return None

    events: list[dict] = []

    def rm(m: str) -> list:
        out = [try_(os.unlink, m + "/work/keep/f1")]
        shutil.rmtree(m + "/work/keep/sub")
        os.rename(m + "/work/keep/src", m + "/work/keep/target")
        out.append(read_file(m + "/work/keep/target"))
        out.append(sorted(os.listdir(m + "/work/keep")))
        return out

    with FuseServer(str(backing), str(mnt), decide=Rules(extra=extra), emit=events.append,
                    trash_dir=str(tdir)):
        r = in_child(rm, str(mnt))
    assert r == ["ok", "new content", ["target"]]
    ents = trash.entries(str(tdir))
    paths = sorted(e["path"] for e in ents)
    assert paths == ["/work/keep/f1", "/work/keep/sub", "/work/keep/sub/f2",
                     "/work/keep/target"]
    soft = [e for e in events if e["type"] == "file_soft_deleted"]
    assert len(soft) == 4 and all(e["fields"]["trash_id"] for e in soft)
    # restore one: back where it was, and gone from the trash list
    f1 = next(e for e in ents if e["path"] == "/work/keep/f1")
    assert (tdir / "files" / f1["id"]).read_text() == "one"
    trash.restore(str(tdir), f1["id"], str(backing / "work" / "keep" / "f1"))
    assert (backing / "work" / "keep" / "f1").read_text() == "one"
    assert "/work/keep/f1" not in {e["path"] for e in trash.entries(str(tdir))}
    old = next(e for e in ents if e["path"] == "/work/keep/target")
    assert (tdir / "files" / old["id"]).read_text() == "old target"
    # without a trash directory a soft_delete fails closed
    with FuseServer(str(backing), str(mnt), decide=Rules(extra=extra)):
        assert in_child(try_, os.unlink, str(mnt) + "/work/keep/f1") == "EACCES"
    assert (backing / "work" / "keep" / "f1").exists()


def write_file(path: str, data: str = "approved data") -> str:
    try:
        with open(path, "w") as f:
            f.write(data)
    except OSError as e:
        return errno.errorcode[e.errno or 0]
    return "ok"


def test_approve_holds_the_operation(dirs: tuple[Path, Path, Path], base: Path) -> None:
    _, backing, mnt = dirs
    make_tree(backing, base / "outside")
    (backing / "work" / "approve").mkdir()
    pending: list[tuple[str, Any]] = []
    answers: dict[str, bool] = {}

    def extra(op: str, path: str, path2: str | None) -> Verdict | None:
        if op in ("create", "write") and path.startswith("/work/approve/"):
            ev = trio.Event()  # we are in the server's trio thread
            pending.append((path, ev))

            async def answer() -> bool:
                with trio.move_on_after(2.0 if "timeout" not in path else 0.3):
                    await ev.wait()
                    return answers.get(path, False)
                return False  # timed out: deny

            return Verdict.approve(answer, rule="ask")
        return None

    events: list[dict] = []
    m = str(mnt)
    with FuseServer(str(backing), m, decide=Rules(extra=extra), emit=events.append) as srv:
        pid, rfd = spawn_child(write_file, m + "/work/approve/yes")
        deadline = time.monotonic() + 5
        while not pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pending and pending[0][0] == "/work/approve/yes"
        assert not select.select([rfd], [], [], 0.3)[0], "the create was not held"
        # while it is held, other operations go on
        assert in_child(read_file, m + "/work/a") == "work-a"
        answers["/work/approve/yes"] = True
        srv.run_sync(pending[0][1].set)
        assert child_result(pid, rfd) == "ok"
        pending.clear()
        # denied by the person
        pid, rfd = spawn_child(write_file, m + "/work/approve/no")
        while not pending:
            time.sleep(0.01)
        answers["/work/approve/no"] = False
        srv.run_sync(pending[0][1].set)
        assert child_result(pid, rfd) == "EACCES"
        # nobody answers: timeout means deny
        assert in_child(write_file, m + "/work/approve/timeout") == "EACCES"
    assert (backing / "work" / "approve" / "yes").read_text() == "approved data"
    assert not (backing / "work" / "approve" / "no").exists()
    assert not (backing / "work" / "approve" / "timeout").exists()
    got = [(e["path"], e["policy"]["decision"], e["policy"]["effective_decision"])
           for e in events if e["path"].startswith("/work/approve/")
           and e["type"] == "file_create"]
    assert ("/work/approve/yes", "approve", "allow") in got
    assert ("/work/approve/no", "approve", "deny") in got
    assert ("/work/approve/timeout", "approve", "deny") in got


def test_events_aggregate_bytes_per_handle(dirs: tuple[Path, Path, Path],
                                          base: Path) -> None:
    _, backing, mnt = dirs
    make_tree(backing, base / "outside")
    (backing / "work" / "logged").mkdir()

    def extra(op: str, path: str, path2: str | None) -> Verdict | None:
        if path.startswith("/work/logged/"):
            return Verdict.allow(log=True, decision="audit", rule="audit-logged")
        return None

    def io(m: str) -> int:
        p = m + "/work/logged/data"
        with open(p, "wb", buffering=0) as f:
            for _ in range(3):
                f.write(b"x" * 1000)
        with open(p, "rb", buffering=0) as f:
            while f.read(700):
                pass
        os.stat(m + "/work/logged/data")
        os.listdir(m + "/work/logged")
        with open(m + "/work/a", "rb") as f:  # a silent allow: no event
            f.read()
        return os.getpid()

    events: list[dict] = []
    with FuseServer(str(backing), str(mnt), decide=Rules(extra=extra), emit=events.append):
        pid = in_child(io, str(mnt))
        deadline = time.monotonic() + 5  # release reaches the server after close returns
        while time.monotonic() < deadline:
            if {"file_read", "file_write"} <= {e["type"] for e in events}:
                break
            time.sleep(0.02)
    by = {}
    for e in events:
        by.setdefault(e["type"], []).append(e)
    assert by["file_write"][0]["fields"]["bytes"] == 3000, events
    assert by["file_read"][0]["fields"]["bytes"] == 3000, events
    assert len(by["file_write"]) == 1 and len(by["file_read"]) == 1
    assert by["file_create"][0]["path"] == "/work/logged/data"
    assert all(e["pid"] == pid and e["policy"]["rule"] == "audit-logged" for e in events)
    assert all(e["effective_action"] == "allowed" for e in events)
    assert {e["path"] for e in events} <= {"/work/logged/data", "/work/logged"}


# ---- a mount(2) made elsewhere, served through /dev/fd/N -------------------------------

def kmount_child(mnt: str, sock_fd: int) -> dict:
    """In a private mount namespace: open /dev/fuse, mount it, hand the fd over, then
    use the mount once the server says go."""
    sock = socket.socket(fileno=sock_fd)
    kmount.unshare_mount_ns()
    fd = kmount.open_fuse_device()
    kmount.mount_fuse_fd(mnt, fd, ["default_permissions", "allow_other", "nosuid", "nodev"])
    socket.send_fds(sock, [b"fd"], [fd])
    os.close(fd)
    assert sock.recv(2) == b"go"
    with open(os.path.join(mnt, "made-in-ns"), "w") as f:
        f.write("hello from the namespace")
    with open(os.path.join(mnt, "made-in-ns")) as f:
        back = f.read()
    with open("/proc/self/mounts") as f:
        line = [ln for ln in f if ln.split()[1] == mnt]
    return {"read": back, "list": sorted(os.listdir(mnt)), "mount": line,
            "denied": errno_of(os.open, os.path.join(mnt, "secret"), os.O_RDONLY)}


def test_kmount_fd_served_from_another_mount_namespace(dirs: tuple[Path, Path, Path]) -> None:
    _, backing, mnt = dirs
    (backing / "secret").write_text("s")
    events: list[dict] = []

    def decide(op: str, path: str, path2: str | None, pid: int) -> Verdict:
        if path == "/data/secret" and op == "read":
            return Verdict.deny(rule="r")
        return ALLOW

    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid, rfd = spawn_child(kmount_child, str(mnt), child.fileno())
    child.close()
    try:
        _, fds, _, _ = socket.recv_fds(parent, 16, 1)
        assert len(fds) == 1
        assert not mounted(mnt)  # the mount lives in the child's namespace only
        with FuseServer(str(backing), fds[0], decide=decide, emit=events.append,
                        prefix="/data"):
            parent.send(b"go")
            r = child_result(pid, rfd)
    finally:
        parent.close()
    assert r["read"] == "hello from the namespace"
    assert r["list"] == ["made-in-ns", "secret"]
    assert r["denied"] == "EACCES"
    fields = r["mount"][0].split()
    assert fields[2] == "fuse.agentsh" and "allow_other" in fields[3] \
        and "default_permissions" in fields[3] and "nosuid" in fields[3]
    assert (backing / "made-in-ns").read_text() == "hello from the namespace"
    assert events and events[0]["path"] == "/data/secret"
    assert not mounted(mnt)


def test_libfuse_mounts_and_unmounts_a_path(dirs: tuple[Path, Path, Path]) -> None:
    _, backing, mnt = dirs
    srv = FuseServer(str(backing), str(mnt))
    with srv:
        assert mounted(mnt)
        line = [ln.split() for ln in open("/proc/self/mounts") if ln.split()[1] == str(mnt)]
        assert line[0][2] == "fuse.agentsh"
        assert {"default_permissions", "allow_other"} <= set(line[0][3].split(","))
    assert not mounted(mnt)
    assert not srv.ops._inodes and not srv.ops._handles  # every fd closed


# ---- speed figures (printed, not asserted) --------------------------------------------

class CliMount:
    """`python -m agentsh_runtime.fusefs BACKING MNT` in its own process (as a monitor
    would run it), or bindfs."""

    def __init__(self, backing: Path, mnt: Path, kind: str = "ours") -> None:
        self.backing, self.mnt, self.kind = backing, mnt, kind
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> CliMount:
        if self.kind == "bindfs":
            subprocess.run(["bindfs", str(self.backing), str(self.mnt)], check=True)
        else:
            r, w = os.pipe()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agentsh_runtime.fusefs", str(self.backing),
                 str(self.mnt), "--ready-fd", str(w)], pass_fds=(w,), cwd=REPO)
            os.close(w)
            ready = select.select([r], [], [], 20)[0] and os.read(r, 1)
            os.close(r)
            assert ready, "the fusefs CLI did not mount"
        assert mounted(self.mnt)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            subprocess.run(["umount", str(self.mnt)], check=True)
        else:
            self.proc.send_signal(signal.SIGTERM)
            assert self.proc.wait(20) == 0
        deadline = time.monotonic() + 5
        while mounted(self.mnt) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not mounted(self.mnt)


def _timed(cmd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(["bash", "-c", cmd], check=True)
    return time.perf_counter() - t0


def test_speed_figures(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = base / "data"
    rnd = random.Random(7)
    for d in range(20):
        (data / f"d{d:02d}").mkdir(parents=True)
        for i in range(100):
            (data / f"d{d:02d}" / f"f{i:03d}.txt").write_bytes(rnd.randbytes(rnd.randint(200,
                                                                                        8000)))
    small = "find {m} -type f -print0 | xargs -0 cat > /dev/null"
    seq_w = "dd if=/dev/zero of={m}/big bs=1M count=256 status=none"
    seq_r = "dd if={m}/big of=/dev/null bs=1M status=none"
    have_bindfs = shutil.which("bindfs") is not None
    res: dict[str, dict[str, float]] = {}

    def measure(label: str, m: Path, cm: Callable[[], Any] | None) -> None:
        out: dict[str, float] = {}
        cold, warm, wr, rd, rd_cold = [], [], [], [], []
        for _ in range(3):
            ctx = cm() if cm else None
            if ctx:
                ctx.__enter__()
            try:
                cold.append(_timed(small.format(m=m)))
                warm.append(_timed(small.format(m=m)))
                wr.append(_timed(seq_w.format(m=m)))
                rd.append(_timed(seq_r.format(m=m)))
            finally:
                if ctx:
                    ctx.__exit__(None, None, None)
            if ctx:  # a fresh mount: the page cache of the mount is empty
                ctx = cm()
                ctx.__enter__()
                try:
                    rd_cold.append(_timed(seq_r.format(m=m)))
                finally:
                    ctx.__exit__(None, None, None)
            else:
                rd_cold.append(rd[-1])
            os.unlink(data / "big")
        out["small_first"] = min(cold)
        out["small_again"] = min(warm)
        out["seq_write"] = min(wr)
        out["seq_read"] = min(rd)
        out["seq_read_fresh_mount"] = min(rd_cold)
        out["seq_write_read"] = min(wr) + min(rd)
        res[label] = out

    _timed(small.format(m=data))  # warm the backing's caches
    measure("native", data, None)
    mnt = base / "mnt"
    mnt.mkdir()
    measure("fusefs", mnt, lambda: CliMount(data, mnt))
    if have_bindfs:
        measure("bindfs", mnt, lambda: CliMount(data, mnt, "bindfs"))
    nat = res["native"]
    lines = ["", "fusefs speed (best of 3; ratio to native):",
             f"{'':10} " + " ".join(f"{k:>22}" for k in nat)]
    for label, out in res.items():
        lines.append(f"{label:10} " + " ".join(
            f"{out[k]:9.3f}s ({out[k] / nat[k]:6.1f}x)" for k in nat))
    if not have_bindfs:
        lines.append("bindfs: not installed")
    with capsys.disabled():
        print("\n".join(lines))
    assert res["fusefs"]["small_first"] > 0


def test_paths_follow_renames_and_survive_forget(dirs: tuple[Path, Path, Path],
                                                 base: Path) -> None:
    _, backing, mnt = dirs
    make_tree(backing, base / "outside")
    (backing / "work" / "dir" / "sub").mkdir(parents=True)
    (backing / "work" / "dir" / "sub" / "file").write_text("data")
    for i in range(200):
        (backing / "work" / "dir" / f"n{i}").write_text("n")

    def extra(op: str, path: str, path2: str | None) -> Verdict | None:
        if op == "read" and path.startswith("/work/moved/"):
            return Verdict.deny(rule="moved")
        return None

    rules = Rules(extra=extra)
    m = str(mnt)

    def step1(m: str) -> list:
        a = errno_of(os.open, m + "/work/dir/sub/file", os.O_RDONLY)
        os.listdir(m + "/work/dir")
        os.rename(m + "/work/dir", m + "/work/moved")
        return [a, errno_of(os.open, m + "/work/moved/sub/file", os.O_RDONLY)]

    def step2(m: str) -> list:
        a = errno_of(os.open, m + "/work/moved/sub/file", os.O_RDONLY)
        os.rename(m + "/work/moved", m + "/work/dir")
        return [a, errno_of(os.open, m + "/work/dir/sub/file", os.O_RDONLY)]

    with FuseServer(str(backing), m, decide=rules) as srv:
        assert in_child(step1, m) == ["ok", "EACCES"]
        before = len(srv.ops._inodes)
        deadline = time.monotonic() + 10
        while len(srv.ops._inodes) > before // 2 and time.monotonic() < deadline:
            Path("/proc/sys/vm/drop_caches").write_text("2")  # the kernel forgets inodes
            time.sleep(0.1)
        after = len(srv.ops._inodes)
        assert after < before // 2, (before, after)
        assert in_child(step2, m) == ["EACCES", "ok"]
    assert ("read", "/work/moved/sub/file", None) in rules.calls
    assert rules.calls[-1][1] == "/work/dir/sub/file"


def test_server_gone_fails_closed(dirs: tuple[Path, Path, Path]) -> None:
    _, backing, mnt = dirs
    (backing / "f").write_text("x")
    cm = CliMount(backing, mnt).__enter__()
    try:
        assert in_child(read_file, str(mnt / "f")) == "x"
        assert cm.proc is not None
        cm.proc.kill()
        cm.proc.wait(10)
        assert in_child(errno_of, os.open, str(mnt / "f"), os.O_RDONLY) == "ENOTCONN"
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
    assert not mounted(mnt)


def test_stat_decided_at_lookup(dirs: tuple[Path, Path, Path], base: Path) -> None:
    _, backing, mnt = dirs
    make_tree(backing, base / "outside")

    def extra(op: str, path: str, path2: str | None) -> Verdict | None:
        if op == "stat" and path == "/secret/key2":
            return Verdict.deny(rule="invisible")
        return None

    def look(m: str) -> list:
        return [try_(lambda: os.stat(m + "/secret/key2") and None),
                errno_of(os.open, m + "/secret/key2", os.O_RDONLY),
                sorted(os.listdir(m + "/secret")),  # readdir(3) skips the inode-less entry
                try_(lambda: os.stat(m + "/work/hl2") and None)]  # its other name: stat ok

    events: list[dict] = []
    with FuseServer(str(backing), str(mnt), decide=Rules(extra=extra), emit=events.append):
        assert in_child(look, str(mnt)) == ["EACCES", "EACCES", ["key"], "ok"]
    assert {(e["type"], e["operation"], e["path"]) for e in events} == {
        ("file_stat", "stat", "/secret/key2")}
