"""A pyfuse3 passthrough of one backing directory, with a policy hook on every operation
that can reveal or change a file.

Inodes
    Every inode the kernel knows has an O_PATH|O_NOFOLLOW fd on the backing file, a
    lookup count, and the (parent, name) it was last reached by. Inodes are deduplicated
    by the backing (st_dev, st_ino): a hardlink reached by two names is one FUSE inode.
    The FUSE node id is the backing st_ino (stable, so st_ino seen by programs is the
    backing one) for files on the backing root's file system, a synthetic id for files
    on file systems mounted below it. `forget` closes the fd when the count drops to
    zero. A forgotten directory object is kept (weakly) and revived on the next lookup,
    so children that still point to it keep a correct path.

Resolution
    Every name is resolved with *at calls relative to the parent's fd with O_NOFOLLOW;
    an existing inode is reopened through /proc/self/fd/N of its O_PATH fd (the inode
    itself, no path walk). No host path string is ever built from container input, so a
    symlink inside the tree cannot send the server outside the backing directory: the
    kernel resolves symlinks on the container side, one lookup at a time. (Requires /proc
    in the server's mount namespace.)

Paths for the policy
    The path of an inode is `prefix` joined with the names from the mount root to it,
    following the parent links. Renames through the mount update the link, so a
    directory's children follow it. A hardlinked inode is named by the name used by its
    latest lookup (or link/rename); every other name of it seen through the mount (and
    any given in `hardlinks`) is also checked on every decision about the inode (open,
    setattr, xattrs, readlink, link), and the strictest verdict wins: a hardlink cannot
    reach a denied file through an allowed name. link() itself is decided on both ends
    (path=old, path2=new) and on every known name of the inode; `deny_hardlinks`
    refuses all link() instead. A hardlink that exists before the mount and whose
    other name was never looked up is unknown: pass `hardlinks=scan_hardlinks(...)`
    (one stat per file of the tree, at setup) for subtrees where that matters.

Decisions (ops are POLICY.md's file operation names; see verdict.OPS)
    lookup -> stat          open -> read | write      create -> create
    unlink -> delete        rmdir -> rmdir            mkdir -> mkdir
    rename -> rename (path=old, path2=new)            link -> link (path=old, path2=new)
    symlink -> symlink (path=new link, path2=target)  mknod -> mknod
    opendir -> list         readlink -> readlink
    setattr: size or times -> write, mode -> chmod, uid/gid -> chown (a setattr on a
    handle opened for write is not decided again, nor is dropping setuid/setgid bits)
    setxattr/removexattr -> chmod
    Reads and writes of an open handle are not decided again (checked once per open).
    Verdicts: deny -> the verdict's errno (EACCES); approve -> the operation is held
    until the answer (other requests go on meanwhile); redirect (open, create, mkdir,
    mknod, symlink, rename's destination; a stat/list/readlink redirect is an allow,
    any other is refused) -> carried out on the new path, which must be inside this
    mount and is resolved without following symlinks (missing directories are made as
    the caller); soft_delete (unlink, rmdir, and a rename replacing a file) -> the file
    goes to the trash (trash.py); on other operations it allows.
    A name whose `stat` is denied (or awaits approval) is listed by readdir without an
    inode (readdir(3) skips it) and its lookup fails with EACCES.

Events (only when the verdict says log): file_open, file_create, file_delete,
    file_rename, file_stat, file_chmod, file_write (setattr), dir_create, dir_delete,
    dir_list, file_soft_deleted; per handle at release: file_read and/or file_write with
    fields.bytes (what the server read or wrote for that handle: a logged handle is
    opened without keep_cache so its reads reach the server; with the writeback cache
    the kernel may merge writes, the total is exact). Shape:
    {"type", "operation", "path", ["path2"], "pid", "comm", "policy": {"decision",
     "effective_decision", "rule", "message"}, "effective_action": "allowed"|"blocked",
     "latency_us", ["fields"]}
    An operation allowed by the policy that then fails in the backing file system
    (ENOENT, EEXIST, ...) emits no event.

Implemented: lookup, forget, getattr, setattr (size, mode, uid/gid, atime/mtime incl.
    UTIME_NOW/OMIT, on symlinks too), readlink, mknod, mkdir, unlink, rmdir, symlink,
    rename (RENAME_NOREPLACE, RENAME_EXCHANGE), link, open, create, read, write, flush
    (ENOSYS, see below), release, fsync, opendir, readdir(plus), releasedir, fsyncdir,
    statfs, access, getxattr, setxattr, listxattr, removexattr.
Not available through pyfuse3 3.5 / libfuse 3.14 (the kernel's fallback in brackets):
    fallocate [EOPNOTSUPP; glibc's posix_fallocate writes the blocks instead],
    copy_file_range [the kernel copies through read/write], lseek SEEK_DATA/HOLE [the
    whole file is data], getlk/setlk/flock [locks are the kernel's, local to this mount:
    correct between the container's processes, not shared with other views of the
    backing directory], ioctl [ENOTTY], O_TMPFILE [EOPNOTSUPP], poll [always ready],
    FUSE passthrough (kernel >= 6.9 backing fds: reads and writes at native speed; needs
    libfuse >= 3.16 and a binding that exposes it).
    flush answers ENOSYS once, so the kernel stops sending FLUSH on every close (one
    round trip less); with the writeback cache dirty pages are still written at close.
"""

from __future__ import annotations

import errno
import logging
import os
import posixpath
import stat
import time
import weakref
from collections.abc import Callable, Iterable, Mapping

import pyfuse3
from pyfuse3 import EntryAttributes, FileInfo, FUSEError

from . import _sys
from .trash import Trash
from .verdict import (
    ALLOW,
    APPROVE_A,
    DENY_A,
    REDIRECT_A,
    SOFT_DELETE_A,
    STRICTNESS,
    Verdict,
    allow_all,
)

log = logging.getLogger("agentsh_runtime.fusefs")

O_PATH_NF = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
_STRIP_OPEN = os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_NOFOLLOW | os.O_DIRECTORY
S_IFMT = 0o170000
S_IFDIR = stat.S_IFDIR
S_IFLNK = stat.S_IFLNK
ROOT = pyfuse3.ROOT_INODE
SYNTH_BASE = 1 << 56  # node ids for inodes on other file systems below the backing root
MAX_DEPTH = 4096
MAX_NAMES = 256  # names of one inode link() may make through the mount

Decider = Callable[[str, str, "str | None", int], Verdict]
Emitter = Callable[[dict], None]


