"""The file a caller's path names, as the container sees it, found from outside.

The monitor walks the name one component at a time through `/proc/PID/root` (the
caller's root), the way the kernel will walk it for the caller: `..` stops at the
root, symlinks are read and followed (at most 40), and two things the monitor cannot
let the kernel do for it are done by hand:

- procfs's `self` and `thread-self` name the process that reads them; for the monitor
  (outside the container's pid namespace) they name nothing. They become the caller's
  own pid (and tid) in that procfs's namespace.
- procfs's magic links (`/proc/PID/fd/N`, `cwd`, `root`, `exe`, `map_files/*`, `ns/*`)
  lead to an object, not to a name. Their target as the monitor reads it is the host's
  path of the object: the caller's root is stripped from it; a target that is no path
  (a pipe, a socket) or lies outside the caller's root is reported as such.

What is found is what the kernel walks at the time of the walk: it is a classification
for the policy, not a handle (see kernelopen.py on what that means).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

MAX_LINKS = 40
PROC_ROOT_INO = 1  # the inode number of every procfs instance's root directory

__all__ = ["Walked", "walk", "caller_ids"]


@dataclass(frozen=True, slots=True)
class Walked:
    """`path`: the container path the name reaches (None: not a path of the container:
    `object` then says what, e.g. "pipe:[12]" or "outside"). `exists`: the last
    component exists; `is_dir`: it is a directory. `magic`: when the name ended in a
    magic link, that link as the monitor can open it (reopening the caller's object)."""

    path: str | None
    exists: bool = False
    is_dir: bool = False
    object: str = ""
    magic: str = ""  # the last component was a magic link: its path for the monitor


@dataclass(frozen=True, slots=True)
class CallerIds:
    pid: int  # the host's tid of the caller (the notification's pid)
    tgids: tuple[int, ...]  # its process id in each pid namespace, outermost first
    tids: tuple[int, ...]  # its thread id in each


def caller_ids(tid: int) -> CallerIds | None:
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    tg: tuple[int, ...] = ()
    ti: tuple[int, ...] = ()
    for line in text.splitlines():
        if line.startswith("NStgid:"):
            tg = tuple(int(x) for x in line.split()[1:])
        elif line.startswith("NSpid:"):
            ti = tuple(int(x) for x in line.split()[1:])
    if not tg or len(tg) != len(ti):
        return None
    return CallerIds(tid, tg, ti)


def _start_time(stat_path: str) -> str | None:
    try:
        with open(stat_path, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2:].split()
    return fields[19].decode() if len(fields) > 19 else None


class _Walk:
    def __init__(self, tid: int, root_prefix: str, ids: CallerIds | None) -> None:
        self.host_root = f"/proc/{tid}/root"
        self.prefix = root_prefix  # the caller's root as the monitor sees it ("" for /)
        self.ids = ids
        self.tid = tid
        self.proc_devs: set[int] = set()
        self.links = 0

    def host(self, cpath: str) -> str:
        return self.host_root + (cpath if cpath != "/" else "")

    def self_name(self, proc_dir: str, thread: bool) -> str | None:
        """The caller's `self` (or `thread-self`) in the procfs at container path
        `proc_dir`: its pid in that procfs's pid namespace, checked by start time."""
        if self.ids is None:
            return None
        mine = _start_time(f"/proc/{self.tid}/stat")
        for tg, ti in zip(reversed(self.ids.tgids), reversed(self.ids.tids), strict=True):
            base = self.host(proc_dir.rstrip("/") + f"/{tg}")
            if mine is not None and _start_time(f"{base}/task/{ti}/stat") == mine:
                return f"{tg}/task/{ti}" if thread else str(tg)
        return None

    def from_host(self, target: str) -> str | None:
        """A magic link's target (the host's view) as a container path, or None."""
        if target.endswith(" (deleted)"):
            target = target[:-len(" (deleted)")]
        if not self.prefix:
            return target
        if target == self.prefix:
            return "/"
        if target.startswith(self.prefix + "/"):
            return target[len(self.prefix):]
        return None


def walk(tid: int, base: str, name: str, follow_last: bool, root: str = "/",
         ids: CallerIds | None = None) -> Walked:
    """Where `name` leads for the caller `tid`: relative names start at container path
    `base` (its cwd or dirfd), absolute ones at `root` (the container's root, or a
    dirfd for openat2's RESOLVE_IN_ROOT). Raises OSError when the caller is gone."""
    rl = os.readlink(f"/proc/{tid}/root")
    w = _Walk(tid, "" if rl == "/" else rl, ids)
    try:
        pst = os.lstat(w.host("/proc"))
        if _is_proc_root(w.host("/proc")):
            w.proc_devs.add(pst.st_dev)  # the container's procfs, however it is reached
    except OSError:
        pass
    root = "/" + root.strip("/") if root.strip("/") else "/"
    todo = [c for c in name.split("/") if c]
    done = _parts(root) if name.startswith("/") else _parts(base)
    floor = len(_parts(root))
    todo.reverse()  # a stack: the next component last
    last_is_dir = False
    exists = True
    magic = ""
    while todo:
        comp = todo.pop()
        final = not todo
        if comp == ".":
            continue
        if comp == "..":
            if len(done) > floor:
                done.pop()
            continue
        parent = _join(done)
        cand = _join(done + [comp])
        magic = ""
        try:
            st = os.lstat(w.host(cand))
        except OSError:
            # missing: the rest is taken as written (the kernel fails or creates it)
            rest = [comp] + [c for c in reversed(todo) if c != "."]
            return Walked(_normalise(done + rest, floor), exists=False)
        if stat.S_ISDIR(st.st_mode) and st.st_ino == PROC_ROOT_INO and \
                st.st_dev not in w.proc_devs and _is_proc_root(w.host(cand)):
            w.proc_devs.add(st.st_dev)
        if stat.S_ISLNK(st.st_mode) and (follow_last or not final):
            w.links += 1
            if w.links > MAX_LINKS:
                return Walked(cand, exists=True, object="loop")
            try:
                target = os.readlink(w.host(cand))
            except OSError:
                target = None
            in_proc = st.st_dev in w.proc_devs or _is_proc_root(w.host(parent))
            if in_proc and _is_proc_root(w.host(parent)) and comp in ("self", "thread-self"):
                mine = w.self_name(parent, comp == "thread-self")
                if mine is None:
                    return Walked(None, object="not-in-namespace")
                todo.extend(reversed(mine.split("/")))
                continue
            if in_proc and not _is_proc_root(w.host(parent)):
                # a magic link: its object, the host's path of it
                link = w.host(cand) if final else ""
                if target is None or not target.startswith("/"):
                    if final:
                        return Walked(None, exists=True, object=target or "unreadable",
                                      magic=link)
                    return Walked(None, object=target or "unreadable")
                where = w.from_host(target)
                if where is None:
                    return Walked(None, exists=True, object="outside", magic=link)
                done = _parts(where)
                floor = 0
                last_is_dir = os.path.isdir(w.host(where))
                magic = link
                continue
            if target is None:
                return Walked(cand, exists=True)
            if target.startswith("/"):
                done = _parts(root)
            todo.extend(reversed([c for c in target.split("/") if c]))
            continue
        done.append(comp)
        last_is_dir = stat.S_ISDIR(st.st_mode)
    return Walked(_join(done), exists=exists, is_dir=last_is_dir, magic=magic)


def _is_proc_root(host_dir: str) -> bool:
    try:
        st = os.stat(host_dir)
    except OSError:
        return False
    if st.st_ino != PROC_ROOT_INO:
        return False
    return os.path.lexists(host_dir + "/self") and os.path.lexists(host_dir + "/thread-self")


def _parts(path: str) -> list[str]:
    return [c for c in path.split("/") if c and c != "."]


def _join(parts: list[str]) -> str:
    return "/" + "/".join(parts)


def _normalise(parts: list[str], floor: int) -> str:
    out: list[str] = []
    for c in parts:
        if c == "..":
            if len(out) > floor:
                out.pop()
        elif c and c != ".":
            out.append(c)
    return _join(out)
