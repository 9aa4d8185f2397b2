"""ptrace(2), waitpid with __WALL, kcmp and tracee memory writes, through ctypes.

x86_64 only (the register layout is `struct user_regs_struct`); a 32-bit tracee's
registers come in the same 64-bit layout when the tracer is 64-bit.
"""

from __future__ import annotations

import ctypes
import errno
import os

from .libc import check, libc
from .procmem import TooLong

PTRACE_CONT = 7
PTRACE_SYSCALL = 24
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_DETACH = 17
PTRACE_SETOPTIONS = 0x4200
PTRACE_GETEVENTMSG = 0x4201
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208
PTRACE_GET_SYSCALL_INFO = 0x420E

PTRACE_O_TRACESYSGOOD = 0x1
PTRACE_O_TRACEFORK = 0x2
PTRACE_O_TRACEVFORK = 0x4
PTRACE_O_TRACECLONE = 0x8
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000

PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_SECCOMP = 7
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


_raw = libc.ptrace  # the tracer's hot path: ints straight to C, a message only on error


def _failed(req: str, tid: int) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{req} {tid}: {os.strerror(err)}")


def seize(tid: int, options: int) -> None:
    _ptrace(PTRACE_SEIZE, tid, 0, options, f"PTRACE_SEIZE {tid}")


def interrupt(tid: int) -> None:
    _ptrace(PTRACE_INTERRUPT, tid, 0, 0, f"PTRACE_INTERRUPT {tid}")


def detach(tid: int, sig: int = 0) -> None:
    _ptrace(PTRACE_DETACH, tid, 0, sig, f"PTRACE_DETACH {tid}")


def cont(tid: int, sig: int = 0) -> None:
    if _raw(PTRACE_CONT, tid, None, sig or None) < 0:
        raise _failed("PTRACE_CONT", tid)


def set_options(tid: int, options: int) -> None:
    if _raw(PTRACE_SETOPTIONS, tid, None, options) < 0:
        raise _failed("PTRACE_SETOPTIONS", tid)


def listen(tid: int) -> None:
    """PTRACE_LISTEN: leave a seized tracee in its group stop until SIGCONT."""
    _ptrace(PTRACE_LISTEN, tid, 0, 0, f"PTRACE_LISTEN {tid}")


def syscall_step(tid: int, sig: int = 0) -> None:
    """PTRACE_SYSCALL: resume, stopping again at the syscall's exit."""
    _ptrace(PTRACE_SYSCALL, tid, 0, sig, f"PTRACE_SYSCALL {tid}")


class SyscallInfo(ctypes.Structure):
    """struct ptrace_syscall_info with the seccomp member of its union (op 3)."""

    _fields_ = [("op", ctypes.c_uint8), ("pad", ctypes.c_uint8 * 3), ("arch", ctypes.c_uint32),
                ("ip", ctypes.c_uint64), ("sp", ctypes.c_uint64), ("nr", ctypes.c_uint64),
                ("args", ctypes.c_uint64 * 6), ("ret_data", ctypes.c_uint32),
                ("pad2", ctypes.c_uint32)]


SYSCALL_INFO_SECCOMP = 3
_INFO_SIZE = ctypes.sizeof(SyscallInfo)


def syscall_info(tid: int, info: SyscallInfo) -> SyscallInfo:
    """PTRACE_GET_SYSCALL_INFO into `info` (reused: the tracer's hot path)."""
    if _raw(PTRACE_GET_SYSCALL_INFO, tid, _INFO_SIZE, ctypes.addressof(info)) < 0:
        raise _failed("PTRACE_GET_SYSCALL_INFO", tid)
    return info


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


libc.process_vm_readv.restype = ctypes.c_ssize_t
libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong,
                                  ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


_RBUF = ctypes.create_string_buffer(4096)
_LOCAL = _IoVec(ctypes.cast(_RBUF, ctypes.c_void_p), 4096)
_REMOTE = _IoVec(0, 0)


def read_mem(pid: int, addr: int, size: int) -> bytes:
    """process_vm_readv of up to 4096 bytes at `addr` (fewer at an unmapped page);
    empty when nothing there is readable. Not thread-safe: one shared buffer."""
    size = min(size, 4096)
    _LOCAL.len = size
    _REMOTE.base, _REMOTE.len = addr, size
    got = libc.process_vm_readv(pid, ctypes.byref(_LOCAL), 1, ctypes.byref(_REMOTE), 1, 0)
    if got < 0:
        err = ctypes.get_errno()
        if err == 14:  # EFAULT: a bad pointer is the caller's error, not ours
            return b""
        raise OSError(err, f"process_vm_readv {pid}: {os.strerror(err)}")
    return _RBUF.raw[:got]


def read_cstring(pid: int, addr: int, limit: int = 4096) -> bytes:
    """A NUL-terminated string of the tracee's: procmem.TooLong past `limit`,
    OSError(EFAULT) when it cannot be read."""
    out = b""
    while len(out) < limit:
        # first chunk up to the page end: the next page may be unmapped
        chunk = min(4096 - (addr + len(out)) % 4096, limit - len(out))
        data = read_mem(pid, addr + len(out), chunk)
        if not data:
            raise OSError(errno.EFAULT, f"string at {addr:#x} not readable")
        nul = data.find(b"\0")
        if nul >= 0:
            return out + data[:nul]
        out += data
    raise TooLong(f"string at {addr:#x} longer than {limit} bytes")


def read_string(pid: int, addr: int, limit: int = 4096) -> bytes | None:
    """read_cstring, None when longer than `limit` or not readable (the caller
    refuses the call: the kernel would read it differently)."""
    if addr == 0:
        return None
    try:
        return read_cstring(pid, addr, limit)
    except TooLong:
        return None
    except OSError as e:
        if e.errno == errno.EFAULT:
            return None
        raise


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
