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


def fork_into_cgroup(cgroup_fd: int) -> int:
    """Like os.fork(); the child starts as a member of the cgroup2 directory cgroup_fd."""
    import struct

    # struct clone_args: 11 u64 (flags, pidfd, child_tid, parent_tid, exit_signal, stack,
    # stack_size, tls, set_tid, set_tid_size, cgroup)
    args = ctypes.create_string_buffer(struct.pack(
        "=11Q", CLONE_INTO_CGROUP, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, cgroup_fd))
    # PyDLL keeps the GIL held across the call, as os.fork() does.
    libc = ctypes.PyDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    api = ctypes.pythonapi
    api.PyOS_BeforeFork()
    pid = libc.syscall(ctypes.c_long(SYS_clone3), args, ctypes.c_size_t(88))
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone3 into cgroup: {os.strerror(err)}")
    return pid
