"""/proc/PID/pagemap: whether a range of another process's memory is private
anonymous memory, which only that address space can write.

Each virtual page has a 64-bit entry: bit 63 present, bit 61 "file page or shared
anonymous" (kernel Documentation/admin-guide/mm/pagemap.rst). A present page without
bit 61 is anonymous and private (a copy-on-write page shared after fork stays private:
a write by either side copies it); any other page may change under a reader's feet
through a file write or another process's mapping. The flags need only ptrace read
access (PFNs, which need CAP_SYS_ADMIN, are not used)."""

from __future__ import annotations

import os

PM_PRESENT = 1 << 63
PM_FILE_OR_SHARED = 1 << 61
PAGE = os.sysconf("SC_PAGE_SIZE")


def open_pagemap(pid: int) -> int:
    """An fd on pid's pagemap; it keeps describing the address space pid had at the
    open (an exec gives the process another one)."""
    return os.open(f"/proc/{pid}/pagemap", os.O_RDONLY | os.O_CLOEXEC)


def private_anon(fd: int, addr: int, length: int) -> bool:
    """Is every page of [addr, addr + length) present, anonymous and private?"""
    first = addr // PAGE
    last = (addr + max(length, 1) - 1) // PAGE
    want = 8 * (last - first + 1)
    data = os.pread(fd, want, first * 8)
    if len(data) != want:
        return False
    for i in range(0, want, 8):
        v = int.from_bytes(data[i:i + 8], "little")
        if not v & PM_PRESENT or v & PM_FILE_OR_SHARED:
            return False
    return True
