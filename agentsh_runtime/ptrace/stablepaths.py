"""Paths no tracee can re-point, and what they resolve to, remembered.

A path is stable when every name the kernel passes while resolving it (each component,
and each component of every symlink's target on the way) is one the policy lets no
tracee add, remove or replace (`fixed`), and none is under /proc (whose links name each
process's own files). Tracees cannot mount or chroot in ptrace mode (prefilter.py), so
what a stable path resolves to changes only when the host changes it: its resolution is
kept, and an open of it needs no second look at the syscall's exit. Most opens of a
program's start (the loader's libraries, locale files, most of them missing) are such
paths; resolving each again costs more than the rest of the check.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from .paths import MAX_LINKS, Resolver

CACHE_MAX = 16384


class StablePaths:
    def __init__(self, resolver: Resolver, fixed: Callable[[str], bool]) -> None:
        self.resolver = resolver
        self.fixed = fixed
        self._prefix = "" if resolver.root == "/" else resolver.root
        self._known: dict[tuple[str, bool], str | None] = {}  # None: not stable

    def resolve(self, joined: str, follow: bool) -> tuple[str, bool]:
        """(what `joined` resolves to, whether it is stable); Unresolvable as
        Resolver.resolve raises it."""
        key = (joined, follow)
        known = self._known.get(key, "")
        if known:
            return known, True
        real = self.resolver.resolve(joined, follow)
        if known is None:
            return real, False
        if len(self._known) >= CACHE_MAX:
            self._known.clear()
        # the walk after the resolution: the names it passes cannot have changed since
        ok = self.stable(joined, follow)
        self._known[key] = real if ok else None
        return real, ok

    def stable(self, path: str, follow: bool) -> bool:
        """Walk `path` as the kernel would, name by name, symlinks by their text."""
        todo = [c for c in reversed(path.split("/")) if c and c != "."]
        cur = ""
        links = 0
        while todo:
            part = todo.pop()
            if part == "..":
                cur = cur.rpartition("/")[0]
                continue
            nxt = f"{cur}/{part}"
            if nxt == "/proc" or nxt.startswith("/proc/") or not self.fixed(nxt):
                return False
            if not todo and not follow:
                return True
            try:
                st = os.lstat(self._prefix + nxt)
            except (FileNotFoundError, NotADirectoryError):
                return True  # nothing can be created there: the rest stays missing
            except OSError:
                return False
            if stat.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_LINKS:
                    return False
                try:
                    target = os.readlink(self._prefix + nxt)
                except OSError:
                    return False
                if target.startswith("/"):
                    cur = ""
                todo.extend(c for c in reversed(target.split("/")) if c and c != ".")
                continue
            cur = nxt
        return True
