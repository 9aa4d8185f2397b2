"""seccomp(2) and the user-notification ioctls, through ctypes. No OCI knowledge here.

Loading a filter (`load_filter`) needs one of:
- the no_new_privs bit set (prctl(PR_SET_NO_NEW_PRIVS, 1)), or
- CAP_SYS_ADMIN in the caller's user namespace.
Without either the kernel answers EACCES. A container without
`process.noNewPrivileges` must therefore load its filter while CAP_SYS_ADMIN is
still in the effective set, i.e. before the capability drop.

The structs are packed by hand into ctypes buffers (int.to_bytes/from_bytes):
a ctypes.Structure class costs ~0.3 ms to define, and this module must also work
after pivot_root, so nothing here imports lazily.

x86_64 only for the syscall number; the struct layouts are the generic UAPI ones
(little-endian is taken from sys.byteorder).
"""

from __future__ import annotations

import ctypes
import os
import sys

from .libc import libc

SYS_seccomp = 317  # x86_64

# seccomp(2) operations
SECCOMP_SET_MODE_STRICT = 0
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_GET_ACTION_AVAIL = 2
SECCOMP_GET_NOTIF_SIZES = 3

# SECCOMP_SET_MODE_FILTER flags
SECCOMP_FILTER_FLAG_TSYNC = 1 << 0
SECCOMP_FILTER_FLAG_LOG = 1 << 1
SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4
SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5

FILTER_FLAGS: dict[str, int] = {
    "SECCOMP_FILTER_FLAG_TSYNC": SECCOMP_FILTER_FLAG_TSYNC,
    "SECCOMP_FILTER_FLAG_LOG": SECCOMP_FILTER_FLAG_LOG,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    "SECCOMP_FILTER_FLAG_NEW_LISTENER": SECCOMP_FILTER_FLAG_NEW_LISTENER,
    "SECCOMP_FILTER_FLAG_TSYNC_ESRCH": SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}

# Filter return values (the action is the high 16 bits, data the low 16).
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_TRAP = 0x00030000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_TRACE = 0x7FF00000
SECCOMP_RET_LOG = 0x7FFC0000
SECCOMP_RET_ALLOW = 0x7FFF0000

# struct seccomp_notif_resp.flags
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1 << 0
# struct seccomp_notif_addfd.flags
SECCOMP_ADDFD_FLAG_SETFD = 1 << 0
SECCOMP_ADDFD_FLAG_SEND = 1 << 1
# SECCOMP_IOCTL_NOTIF_SET_FLAGS (6.6)
SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1 << 0

BPF_MAXINSNS = 4096
SOCK_FILTER_SIZE = 8  # struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }

# UAPI struct sizes this module packs.
NOTIF_SIZE = 80  # struct seccomp_notif: u64 id, u32 pid, u32 flags, struct seccomp_data
NOTIF_RESP_SIZE = 24  # struct seccomp_notif_resp: u64 id, s64 val, s32 error, u32 flags
DATA_SIZE = 64  # struct seccomp_data: s32 nr, u32 arch, u64 ip, u64 args[6]
ADDFD_SIZE = 24  # struct seccomp_notif_addfd: u64 id, u32 flags, srcfd, newfd, newfd_flags


def _ioc(direction: int, nr: int, size: int) -> int:
    # _IOC(dir, type='!', nr, size) with the asm-generic layout (x86, arm64, riscv).
    return (direction << 30) | (size << 16) | (ord("!") << 8) | nr


_IOC_WRITE = 1
_IOC_READ = 2
SECCOMP_IOCTL_NOTIF_RECV = _ioc(_IOC_READ | _IOC_WRITE, 0, NOTIF_SIZE)
SECCOMP_IOCTL_NOTIF_SEND = _ioc(_IOC_READ | _IOC_WRITE, 1, NOTIF_RESP_SIZE)
SECCOMP_IOCTL_NOTIF_ID_VALID = _ioc(_IOC_WRITE, 2, 8)
SECCOMP_IOCTL_NOTIF_ADDFD = _ioc(_IOC_WRITE, 3, ADDFD_SIZE)
SECCOMP_IOCTL_NOTIF_SET_FLAGS = _ioc(_IOC_WRITE, 4, 8)

_BO = sys.byteorder
_PTR = ctypes.sizeof(ctypes.c_void_p)


