"""Reading another process's syscall arguments out of /proc/PID/mem.

Used by the monitor on a seccomp notification: the pointers in the notification
are the caller's; strings and pointer arrays are read from its memory. The
caller's pointer width depends on the architecture the syscall came in on.
"""

from __future__ import annotations

import os

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
X32_SYSCALL_BIT = 0x40000000
MAX_STRING = 4096
MAX_ARGS_BYTES = 256 << 10  # argv over this is not read (and is denied by the caller)
MAX_ARGC = 4096

# syscall numbers per (arch, x32?) for what the monitor intercepts
EXECVE = {AUDIT_ARCH_X86_64: 59, AUDIT_ARCH_I386: 11}
EXECVEAT = {AUDIT_ARCH_X86_64: 322, AUDIT_ARCH_I386: 358}
X32_EXECVE = X32_SYSCALL_BIT | 520
X32_EXECVEAT = X32_SYSCALL_BIT | 545


class TooLong(ValueError):
    """The argument list is larger than we read: the policy denies it (fail closed)."""


def pointer_size(arch: int, nr: int) -> int:
    if arch == AUDIT_ARCH_I386 or (arch == AUDIT_ARCH_X86_64 and nr & X32_SYSCALL_BIT):
        return 4
    return 8


def is_execve(arch: int, nr: int) -> bool:
    return nr == EXECVE.get(arch) or nr == X32_EXECVE


def is_execveat(arch: int, nr: int) -> bool:
    return nr == EXECVEAT.get(arch) or nr == X32_EXECVEAT


class ProcMem:
    """An open /proc/PID/mem; reads are pread()s at the caller's addresses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> ProcMem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, addr: int, size: int) -> bytes:
        return os.pread(self.fd, size, addr)

    def string(self, addr: int, limit: int = MAX_STRING) -> bytes:
        if addr == 0:
            return b""
        out = b""
        while len(out) < limit:
            # never read across a page boundary in one go: the next page may be unmapped
            chunk = min(256, 4096 - (addr + len(out)) % 4096, limit - len(out))
            data = self.read(addr + len(out), chunk)
            if not data:
                break
            nul = data.find(b"\0")
            if nul >= 0:
                return out + data[:nul]
            out += data
        raise TooLong(f"string at {addr:#x} longer than {limit} bytes")

    def string_array(self, addr: int, ptr_size: int) -> list[bytes]:
        """A NULL-terminated array of string pointers (argv, envp)."""
        out: list[bytes] = []
        total = 0
        if addr == 0:
            return out
        while True:
            if len(out) >= MAX_ARGC:
                raise TooLong(f"more than {MAX_ARGC} arguments")
            raw = self.read(addr + len(out) * ptr_size, ptr_size)
            if len(raw) < ptr_size:
                raise OSError(14, "argv array not readable")
            ptr = int.from_bytes(raw, "little")
            if ptr == 0:
                return out
            s = self.string(ptr, min(MAX_STRING * 32, MAX_ARGS_BYTES - total))
            total += len(s) + 1
            if total > MAX_ARGS_BYTES:
                raise TooLong(f"arguments larger than {MAX_ARGS_BYTES} bytes")
            out.append(s)


def fd_path(pid: int, fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None


def cwd_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


def root_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/root")
    except OSError:
        return None