def _comm(pid: int) -> str | None:
    if pid <= 0:
        return None
    try:
        fd = os.open(f"/proc/{pid}/comm", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.read(fd, 64).decode("utf-8", "replace").rstrip("\n")
    except OSError:
        return None
    finally:
        os.close(fd)


def _proc(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


class _Inode:
    __slots__ = ("nodeid", "fd", "key", "nlookup", "parent", "name", "kind", "aliases",
                 "extra", "__weakref__")

    def __init__(self, nodeid: int, fd: int, key: tuple[int, int] | None, kind: int,
                 parent: _Inode | None, name: str) -> None:
        self.nodeid = nodeid
        self.fd = fd
        self.key = key
        self.nlookup = 0
        self.parent = parent  # None: the root, or a detached node whose name is a rel path
        self.name = name
        self.kind = kind
        self.aliases: set[tuple[_Inode | None, str]] | None = None  # >1 known names
        self.extra: tuple[str, ...] = ()  # names of pre-existing hardlinks (given)


class _Handle:
    __slots__ = ("fd", "inode", "writable", "log", "op", "path", "pid", "comm", "verdict",
                 "nread", "nwritten", "t_open", "latency_us", "entries")

    def __init__(self, fd: int, inode: _Inode, writable: bool) -> None:
        self.fd = fd
        self.inode = inode
        self.writable = writable
        self.log = False
        self.nread = 0
        self.nwritten = 0
        self.pid = 0
        self.entries: list[str] | None = None


def _guard(fn):  # noqa: ANN001, ANN202
    """pyfuse3 handlers may raise only FUSEError: anything else would end the main loop."""
    async def handler(self, *args):  # noqa: ANN001, ANN202
        try:
            return await fn(self, *args)
        except FUSEError:
            raise
        except OSError as e:
            raise FUSEError(e.errno or errno.EIO) from None
        except Exception:
            log.exception("fusefs: %s failed", fn.__name__)
            raise FUSEError(errno.EIO) from None
    handler.__name__ = fn.__name__
    handler.__qualname__ = fn.__qualname__
    handler.__doc__ = fn.__doc__
    return handler


def _same(pid: int) -> int:
    return pid


class Passthrough(pyfuse3.Operations):
    """Serve `backing` (a path, or an fd on a directory: O_PATH is enough; it is dup'ed)
    through FUSE, asking `decide(op, path, path2, pid) -> Verdict` and reporting to
    `emit(event)` when a verdict says `log`.

    prefix          where the mount root is as the container sees it ("/", "/workspace")
    trash_dir       host directory for soft_delete (outside the mount); None: a
                    soft_delete verdict on a delete is refused (EACCES), failing closed
    entry_timeout, attr_timeout, negative_timeout
                    kernel cache lifetimes in seconds (see mount.py for the tradeoff)
    writeback_cache let the kernel cache writes and send them in big batches
    keep_cache      keep the page cache across opens (invalidated when the kernel sees
                    mtime or size change on an attribute refresh)
    hardlinks       {(st_dev, st_ino): [container paths]}: names of hardlinks that exist
                    before the mount (see scan_hardlinks); checked like names seen
    deny_hardlinks  refuse every link() with EPERM instead of checking names
    """

    supports_dot_lookup = False
    enable_acl = False

    def __init__(self, backing: str | int, decide: Decider | None = None,
                 emit: Emitter | None = None, *, prefix: str = "/",
                 trash_dir: str | None = None, entry_timeout: float = 1.0,
                 attr_timeout: float = 1.0, negative_timeout: float = 1.0,
                 writeback_cache: bool = True, keep_cache: bool = True,
                 hardlinks: Mapping[tuple[int, int], Iterable[str]] | None = None,
                 deny_hardlinks: bool = False) -> None:
        super().__init__()
        if isinstance(backing, int):
            rfd = os.dup(backing)
            os.set_inheritable(rfd, False)
        else:
            rfd = os.open(backing, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        st = os.fstat(rfd)
        if not stat.S_ISDIR(st.st_mode):
            os.close(rfd)
            raise NotADirectoryError(errno.ENOTDIR, "backing is not a directory", str(backing))
        if not os.path.exists(_proc(rfd)):
            os.close(rfd)
            raise RuntimeError("fusefs needs /proc mounted in the server's mount namespace")
        self._decider: Decider = decide or allow_all
        # who a request is made for: the requesting thread's pid, unless the owner maps
        # it (the monitor's threads open files for container processes)
        self.caller_of: Callable[[int], int] = _same
        self._emit = emit
        pfx = posixpath.normpath("/" + prefix.strip("/")) if prefix.strip("/") else ""
        self._pfx = pfx  # "" when the mount is the container's /
        self._rootpath = pfx or "/"
        self._root_dev = st.st_dev
        self._root = _Inode(ROOT, rfd, (st.st_dev, st.st_ino), S_IFDIR, None, "")
        self._root.nlookup = 1 << 62  # never forgotten
        self._inodes: dict[int, _Inode] = {ROOT: self._root}
        self._by_key: dict[tuple[int, int], _Inode] = {self._root.key: self._root}
        self._ghosts: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._handles: dict[int, _Handle] = {}
        self._synth = SYNTH_BASE
        self._et = float(entry_timeout)
        self._at = float(attr_timeout)
        self._nt = float(negative_timeout)
        self.enable_writeback_cache = bool(writeback_cache)
        self._wb = bool(writeback_cache)
        self._keep = bool(keep_cache)
        self._trash = Trash(trash_dir) if trash_dir else None
        self._deny_links = deny_hardlinks
        self._seed: dict[tuple[int, int], tuple[str, ...]] = {
            k: tuple(v) for k, v in (hardlinks or {}).items()}
        um = os.umask(0)
        os.umask(um)
        self._umask = um
        self.initialized = False
        self.stats = {"lookups": 0, "opens": 0}
        self.max_read = 0  # the biggest read and write requests seen (for tuning)
        self.max_write = 0

    # -- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Close every fd the server holds (after the session ended)."""
        for h in list(self._handles.values()):
            try:
                os.close(h.fd)
            except OSError:
                pass
        self._handles.clear()
        for ino in list(self._inodes.values()):
            if ino.fd >= 0:
                try:
                    os.close(ino.fd)
                except OSError:
                    pass
                ino.fd = -1
        self._inodes.clear()
        self._by_key.clear()
        if self._trash:
            self._trash.close()

    def init(self) -> None:
        self.initialized = True

    def stacktrace(self) -> None:  # setxattr("fuse_stacktrace") on the root: ignored
        return None

    # -- paths --------------------------------------------------------------------------
    def _path(self, ino: _Inode) -> str:
        parts = []
        n: _Inode | None = ino
        depth = 0
        while n is not self._root and n is not None:
            parts.append(n.name)
            n = n.parent
            depth += 1
            if depth > MAX_DEPTH:
                raise FUSEError(errno.ELOOP)
        if not parts:
            return self._rootpath
        parts.reverse()
        return self._pfx + "/" + "/".join(parts)

    def _pathof(self, parent: _Inode | None, name: str) -> str:
        if parent is None:
            return self._pfx + "/" + name
        base = self._path(parent)
        return base + name if base == "/" else base + "/" + name

    def path_of(self, nodeid: int) -> str:
        """The container path the server currently has for FUSE inode `nodeid`."""
        return self._path(self._inodes[nodeid])

    def _other_paths(self, ino: _Inode) -> list[str]:
        out = [self._pathof(p, n) for p, n in (ino.aliases or ())]
        out.extend(ino.extra)
        return out

    # -- inode table --------------------------------------------------------------------
    def _nodeid(self, st: os.stat_result) -> int:
        if st.st_dev == self._root_dev and 1 < st.st_ino < SYNTH_BASE:
            return st.st_ino
        self._synth += 1
        return self._synth

    def _note_name(self, ino: _Inode, parent: _Inode | None, name: str, nlink: int) -> None:
        if ino is self._root:
            return
        if ino.parent is parent and ino.name == name:
            if nlink <= 1:
                ino.aliases = None
            return
        if ino.kind != S_IFDIR and nlink > 1:
            if ino.aliases is None:
                ino.aliases = {(ino.parent, ino.name)} if ino.name else set()
            ino.aliases.add((parent, name))
        else:
            ino.aliases = None
        ino.parent = parent
        ino.name = name

    def _forget_name(self, ino: _Inode, parent: _Inode, name: str) -> None:
        """`parent/name` no longer names `ino` (unlinked, or replaced by a rename)."""
        al = ino.aliases
        if al is None:
            return
        al.discard((parent, name))
        if ino.parent is parent and ino.name == name and al:
            ino.parent, ino.name = next(iter(al))
        if len(al) <= 1:
            ino.aliases = None

    def _move_name(self, ino: _Inode, op: _Inode, on: str, np: _Inode, nn: str) -> None:
        if ino.parent is op and ino.name == on:
            ino.parent, ino.name = np, nn
        if ino.aliases is not None:
            ino.aliases.discard((op, on))
            ino.aliases.add((np, nn))

    def _known(self, st: os.stat_result) -> _Inode | None:
        return self._by_key.get((st.st_dev, st.st_ino))

    def _adopt(self, pfd: int, st: os.stat_result, parent: _Inode | None,
               name: str) -> _Inode:
        """Register (or find) the inode for `pfd` (an O_PATH fd we own: closed here when
        the inode is already known). Does not count a lookup."""
        key = (st.st_dev, st.st_ino)
        ino = self._by_key.get(key)
        if ino is not None and ino.fd >= 0:
            os.close(pfd)
            return ino
        ino = self._ghosts.pop(key, None) if ino is None else ino
        if ino is None:
            ino = _Inode(self._nodeid(st), pfd, key, st.st_mode & S_IFMT, parent, name)
            seeded = self._seed.get(key)
            if seeded:
                ino.extra = seeded
        else:
            ino.fd = pfd
            ino.nlookup = 0
        self._by_key[key] = ino
        self._inodes[ino.nodeid] = ino
        return ino

    def _drop(self, ino: _Inode) -> None:
        if ino is self._root:
            return
        self._inodes.pop(ino.nodeid, None)
        if self._by_key.get(ino.key) is ino:
            del self._by_key[ino.key]
        if ino.fd >= 0:
            os.close(ino.fd)
            ino.fd = -1
        if ino.kind == S_IFDIR:
            self._ghosts[ino.key] = ino

    def _register_name(self, parent: _Inode, name: str, sname: bytes | str,
                       dirfd: int | None = None) -> tuple[_Inode, os.stat_result]:
        """Open dirfd/name O_PATH|O_NOFOLLOW, register it, count one lookup."""
        pfd = os.open(sname, O_PATH_NF, dir_fd=parent.fd if dirfd is None else dirfd)
        try:
            st = os.fstat(pfd)
        except OSError:
            os.close(pfd)
            raise
        return self._counted(pfd, st, parent, name), st

    def _counted(self, pfd: int, st: os.stat_result, parent: _Inode, name: str) -> _Inode:
        """_adopt, one lookup counted, and the name it was reached by noted."""
        ino = self._adopt(pfd, st, parent, name)
        ino.nlookup += 1
        self._note_name(ino, parent, name, st.st_nlink)
        return ino

    def _attrs(self, nodeid: int, st: os.stat_result) -> EntryAttributes:
        e = EntryAttributes()
        e.st_ino = nodeid
        e.entry_timeout = self._et
        e.attr_timeout = self._at
        e.st_mode = st.st_mode
        e.st_nlink = st.st_nlink
        e.st_uid = st.st_uid
        e.st_gid = st.st_gid
        e.st_rdev = st.st_rdev
        e.st_size = st.st_size
        e.st_blksize = st.st_blksize
        e.st_blocks = st.st_blocks
        e.st_atime_ns = st.st_atime_ns
        e.st_mtime_ns = st.st_mtime_ns
        e.st_ctime_ns = st.st_ctime_ns
        return e

    # -- decisions and events ------------------------------------------------------------
    def _decide_ino(self, op: str, ino: _Inode, pid: int,
                    path2: str | None = None) -> tuple[Verdict, str, str | None]:
        path = self._path(ino)
        v = self._decider(op, path, path2, pid)
        via = None
        if ino.aliases is not None or ino.extra:
            for p in self._other_paths(ino):
                if p == path:
                    continue
                v2 = self._decider(op, p, path2, pid)
                if STRICTNESS[v2.action] > STRICTNESS[v.action]:
                    v, via = v2, p
        return v, path, via

    async def _settle(self, v: Verdict) -> Verdict:
        """An approve verdict: hold the operation until the answer comes."""
        if v.action != APPROVE_A:
            return v
        ans = v.answer
        if callable(ans) and not hasattr(ans, "__await__"):
            ans = ans()
        try:
            r = await ans  # type: ignore[misc]
        except Exception:  # the approval machinery failed: fail closed
            log.exception("fusefs: approval failed")
            r = False
        if isinstance(r, Verdict) and r.action != APPROVE_A:
            return Verdict(r.action, log=v.log or r.log, decision=APPROVE_A,
                           rule=r.rule or v.rule, message=r.message or v.message,
                           redirect=r.redirect, errno=r.errno)
        action = "allow" if r is True else DENY_A
        return Verdict(action, log=v.log, decision=APPROVE_A, rule=v.rule, message=v.message)

    def _pid(self, ctx) -> int:  # noqa: ANN001 - a pyfuse3.RequestContext
        return self.caller_of(ctx.pid)

    def _event(self, etype: str, op: str, path: str, path2: str | None, pid: int,
               v: Verdict, t0: int, blocked: bool, fields: dict | None = None,
               comm: str | None = None, latency_us: int | None = None) -> None:
        if self._emit is None:
            return
        ev: dict = {
            "type": etype, "operation": op, "path": path, "pid": pid or None,
            "comm": comm if comm is not None else _comm(pid),
            "policy": {"decision": v.decision, "effective_decision": v.action,
                       "rule": v.rule, "message": v.message},
            "effective_action": "blocked" if blocked else "allowed",
            "latency_us": (time.perf_counter_ns() - t0) // 1000 if latency_us is None
            else latency_us,
        }
        if path2 is not None:
            ev["path2"] = path2
        if fields:
            ev["fields"] = fields
        try:
            self._emit(ev)
        except Exception:
            log.exception("fusefs: emit failed")

    async def _gate(self, v: Verdict, etype: str, op: str, path: str, path2: str | None,
                    pid: int, t0: int, via: str | None = None,
                    redirect_ok: bool = False) -> Verdict:
        """Settle a non-silent verdict; raise EACCES (after the event) when it blocks."""
        v = await self._settle(v)
        a = v.action
        if a == DENY_A or (a == REDIRECT_A and not redirect_ok):
            if v.log:
                self._event(etype, op, path, path2, pid, v, t0, True,
                            {"hardlink": via} if via else None)
            raise FUSEError(v.errno if a == DENY_A else errno.EACCES)
        return v

    # -- redirect targets -----------------------------------------------------------------
    def _redirect_dir(self, new_path: str, ctx) -> tuple[int, _Inode, str]:  # noqa: ANN001
        """Resolve the parent of `new_path` (a container path inside this mount) without
        following symlinks, creating missing directories as the caller. Returns (an
        O_PATH fd on the parent directory, its node for paths, the base name)."""
        p = posixpath.normpath(new_path)
        if not p.startswith("/") or "\x00" in p:
            raise FUSEError(errno.EACCES)
        if self._pfx == "":
            rel = p.lstrip("/")
        elif p.startswith(self._pfx + "/"):
            rel = p[len(self._pfx) + 1:]
        else:
            raise FUSEError(errno.EACCES)  # outside this mount: refused
        parts = [c for c in rel.split("/") if c]
        if not parts or ".." in parts:
            raise FUSEError(errno.EACCES)
        dfd = os.dup(self._root.fd)
        try:
            for c in parts[:-1]:
                try:
                    nfd = os.open(c, O_PATH_NF | os.O_DIRECTORY, dir_fd=dfd)
                except FileNotFoundError:
                    os.mkdir(c, 0o755, dir_fd=dfd)
                    nfd = os.open(c, O_PATH_NF | os.O_DIRECTORY, dir_fd=dfd)
                    _sys.fchown_empty(nfd, ctx.uid, ctx.gid)
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise FUSEError(errno.EACCES) from None
                    raise
                os.close(dfd)
                dfd = nfd
        except BaseException:
            os.close(dfd)
            raise
        if len(parts) == 1:
            node = self._root
        else:
            node = _Inode(0, -1, None, S_IFDIR, None, "/".join(parts[:-1]))
        return dfd, node, parts[-1]

    # -- ownership of new files ------------------------------------------------------------
    def _own(self, pfd: int, parent_fd: int, ctx, mode: int, kind: int) -> None:  # noqa: ANN001
        """Give a file the server just made (as root) to the caller, as the kernel would
        have: the caller's uid, the caller's gid or the setgid parent's, the mode asked."""
        pst = os.fstat(parent_fd)
        gid = pst.st_gid if pst.st_mode & stat.S_ISGID else ctx.gid
        _sys.fchown_empty(pfd, ctx.uid, gid)
        if kind == S_IFLNK:
            return
        want = mode & 0o7777
        if kind == S_IFDIR and pst.st_mode & stat.S_ISGID:
            want |= stat.S_ISGID
        if want & stat.S_ISGID and kind != S_IFDIR and gid != ctx.gid and ctx.uid != 0:
            want &= ~stat.S_ISGID
        if want & 0o7000 or mode & self._umask:
            os.chmod(_proc(pfd), want)

    # ====================================================================================
    # handlers
    # ====================================================================================
    @_guard
    async def lookup(self, parent_inode: int, name: bytes, ctx) -> EntryAttributes:  # noqa: ANN001
        parent = self._inodes[parent_inode]
        if name == b"." or name == b"..":
            ino = parent if name == b"." or parent.parent is None else parent.parent
            if ino.fd < 0:
                raise FUSEError(errno.ENOENT)
            st = os.fstat(ino.fd)
            ino.nlookup += 1
            return self._attrs(ino.nodeid, st)
        self.stats["lookups"] += 1
        try:
            st = os.stat(name, dir_fd=parent.fd, follow_symlinks=False)
        except FileNotFoundError:
            if self._nt > 0:
                e = EntryAttributes()
                e.st_ino = 0
                e.entry_timeout = self._nt
                return e
            raise FUSEError(errno.ENOENT) from None
        sname = os.fsdecode(name)
        v = self._decider("stat", self._pathof(parent, sname), None, self._pid(ctx))
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            path = self._pathof(parent, sname)
            v = await self._gate(v, "file_stat", "stat", path, None, self._pid(ctx), t0,
                                 redirect_ok=True)
            if v.log:
                self._event("file_stat", "stat", path, None, self._pid(ctx), v, t0, False)
        ino = self._known(st)
        if ino is not None and ino.fd >= 0:
            ino.nlookup += 1
            self._note_name(ino, parent, sname, st.st_nlink)
            return self._attrs(ino.nodeid, st)
        ino, st = self._register_name(parent, sname, name)
        return self._attrs(ino.nodeid, st)

    async def forget(self, inode_list) -> None:  # noqa: ANN001
        for nodeid, n in inode_list:
            ino = self._inodes.get(nodeid)
            if ino is None or ino is self._root:
                continue
            ino.nlookup -= n
            if ino.nlookup <= 0:
                try:
                    self._drop(ino)
                except OSError:
                    pass

    async def getattr(self, inode: int, ctx=None) -> EntryAttributes:  # noqa: ANN001
        ino = self._inodes.get(inode)
        if ino is None or ino.fd < 0:
            raise FUSEError(errno.ENOENT)
        try:
            st = os.fstat(ino.fd)
        except OSError as e:
            raise FUSEError(e.errno) from None
        return self._attrs(ino.nodeid, st)

    @_guard
    async def setattr(self, inode: int, attr: EntryAttributes, fields, fh, ctx  # noqa: ANN001
                      ) -> EntryAttributes:
        ino = self._inodes[inode]
        h = self._handles.get(fh) if fh is not None else None
        st = os.fstat(ino.fd)
        pid = self._pid(ctx)
        checks: list[tuple[str, str]] = []
        if fields.update_uid or fields.update_gid:
            checks.append(("chown", "file_chmod"))
        if fields.update_mode:
            new, old = attr.st_mode & 0o7777, st.st_mode & 0o7777
            # no change, or only setuid/setgid dropped (the kernel does that on write and
            # chown): nothing to decide
            drop_only = not new & ~old and not (old & ~new) & ~(stat.S_ISUID | stat.S_ISGID)
            if not drop_only:
                checks.append(("chmod", "file_chmod"))
        wrote = fields.update_size or fields.update_atime or fields.update_mtime
        if wrote and not (h is not None and h.writable):
            checks.append(("write", "file_write"))
        done = []
        for op, etype in checks:
            v, path, via = self._decide_ino(op, ino, pid)
            if v is not ALLOW:
                t0 = time.perf_counter_ns()
                v = await self._gate(v, etype, op, path, None, pid, t0, via)
                if v.log:
                    done.append((etype, op, path, v, t0))
        if fields.update_uid or fields.update_gid:
            _sys.fchown_empty(ino.fd, attr.st_uid if fields.update_uid else -1,
                              attr.st_gid if fields.update_gid else -1)
        if fields.update_mode:
            if ino.kind == S_IFLNK:
                raise FUSEError(errno.EOPNOTSUPP)
            os.chmod(_proc(ino.fd), attr.st_mode & 0o7777)
        if fields.update_size:
            if h is not None:
                os.ftruncate(h.fd, attr.st_size)
            else:
                os.truncate(_proc(ino.fd), attr.st_size)
        if fields.update_atime or fields.update_mtime:
            at = attr.st_atime_ns if fields.update_atime else None
            mt = attr.st_mtime_ns if fields.update_mtime else None
            if ino.kind == S_IFLNK:
                if ino.parent is None or ino.parent.fd < 0:
                    raise FUSEError(errno.EOPNOTSUPP)
                _sys.utimensat(ino.parent.fd, os.fsencode(ino.name), at, mt,
                               _sys.AT_SYMLINK_NOFOLLOW)
            else:
                _sys.utimensat(_sys.AT_FDCWD, _proc(ino.fd).encode(), at, mt)
        for etype, op, path, v, t0 in done:
            fields_ = {"size": attr.st_size} if op == "write" and fields.update_size else None
            self._event(etype, op, path, None, pid, v, t0, False, fields_)
        return self._attrs(ino.nodeid, os.fstat(ino.fd))

    @_guard
    async def readlink(self, inode: int, ctx) -> bytes:  # noqa: ANN001
        ino = self._inodes[inode]
        v, path, via = self._decide_ino("readlink", ino, self._pid(ctx))
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            v = await self._gate(v, "file_stat", "readlink", path, None, self._pid(ctx), t0, via,
                                 redirect_ok=True)
            if v.log:
                self._event("file_stat", "readlink", path, None, self._pid(ctx), v, t0, False)
        return os.readlink(b"", dir_fd=ino.fd)

    async def _make(self, op: str, etype: str, parent_inode: int, name: bytes, ctx,  # noqa: ANN001
                    make: Callable[[int, bytes], None], mode: int, kind: int,
                    path2: str | None = None) -> EntryAttributes:
        """mkdir, mknod, symlink: decide, make as root, give to the caller, register."""
        parent = self._inodes[parent_inode]
        sname = os.fsdecode(name)
        path = self._pathof(parent, sname)
        pid = self._pid(ctx)
        v = self._decider(op, path, path2, pid)
        dirfd, node, bname, close_fd = parent.fd, parent, name, False
        t0 = 0
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            v = await self._gate(v, etype, op, path, path2, pid, t0, redirect_ok=True)
            if v.action == REDIRECT_A:
                dirfd, node, sn = self._redirect_dir(v.redirect, ctx)
                bname, sname, close_fd = os.fsencode(sn), sn, True
        try:
            make(dirfd, bname)
            pfd = os.open(bname, O_PATH_NF, dir_fd=dirfd)
            try:
                self._own(pfd, dirfd, ctx, mode, kind)
                st = os.fstat(pfd)
            except BaseException:
                os.close(pfd)
                raise
            ino = self._counted(pfd, st, node, sname)
        finally:
            if close_fd:
                os.close(dirfd)
        if v.log:
            f = {"redirected_to": v.redirect} if v.action == REDIRECT_A else None
            self._event(etype, op, path, path2, pid, v, t0, False, f)
        return self._attrs(ino.nodeid, st)

    @_guard
    async def mknod(self, parent_inode: int, name: bytes, mode: int, rdev: int,  # noqa: ANN001
                    ctx) -> EntryAttributes:
        return await self._make(
            "mknod", "file_create", parent_inode, name, ctx,
            lambda d, n: os.mknod(n, mode, rdev, dir_fd=d), mode, mode & S_IFMT)

    @_guard
    async def mkdir(self, parent_inode: int, name: bytes, mode: int,  # noqa: ANN001
                    ctx) -> EntryAttributes:
        return await self._make(
            "mkdir", "dir_create", parent_inode, name, ctx,
            lambda d, n: os.mkdir(n, mode & 0o7777, dir_fd=d), mode, S_IFDIR)

    @_guard
    async def symlink(self, parent_inode: int, name: bytes, target: bytes,  # noqa: ANN001
                      ctx) -> EntryAttributes:
        return await self._make(
            "symlink", "file_create", parent_inode, name, ctx,
            lambda d, n: os.symlink(target, n, dir_fd=d), 0o777, S_IFLNK,
            path2=os.fsdecode(target))

    async def _remove(self, op: str, etype: str, parent_inode: int, name: bytes,
                      ctx) -> None:  # noqa: ANN001
        parent = self._inodes[parent_inode]
        sname = os.fsdecode(name)
        path = self._pathof(parent, sname)
        pid = self._pid(ctx)
        v = self._decider(op, path, None, pid)
        t0 = 0
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            v = await self._gate(v, etype, op, path, None, pid, t0)
        st = os.stat(name, dir_fd=parent.fd, follow_symlinks=False)
        fields = None
        if v.action == SOFT_DELETE_A:
            if self._trash is None:
                v = Verdict(DENY_A, log=v.log, decision=v.decision, rule=v.rule,
                            message="soft_delete without a trash directory")
                if v.log:
                    self._event(etype, op, path, None, pid, v, t0, True)
                raise FUSEError(errno.EACCES)
            if op == "rmdir":
                dfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                              dir_fd=parent.fd)
                try:
                    if os.listdir(dfd):
                        raise FUSEError(errno.ENOTEMPTY)
                finally:
                    os.close(dfd)
            rec = self._trash.put(parent.fd, name, path, pid, _comm(pid) if v.log else None)
            fields = {"trash_id": rec["id"]}
            etype = "file_soft_deleted"
        elif op == "rmdir":
            os.rmdir(name, dir_fd=parent.fd)
        else:
            os.unlink(name, dir_fd=parent.fd)
        ino = self._known(st)
        if ino is not None:
            self._forget_name(ino, parent, sname)
        if v.log:
            self._event(etype, op, path, None, pid, v, t0, False, fields)

    @_guard
    async def unlink(self, parent_inode: int, name: bytes, ctx) -> None:  # noqa: ANN001
        await self._remove("delete", "file_delete", parent_inode, name, ctx)

    @_guard
    async def rmdir(self, parent_inode: int, name: bytes, ctx) -> None:  # noqa: ANN001
        await self._remove("rmdir", "dir_delete", parent_inode, name, ctx)

    @_guard
    async def rename(self, parent_old: int, name_old: bytes, parent_new: int,  # noqa: ANN001
                     name_new: bytes, flags: int, ctx) -> None:
        op_, np_ = self._inodes[parent_old], self._inodes[parent_new]
        so, sn = os.fsdecode(name_old), os.fsdecode(name_new)
        path, path2 = self._pathof(op_, so), self._pathof(np_, sn)
        pid = self._pid(ctx)
        v = self._decider("rename", path, path2, pid)
        t0 = 0
        dfd, dnode, bnew, close_fd = np_.fd, np_, name_new, False
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            v = await self._gate(v, "file_rename", "rename", path, path2, pid, t0,
                                 redirect_ok=True)
            if v.action == REDIRECT_A:
                dfd, dnode, s = self._redirect_dir(v.redirect, ctx)
                bnew, sn, close_fd = os.fsencode(s), s, True
        try:
            sst = os.stat(name_old, dir_fd=op_.fd, follow_symlinks=False)
            try:
                dst = os.stat(bnew, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                dst = None
            fields = None
            if (v.action == SOFT_DELETE_A and dst is not None and
                    not flags & (_sys.RENAME_EXCHANGE | _sys.RENAME_NOREPLACE) and
                    (dst.st_dev, dst.st_ino) != (sst.st_dev, sst.st_ino)):
                if self._trash is None:
                    raise FUSEError(errno.EACCES)
                if stat.S_ISDIR(dst.st_mode) != stat.S_ISDIR(sst.st_mode):
                    raise FUSEError(errno.EISDIR if stat.S_ISDIR(dst.st_mode)
                                    else errno.ENOTDIR)
                rec = self._trash.put(dfd, bnew, self._pathof(dnode, sn), pid,
                                      _comm(pid) if v.log else None)
                fields = {"trash_id": rec["id"], "replaced": self._pathof(dnode, sn)}
            if flags:
                _sys.renameat2(op_.fd, name_old, dfd, bnew, flags)
            else:
                os.rename(name_old, bnew, src_dir_fd=op_.fd, dst_dir_fd=dfd)
        finally:
            if close_fd:
                os.close(dfd)
        if dst is not None and (dst.st_dev, dst.st_ino) == (sst.st_dev, sst.st_ino):
            pass  # two names of one inode: rename(2) changes nothing
        else:
            self._renamed(sst, dst, flags, op_, so, dnode, sn)
        if v.log:
            if v.action == REDIRECT_A:
                fields = {"redirected_to": v.redirect}
            elif fields is not None:  # the file the rename replaced went to the trash
                self._event("file_soft_deleted", "rename", fields["replaced"], None, pid, v,
                            t0, False, {"trash_id": fields["trash_id"]})
            self._event("file_rename", "rename", path, path2, pid, v, t0, False, fields)

    def _renamed(self, sst: os.stat_result, dst: os.stat_result | None, flags: int,
                 op_: _Inode, so: str, dnode: _Inode, sn: str) -> None:
        si = self._known(sst)
        di = self._known(dst) if dst is not None else None
        if di is not None and di is not si:
            if flags & _sys.RENAME_EXCHANGE:
                self._move_name(di, dnode, sn, op_, so)
            else:
                self._forget_name(di, dnode, sn)
        if si is not None:
            self._move_name(si, op_, so, dnode, sn)

    @_guard
    async def link(self, inode: int, new_parent_inode: int, new_name: bytes,  # noqa: ANN001
                   ctx) -> EntryAttributes:
        ino = self._inodes[inode]
        np_ = self._inodes[new_parent_inode]
        sn = os.fsdecode(new_name)
        newpath = self._pathof(np_, sn)
        pid = self._pid(ctx)
        if self._deny_links:
            raise FUSEError(errno.EPERM)
        if ino.aliases is not None and len(ino.aliases) >= MAX_NAMES:
            raise FUSEError(errno.EMLINK)  # every name is checked on open: keep it bounded
        v, path, via = self._decide_ino("link", ino, pid, newpath)
        t0 = 0
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            v = await self._gate(v, "file_create", "link", path, newpath, pid, t0, via)
        os.link(_proc(ino.fd), new_name, dst_dir_fd=np_.fd, follow_symlinks=True)
        st = os.fstat(ino.fd)
        ino.nlookup += 1
        self._note_name(ino, np_, sn, max(st.st_nlink, 2))
        if v.log:
            self._event("file_create", "link", path, newpath, pid, v, t0, False)
        return self._attrs(ino.nodeid, st)

    # -- files --------------------------------------------------------------------------
    def _oflags(self, flags: int) -> int:
        fl = (flags & ~_STRIP_OPEN) | os.O_CLOEXEC
        if self._wb:
            # the kernel may read to fill pages of a write-only file, and does O_APPEND
            # itself (it owns the file size while the cache is on)
            if fl & os.O_ACCMODE == os.O_WRONLY:
                fl = (fl & ~os.O_ACCMODE) | os.O_RDWR
            fl &= ~os.O_APPEND
        return fl

    @_guard
    async def open(self, inode: int, flags: int, ctx) -> FileInfo:  # noqa: ANN001
        ino = self._inodes[inode]
        self.stats["opens"] += 1
        wr = (flags & os.O_ACCMODE) != os.O_RDONLY or bool(flags & os.O_TRUNC)
        op = "write" if wr else "read"
        pid = self._pid(ctx)
        v, path, via = self._decide_ino(op, ino, pid)
        if v is ALLOW:
            fd = os.open(_proc(ino.fd), self._oflags(flags))
            self._handles[fd] = _Handle(fd, ino, wr)
            return FileInfo(fh=fd, keep_cache=self._keep)
        t0 = time.perf_counter_ns()
        v = await self._gate(v, "file_open", op, path, None, pid, t0, via, redirect_ok=True)
        redirected = v.action == REDIRECT_A
        if redirected:
            dfd, node, sn = self._redirect_dir(v.redirect, ctx)
            try:
                fl = self._oflags(flags) | os.O_NOFOLLOW
                try:
                    fd = os.open(sn, fl, dir_fd=dfd)
                except FileNotFoundError:
                    if not flags & os.O_CREAT:
                        raise
                    fd = os.open(sn, fl | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dfd)
                    _sys.fchown_empty(fd, ctx.uid, ctx.gid)
            finally:
                os.close(dfd)
        else:
            fd = os.open(_proc(ino.fd), self._oflags(flags))
        h = _Handle(fd, ino, wr)
        self._handles[fd] = h
        if v.log:
            h.log = True
            h.op, h.path, h.pid, h.comm, h.verdict = op, path, pid, _comm(pid), v
            h.t_open = t0
            h.latency_us = (time.perf_counter_ns() - t0) // 1000
            f: dict = {"flags": flags}
            if redirected:
                f["redirected_to"] = v.redirect
            if via:
                f["hardlink"] = via
            self._event("file_open", op, path, None, pid, v, t0, False, f, comm=h.comm)
        # a redirected handle serves another file's data under this inode: keep it out
        # of the page cache. A logged handle drops the cached pages at open, so that
        # what it reads is fetched (and counted) here.
        return FileInfo(fh=fd, keep_cache=self._keep and not redirected and not v.log,
                        direct_io=redirected)

    @_guard
    async def create(self, parent_inode: int, name: bytes, mode: int, flags: int,  # noqa: ANN001
                     ctx) -> tuple[FileInfo, EntryAttributes]:
        parent = self._inodes[parent_inode]
        sname = os.fsdecode(name)
        path = self._pathof(parent, sname)
        pid = self._pid(ctx)
        v = self._decider("create", path, None, pid)
        dirfd, node, bname, close_fd = parent.fd, parent, name, False
        t0 = 0
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            v = await self._gate(v, "file_create", "create", path, None, pid, t0,
                                 redirect_ok=True)
            if v.action == REDIRECT_A:
                dirfd, node, sn = self._redirect_dir(v.redirect, ctx)
                bname, sname, close_fd = os.fsencode(sn), sn, True
        try:
            fl = self._oflags(flags) | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            created = True
            try:
                fd = os.open(bname, fl, mode & 0o7777, dir_fd=dirfd)
            except FileExistsError:
                if flags & os.O_EXCL:
                    raise
                created = False  # appeared meanwhile (made outside the mount)
                fd = os.open(bname, fl & ~(os.O_CREAT | os.O_EXCL), dir_fd=dirfd)
            try:
                pfd = os.open(_proc(fd), os.O_PATH | os.O_CLOEXEC)
                try:
                    if created:
                        self._own(pfd, dirfd, ctx, mode, stat.S_IFREG)
                    st = os.fstat(pfd)
                except BaseException:
                    os.close(pfd)
                    raise
            except BaseException:
                os.close(fd)
                raise
            ino = self._counted(pfd, st, node, sname)
        finally:
            if close_fd:
                os.close(dirfd)
        h = _Handle(fd, ino, True)
        self._handles[fd] = h
        if v.log:
            h.log = True
            h.op, h.path, h.pid, h.comm, h.verdict = "create", path, pid, _comm(pid), v
            h.t_open = t0
            h.latency_us = (time.perf_counter_ns() - t0) // 1000
            f = {"redirected_to": v.redirect} if v.action == REDIRECT_A else None
            self._event("file_create", "create", path, None, pid, v, t0, False, f,
                        comm=h.comm)
        return FileInfo(fh=fd, keep_cache=self._keep), self._attrs(ino.nodeid, st)

    async def read(self, fh: int, off: int, size: int) -> bytes:
        try:
            data = os.pread(fh, size, off)
        except OSError as e:
            raise FUSEError(e.errno) from None
        h = self._handles.get(fh)
        if h is not None:
            h.nread += len(data)
        if size > self.max_read:
            self.max_read = size
        return data

    async def write(self, fh: int, off: int, buf: bytes) -> int:
        try:
            n = os.pwrite(fh, buf, off)
        except OSError as e:
            raise FUSEError(e.errno) from None
        h = self._handles.get(fh)
        if h is not None:
            h.nwritten += n
        if n > self.max_write:
            self.max_write = n
        return n

    async def flush(self, fh: int) -> None:
        # No FLUSH requests (one round trip less per close): the kernel then stops
        # sending them. Dirty pages are still written back at close (writeback cache),
        # and locks are the kernel's own (no lock handlers), so there is nothing to do.
        raise FUSEError(errno.ENOSYS)

    async def release(self, fh: int) -> None:
        h = self._handles.pop(fh, None)
        try:
            os.close(fh)
        except OSError:
            pass
        if h is not None and h.log:
            # latency: what the decision added at open; the handle's life is a field
            v, lat = h.verdict, h.latency_us
            held_ms = (time.perf_counter_ns() - h.t_open) // 1_000_000
            if h.nread or not h.writable:
                self._event("file_read", "read", h.path, None, h.pid, v, h.t_open, False,
                            {"bytes": h.nread, "open_ms": held_ms}, h.comm, lat)
            if h.nwritten or h.writable:
                self._event("file_write", "write", h.path, None, h.pid, v, h.t_open, False,
                            {"bytes": h.nwritten, "open_ms": held_ms}, h.comm, lat)

    async def fsync(self, fh: int, datasync: bool) -> None:
        try:
            if datasync:
                os.fdatasync(fh)
            else:
                os.fsync(fh)
        except OSError as e:
            raise FUSEError(e.errno) from None

    # -- directories --------------------------------------------------------------------
    @_guard
    async def opendir(self, inode: int, ctx) -> int:  # noqa: ANN001
        ino = self._inodes[inode]
        pid = self._pid(ctx)
        v, path, via = self._decide_ino("list", ino, pid)
        t0 = 0
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            v = await self._gate(v, "dir_list", "list", path, None, pid, t0, via,
                                 redirect_ok=True)
        fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=ino.fd)
        h = _Handle(fd, ino, False)
        h.pid = pid
        self._handles[fd] = h
        if v.log:
            self._event("dir_list", "list", path, None, pid, v, t0, False)
        return fd

    @_guard
    async def readdir(self, fh: int, start_id: int, token) -> None:  # noqa: ANN001
        h = self._handles[fh]
        if start_id == 0 or h.entries is None:
            h.entries = [".", ".."] + os.listdir(fh)
        entries = h.entries
        dino = h.inode
        dpath = None
        reply = pyfuse3.readdir_reply
        for i in range(start_id, len(entries)):
            name = entries[i]
            if i < 2:  # "." and "..": no lookup counted (the kernel does not link them)
                e = EntryAttributes()
                e.st_ino = dino.nodeid if i == 0 or dino.parent is None else (
                    dino.parent.nodeid or dino.nodeid)
                e.st_mode = S_IFDIR
                if not reply(token, name.encode(), e, i + 1):
                    return
                continue
            try:
                st = os.stat(name, dir_fd=fh, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if self._decider is not allow_all:
                if dpath is None:
                    dpath = self._path(dino)
                p = dpath + name if dpath == "/" else dpath + "/" + name
                if self._decider("stat", p, None, h.pid).action in (DENY_A, APPROVE_A):
                    # no attributes for a name the caller may not (yet) stat: the entry
                    # is reported without an inode, so a later stat or open of it comes
                    # here as a lookup and is decided there
                    e = EntryAttributes()
                    e.st_ino = 0
                    e.st_mode = st.st_mode & S_IFMT
                    if not reply(token, os.fsencode(name), e, i + 1):
                        return
                    continue
            ino = self._known(st)
            if ino is None or ino.fd < 0:
                try:
                    pfd = os.open(name, O_PATH_NF, dir_fd=fh)
                except FileNotFoundError:
                    continue
                try:
                    st = os.fstat(pfd)
                except OSError:
                    os.close(pfd)
                    raise
                ino = self._adopt(pfd, st, dino, name)
            if not reply(token, os.fsencode(name), self._attrs(ino.nodeid, st), i + 1):
                if ino.nlookup <= 0:
                    self._drop(ino)
                return
            ino.nlookup += 1
            self._note_name(ino, dino, name, st.st_nlink)

    async def releasedir(self, fh: int) -> None:
        self._handles.pop(fh, None)
        try:
            os.close(fh)
        except OSError:
            pass

    async def fsyncdir(self, fh: int, datasync: bool) -> None:
        try:
            os.fsync(fh)
        except OSError as e:
            raise FUSEError(e.errno) from None

    @_guard
    async def statfs(self, ctx) -> pyfuse3.StatvfsData:  # noqa: ANN001
        s = os.fstatvfs(self._root.fd)
        d = pyfuse3.StatvfsData()
        for k in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files",
                  "f_ffree", "f_favail", "f_namemax"):
            setattr(d, k, getattr(s, k))
        return d

    async def access(self, inode: int, mode: int, ctx) -> bool:  # noqa: ANN001
        return True  # default_permissions: the kernel checks

    # -- xattrs -------------------------------------------------------------------------
    @_guard
    async def getxattr(self, inode: int, name: bytes, ctx) -> bytes:  # noqa: ANN001
        ino = self._inodes[inode]
        if ino.kind == S_IFLNK:
            raise FUSEError(errno.ENODATA)
        return os.getxattr(_proc(ino.fd), name)

    @_guard
    async def listxattr(self, inode: int, ctx) -> list[bytes]:  # noqa: ANN001
        ino = self._inodes[inode]
        if ino.kind == S_IFLNK:
            return []
        return [os.fsencode(n) for n in os.listxattr(_proc(ino.fd))]

    async def _xattr_change(self, ino: _Inode, name: bytes, pid: int) -> None:
        v, path, via = self._decide_ino("chmod", ino, pid)
        if v is not ALLOW:
            t0 = time.perf_counter_ns()
            v = await self._gate(v, "file_chmod", "chmod", path, None, pid, t0, via)
            if v.log:
                self._event("file_chmod", "chmod", path, None, pid, v, t0, False,
                            {"xattr": os.fsdecode(name)})

    @_guard
    async def setxattr(self, inode: int, name: bytes, value: bytes, ctx) -> None:  # noqa: ANN001
        ino = self._inodes[inode]
        await self._xattr_change(ino, name, self._pid(ctx))
        if ino.kind == S_IFLNK:
            raise FUSEError(errno.EPERM)
        os.setxattr(_proc(ino.fd), name, value)

    @_guard
    async def removexattr(self, inode: int, name: bytes, ctx) -> None:  # noqa: ANN001
        ino = self._inodes[inode]
        await self._xattr_change(ino, name, self._pid(ctx))
        if ino.kind == S_IFLNK:
            raise FUSEError(errno.ENODATA)
        os.removexattr(_proc(ino.fd), name)


def scan_hardlinks(backing: str | int, prefix: str = "/", max_files: int | None = None
                   ) -> dict[tuple[int, int], list[str]]:
    """Walk the backing tree (without following symlinks) and return the container paths
    of every non-directory with more than one link: pass the result as `hardlinks` so
    names that exist before the mount are checked too. Costs one stat per file."""
    pfx = posixpath.normpath("/" + prefix.strip("/")) if prefix.strip("/") else ""
    out: dict[tuple[int, int], list[str]] = {}
    top = backing if isinstance(backing, int) else os.open(
        backing, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    n = 0
    try:
        for root, _dirs, files, rootfd in os.fwalk(".", dir_fd=top):
            rel = root[2:] if root.startswith("./") else ("" if root == "." else root)
            for f in files:
                n += 1
                if max_files is not None and n > max_files:
                    return {k: v for k, v in out.items() if len(v) > 1}
                try:
                    st = os.stat(f, dir_fd=rootfd, follow_symlinks=False)
                except OSError:
                    continue
                if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                    p = pfx + "/" + (rel + "/" + f if rel else f)
                    out.setdefault((st.st_dev, st.st_ino), []).append(p)
    finally:
        if not isinstance(backing, int):
            os.close(top)
    return out
