"""fork() straight into a cgroup v2 directory: clone3(CLONE_INTO_CGROUP).

Moving a process by writing cgroup.procs takes the kernel's global threadgroup
lock for writing, which waits an RCU grace period (5-16 ms here) whenever the
lock was idle; a child born into its cgroup only takes the read side. Python's
own fork hooks run around the raw syscall, exactly as os.fork() runs them.
"""

from __future__ import annotations

import ctypes
import os

SYS_clone3 = 435
CLONE_INTO_CGROUP = 0x200000000
SIGCHLD = 17


class _CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size",
        "tls", "set_tid", "set_tid_size", "cgroup")]


# PyDLL keeps the GIL held across the call, as os.fork() does.
_libc = ctypes.PyDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_api = ctypes.pythonapi


def fork_into_cgroup(cgroup_fd: int) -> int:
    """Like os.fork(); the child starts as a member of the cgroup2 directory cgroup_fd."""
    args = _CloneArgs(flags=CLONE_INTO_CGROUP, exit_signal=SIGCHLD, cgroup=cgroup_fd)
    _api.PyOS_BeforeFork()
    pid = _libc.syscall(ctypes.c_long(SYS_clone3), ctypes.byref(args),
                        ctypes.c_size_t(ctypes.sizeof(args)))
    if pid == 0:
        _api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    _api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone3 into cgroup: {os.strerror(err)}")
    return pid