def _err(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")


def _seccomp(op: int, flags: int, arg: object) -> int:
    return libc.syscall(SYS_seccomp, ctypes.c_uint(op), ctypes.c_uint(flags), arg)


def load_filter(bpf: bytes, flags: int = 0, new_listener: bool = False) -> int | None:
    """Install a classic-BPF seccomp filter on the calling thread (and its children).

    `bpf` is the raw program: struct sock_filter entries in host byte order, as
    libseccomp's seccomp_export_bpf writes them. `flags` are SECCOMP_FILTER_FLAG_*
    bits; `new_listener` adds SECCOMP_FILTER_FLAG_NEW_LISTENER and returns the
    listener fd (close-on-exec, as the kernel creates it), otherwise None.

    Needs no_new_privs or CAP_SYS_ADMIN (see the module docstring); EACCES otherwise.
    """
    n, rem = divmod(len(bpf), SOCK_FILTER_SIZE)
    if rem or not n or n > BPF_MAXINSNS:
        raise ValueError(f"not a loadable BPF program: {len(bpf)} bytes")
    if new_listener:
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER
    prog = ctypes.create_string_buffer(bpf, len(bpf))
    # struct sock_fprog { unsigned short len; struct sock_filter *filter; }:
    # the pointer is aligned to its size, so the u16 is followed by padding.
    fprog = ctypes.create_string_buffer(
        n.to_bytes(2, _BO) + bytes(_PTR - 2) + ctypes.addressof(prog).to_bytes(_PTR, _BO),
        2 * _PTR)
    ret = _seccomp(SECCOMP_SET_MODE_FILTER, flags, fprog)
    if ret < 0:
        err = ctypes.get_errno()
        hint = ""
        if err == 13:  # EACCES
            hint = " (loading a filter needs no_new_privs or CAP_SYS_ADMIN)"
        elif err == 22:  # EINVAL
            hint = f" (flags {flags:#x} or the program refused by this kernel)"
        raise OSError(err, f"seccomp(SECCOMP_SET_MODE_FILTER): {os.strerror(err)}{hint}")
    return ret if flags & SECCOMP_FILTER_FLAG_NEW_LISTENER else None


def action_available(action: int) -> bool:
    """SECCOMP_GET_ACTION_AVAIL: does this kernel know the filter return action?"""
    buf = ctypes.create_string_buffer((action & 0xFFFF0000).to_bytes(4, _BO), 4)
    if _seccomp(SECCOMP_GET_ACTION_AVAIL, 0, buf) == 0:
        return True
    if ctypes.get_errno() == 95:  # EOPNOTSUPP
        return False
    raise _err("seccomp(SECCOMP_GET_ACTION_AVAIL)")


def flag_supported(flag: int) -> bool:
    """Whether the kernel accepts `flag` for SECCOMP_SET_MODE_FILTER, without loading.

    A NULL program makes the kernel fail with EFAULT once the flags passed its
    checks, EINVAL if a flag is unknown (the probe runc and libseccomp use).
    """
    if _seccomp(SECCOMP_SET_MODE_FILTER, flag, None) == 0:  # pragma: no cover
        return True
    return ctypes.get_errno() == 14  # EFAULT


_notif_sizes: tuple[int, int, int] | None = None


def notif_sizes() -> tuple[int, int, int]:
    """SECCOMP_GET_NOTIF_SIZES: the kernel's (seccomp_notif, seccomp_notif_resp, seccomp_data)."""
    global _notif_sizes
    if _notif_sizes is None:
        buf = ctypes.create_string_buffer(6)
        if _seccomp(SECCOMP_GET_NOTIF_SIZES, 0, buf) < 0:
            raise _err("seccomp(SECCOMP_GET_NOTIF_SIZES)")
        raw = buf.raw
        sizes = (int.from_bytes(raw[0:2], _BO), int.from_bytes(raw[2:4], _BO),
                 int.from_bytes(raw[4:6], _BO))
        if sizes[0] < NOTIF_SIZE or sizes[1] < NOTIF_RESP_SIZE or sizes[2] < DATA_SIZE:
            raise OSError(f"kernel seccomp notification structs {sizes} are smaller than "
                          f"the UAPI ones this runtime packs")
        _notif_sizes = sizes
    return _notif_sizes


class Notif:
    """One struct seccomp_notif as received from a listener."""

    __slots__ = ("id", "pid", "flags", "nr", "arch", "instruction_pointer", "args")

    def __init__(self, id: int, pid: int, flags: int, nr: int, arch: int,
                 instruction_pointer: int, args: tuple[int, ...]) -> None:
        self.id = id
        self.pid = pid
        self.flags = flags
        self.nr = nr
        self.arch = arch
        self.instruction_pointer = instruction_pointer
        self.args = args

    def __repr__(self) -> str:
        return (f"Notif(id={self.id:#x}, pid={self.pid}, nr={self.nr}, arch={self.arch:#x}, "
                f"args={tuple(hex(a) for a in self.args)})")


def _ioctl(fd: int, request: int, buf: object, what: str) -> int:
    ret = libc.ioctl(ctypes.c_int(fd), ctypes.c_ulong(request), buf)
    if ret < 0:
        raise _err(what)
    return ret


def notif_recv(listener: int) -> Notif:
    """SECCOMP_IOCTL_NOTIF_RECV: block until a notification arrives, then return it.

    ENOENT means the target died (or its syscall was interrupted) before we read it;
    EINTR a signal; the caller retries on both.
    """
    size = notif_sizes()[0]
    buf = ctypes.create_string_buffer(size)  # zeroed, as the kernel requires
    _ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buf, "SECCOMP_IOCTL_NOTIF_RECV")
    raw = buf.raw
    args = tuple(int.from_bytes(raw[32 + 8 * i:40 + 8 * i], _BO) for i in range(6))
    return Notif(
        int.from_bytes(raw[0:8], _BO),
        int.from_bytes(raw[8:12], _BO),
        int.from_bytes(raw[12:16], _BO),
        int.from_bytes(raw[16:20], _BO, signed=True),
        int.from_bytes(raw[20:24], _BO),
        int.from_bytes(raw[24:32], _BO),
        args,
    )


