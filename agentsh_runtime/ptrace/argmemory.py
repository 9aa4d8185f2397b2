"""Can a traced call's argument memory change between the tracer's read and the
kernel's?

Threads sharing the address space are frozen (tracer.freeze_peers) or ruled out
(sole_writer); what remains is another process. It can rewrite a page of ours only
through something both map: a MAP_SHARED page, or a file page (a private mapping shows
the file's bytes until the page is first written). So the memory is steady when each
page is private anonymous (/proc/PID/pagemap), or when the range lies in a mapping of
a file no tracee can write: the policy refuses writes to it and every change of its
names, and it has no other name (one link). Program string literals (the loader's
"/etc/ld.so.cache", a binary's "/etc/passwd") are such pages.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable

from ..linux import pagemap

Vma = tuple[int, int, str]  # start, end, the file's path (our view)


class ArgMemory:
    def __init__(self, unwritable: Callable[[str], bool]) -> None:
        self.unwritable = unwritable
        self._pagemaps: dict[int, int] = {}  # address space -> an fd on its pagemap
        self._maps: dict[int, list[Vma]] = {}  # address space -> its file mappings

    def private(self, tid: int, group: int, addr: int, length: int) -> bool:
        """Every page of the range present, anonymous and private."""
        fd = self._pagemaps.get(group)
        try:
            if fd is None:
                fd = self._pagemaps[group] = pagemap.open_pagemap(tid)
            return pagemap.private_anon(fd, addr, length)
        except OSError:
            return False

    def steady(self, tid: int, group: int, addr: int, length: int) -> bool:
        """Private, or in a mapping of a file nobody traced can write."""
        return self.private(tid, group, addr, length) or \
            self._in_unwritable_file(tid, group, addr, addr + max(length, 1))

    def _in_unwritable_file(self, tid: int, group: int, lo: int, hi: int) -> bool:
        vmas = self._maps.get(group)
        fresh = vmas is None
        if vmas is None:
            vmas = self._maps[group] = _file_vmas(tid)
        while True:
            vma = _find(vmas, lo, hi)
            if vma is not None:
                start, end, path = vma
                try:
                    # still that file over that exact range (a mapping over part of
                    # it would have split the range, and this name with it)
                    current = os.readlink(f"/proc/{tid}/map_files/{start:x}-{end:x}")
                except OSError:
                    current = None
                if current == path:
                    return self.unwritable(path)
            if fresh:
                return False
            vmas = self._maps[group] = _file_vmas(tid)  # mapped or moved since
            fresh = True

    def forget(self, group: int) -> None:
        fd = self._pagemaps.pop(group, None)
        if fd is not None:
            os.close(fd)
        self._maps.pop(group, None)

    def close(self) -> None:
        for group in list(self._pagemaps):
            self.forget(group)
        self._maps.clear()


def _file_vmas(tid: int) -> list[Vma]:
    """tid's mappings of files, sorted by address (deleted files left out)."""
    out: list[Vma] = []
    try:
        with open(f"/proc/{tid}/maps", "rb") as f:
            data = f.read()
    except OSError:
        return out
    for line in data.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6 or parts[4] == b"0" or not parts[5].startswith(b"/"):
            continue
        path = parts[5].decode("utf-8", "surrogateescape")
        if path.endswith(" (deleted)"):
            continue
        start, _, end = parts[0].partition(b"-")
        out.append((int(start, 16), int(end, 16), path))
    out.sort()
    return out


def _find(vmas: list[Vma], lo: int, hi: int) -> Vma | None:
    """The mapping holding all of [lo, hi)."""
    i = bisect.bisect_right(vmas, (lo, float("inf"), "")) - 1
    if i >= 0 and vmas[i][0] <= lo and hi <= vmas[i][1]:
        return vmas[i]
    return None
