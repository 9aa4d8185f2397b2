"""Small syscalls: domain name, keyrings, personality, scheduling, I/O priority."""

from __future__ import annotations

import ctypes

from .libc import SYS_ioprio_set, SYS_keyctl, SYS_sched_setattr, check, libc

KEYCTL_JOIN_SESSION_KEYRING = 1
IOPRIO_WHO_PROCESS = 1
IOPRIO_CLASS_SHIFT = 13
IOPRIO_CLASSES = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}
PERSONALITY_DOMAINS = {"LINUX": 0x0000, "LINUX32": 0x0008}
SCHED_POLICIES = {"SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3,
                  "SCHED_ISO": 4, "SCHED_IDLE": 5, "SCHED_DEADLINE": 6}
SCHED_FLAGS = {"SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02,
               "SCHED_FLAG_DL_OVERRUN": 0x04, "SCHED_FLAG_KEEP_POLICY": 0x08,
               "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
               "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40}


def setdomainname(name: str) -> None:
    raw = name.encode()
    check(libc.setdomainname(raw, len(raw)), "setdomainname")


def join_session_keyring(name: str) -> None:
    """A new session keyring, so the container cannot read the caller's keys."""
    ret = libc.syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.encode())
    check(ret, "join session keyring")


def personality(domain: int) -> None:
    check(libc.personality(ctypes.c_ulong(domain)), "personality")


def ioprio_set(klass: int, priority: int) -> None:
    value = (klass << IOPRIO_CLASS_SHIFT) | priority
    check(libc.syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value), "ioprio_set")


def sched_setattr(policy: int, flags: int, nice: int, priority: int, runtime: int,
                  deadline: int, period: int) -> None:
    import struct

    # struct sched_attr: u32 size, u32 policy, u64 flags, s32 nice, u32 priority,
    # u64 runtime, deadline, period (48 bytes)
    raw = struct.pack("=IIQiIQQQ", 48, policy, flags, nice, priority, runtime, deadline,
                      period)
    attr = ctypes.create_string_buffer(raw)
    check(libc.syscall(SYS_sched_setattr, 0, attr, 0), "sched_setattr")