def notif_send(listener: int, id: int, val: int = 0, error: int = 0,
               flags: int = 0) -> None:
    """SECCOMP_IOCTL_NOTIF_SEND: answer notification `id`.

    `error` is a positive errno to fail the syscall with (0: succeed, returning `val`).
    With flags=SECCOMP_USER_NOTIF_FLAG_CONTINUE the kernel runs the syscall itself;
    val and error must then be 0. ENOENT: the target is gone or was interrupted.
    """
    size = notif_sizes()[1]
    raw = (id.to_bytes(8, _BO) + val.to_bytes(8, _BO, signed=True)
           + (-error).to_bytes(4, _BO, signed=True) + flags.to_bytes(4, _BO))
    buf = ctypes.create_string_buffer(raw, max(size, NOTIF_RESP_SIZE))
    _ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, buf, "SECCOMP_IOCTL_NOTIF_SEND")


def notif_continue(listener: int, id: int) -> None:
    notif_send(listener, id, flags=SECCOMP_USER_NOTIF_FLAG_CONTINUE)


def notif_id_valid(listener: int, id: int) -> bool:
    """SECCOMP_IOCTL_NOTIF_ID_VALID: is the target still blocked in notification `id`?

    Check it after reading the target's memory (/proc/PID/mem) and before acting on
    what was read: the pid may have been reused in between.
    """
    buf = ctypes.create_string_buffer(id.to_bytes(8, _BO), 8)
    ret = libc.ioctl(ctypes.c_int(listener), ctypes.c_ulong(SECCOMP_IOCTL_NOTIF_ID_VALID), buf)
    if ret == 0:
        return True
    if ctypes.get_errno() == 2:  # ENOENT
        return False
    raise _err("SECCOMP_IOCTL_NOTIF_ID_VALID")


def notif_addfd(listener: int, id: int, srcfd: int, newfd: int = 0,
                newfd_flags: int = 0, flags: int = 0) -> int:
    """SECCOMP_IOCTL_NOTIF_ADDFD: install our `srcfd` into the target; returns its number.

    flags: SECCOMP_ADDFD_FLAG_SETFD (use `newfd` exactly), SECCOMP_ADDFD_FLAG_SEND
    (also answer the notification with the new fd as the syscall's return value,
    atomically; 5.14+). newfd_flags: O_CLOEXEC only.
    """
    raw = (id.to_bytes(8, _BO) + flags.to_bytes(4, _BO) + srcfd.to_bytes(4, _BO)
           + newfd.to_bytes(4, _BO) + newfd_flags.to_bytes(4, _BO))
    buf = ctypes.create_string_buffer(raw, ADDFD_SIZE)
    return _ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, buf, "SECCOMP_IOCTL_NOTIF_ADDFD")


def notif_set_flags(listener: int, flags: int) -> None:
    """SECCOMP_IOCTL_NOTIF_SET_FLAGS (6.6+): e.g. SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP.

    The kernel takes the flags as the ioctl's argument itself, not through a pointer.
    """
    _ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, ctypes.c_ulong(flags),
           "SECCOMP_IOCTL_NOTIF_SET_FLAGS")


SYS_pidfd_getfd = 438  # x86_64


def copy_fd_from(pid: int, targetfd: int) -> int:
    """Our own duplicate of fd `targetfd` of process `pid` (via a pidfd)."""
    pidfd = os.pidfd_open(pid)
    try:
        return pidfd_getfd(pidfd, targetfd)
    finally:
        os.close(pidfd)


def pidfd_getfd(pidfd: int, targetfd: int) -> int:
    """A duplicate of another process's fd (close-on-exec), e.g. its seccomp listener.

    runc's way to move the listener out of the container: the init only write(2)s the
    fd number on its sync pipe, the parent takes the fd with pidfd_getfd(2) (5.6+;
    needs PTRACE_MODE_ATTACH_REALCREDS on the target, which root over its own child has)
    and does the listenerPath hand-off from the host side.
    """
    ret = libc.syscall(SYS_pidfd_getfd, ctypes.c_int(pidfd), ctypes.c_int(targetfd),
                       ctypes.c_uint(0))
    if ret < 0:
        raise _err("pidfd_getfd")
    return ret
