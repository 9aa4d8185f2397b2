"""ptrace(2), waitpid with __WALL, kcmp and tracee memory writes, through ctypes.

x86_64 only (the register layout is `struct user_regs_struct`); a 32-bit tracee's
registers come in the same 64-bit layout when the tracer is 64-bit.
"""

from __future__ import annotations

import ctypes
import os

from .libc import check, libc

PTRACE_CONT = 7
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_DETACH = 17
PTRACE_GETEVENTMSG = 0x4201
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207

PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_EXITKILL = 0x100000

PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_STOP = 128

WALL = 0x40000000  # __WALL: wait for threads (clone children) too
WNOHANG = 1

SYS_kcmp = 312
KCMP_VM = 1

libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_ulonglong) for n in (
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
        "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
        "gs_base", "ds", "es", "fs", "gs")]


def _ptrace(req: int, pid: int, addr: int, data: int, what: str) -> int:
    ctypes.set_errno(0)
    return check(libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data)), what)


def seize(tid: int, options: int) -> None:
    _ptrace(PTRACE_SEIZE, tid, 0, options, f"PTRACE_SEIZE {tid}")


def interrupt(tid: int) -> None:
    _ptrace(PTRACE_INTERRUPT, tid, 0, 0, f"PTRACE_INTERRUPT {tid}")


def detach(tid: int, sig: int = 0) -> None:
    _ptrace(PTRACE_DETACH, tid, 0, sig, f"PTRACE_DETACH {tid}")


def cont(tid: int, sig: int = 0) -> None:
    _ptrace(PTRACE_CONT, tid, 0, sig, f"PTRACE_CONT {tid}")


def get_regs(tid: int) -> Regs:
    regs = Regs()
    _ptrace(PTRACE_GETREGS, tid, 0, ctypes.addressof(regs), f"PTRACE_GETREGS {tid}")
    return regs


def set_regs(tid: int, regs: Regs) -> None:
    _ptrace(PTRACE_SETREGS, tid, 0, ctypes.addressof(regs), f"PTRACE_SETREGS {tid}")


def event_msg(tid: int) -> int:
    out = ctypes.c_ulong()
    _ptrace(PTRACE_GETEVENTMSG, tid, 0, ctypes.addressof(out), f"PTRACE_GETEVENTMSG {tid}")
    return out.value


def wait_any(flags: int = 0) -> tuple[int, int]:
    """waitpid(-1, __WALL | flags): (pid, status); (0, 0) with WNOHANG and nothing ready."""
    return os.waitpid(-1, WALL | flags)


def stop_event(status: int) -> int:
    """The PTRACE_EVENT_* of a stop (0: a signal-delivery or group stop)."""
    return (status >> 16) & 0xFFFF


def same_mm(pid1: int, pid2: int) -> bool:
    """kcmp(KCMP_VM): do the two processes share one address space?"""
    ret = libc.syscall(SYS_kcmp, pid1, pid2, KCMP_VM, 0, 0)
    return ret == 0


def write_mem(pid: int, addr: int, data: bytes) -> None:
    fd = os.open(f"/proc/{pid}/mem", os.O_WRONLY | os.O_CLOEXEC)
    try:
        if os.pwrite(fd, data, addr) != len(data):
            raise OSError(14, f"short write to process {pid} at {addr:#x}")
    finally:
        os.close(fd)


def writable_below(pid: int, addr: int) -> int:
    """The lowest address of the writable mapping that holds `addr` (0: none)."""
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            for line in f:
                span, perms = line.split(b" ", 2)[:2]
                lo, hi = (int(x, 16) for x in span.split(b"-"))
                if lo <= addr < hi:
                    return lo if perms[1:2] == b"w" else 0
    except OSError:
        return 0
    return 0
