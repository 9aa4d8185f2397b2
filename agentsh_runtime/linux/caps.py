"""Capabilities and the prctl(2) calls around them.

ctypes rather than python-prctl: python-prctl has no ambient-capability call
(PR_CAP_AMBIENT), needs libcap headers to build, and one capset(2) is short.
"""

from __future__ import annotations

import ctypes

from .libc import check, libc

CAP_NAMES: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)
CAP_NUMBERS: dict[str, int] = {name: i for i, name in enumerate(CAP_NAMES)}

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(CAP_NAMES) - 1


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0,
          what: str = "prctl") -> int:
    return check(libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3),
                            ctypes.c_ulong(arg4), ctypes.c_ulong(arg5)), what)


def to_mask(numbers: set[int]) -> int:
    mask = 0
    for n in numbers:
        mask |= 1 << n
    return mask


def drop_bounding(keep: set[int]) -> None:
    for cap in range(last_cap() + 1):
        if cap not in keep:
            prctl(PR_CAPBSET_DROP, cap, what=f"drop {_name(cap)} from the bounding set")


def capset(effective: set[int], permitted: set[int], inheritable: set[int]) -> None:
    # struct __user_cap_header_struct, then two __user_cap_data_struct (u32 e, p, i),
    # packed by hand: a ctypes.Structure class costs ~0.3 ms to define.
    import struct

    e, p, i = to_mask(effective), to_mask(permitted), to_mask(inheritable)
    hdr = ctypes.create_string_buffer(struct.pack("=Ii", _LINUX_CAPABILITY_VERSION_3, 0))
    words = []
    for shift in (0, 32):
        words += [(e >> shift) & 0xFFFFFFFF, (p >> shift) & 0xFFFFFFFF,
                  (i >> shift) & 0xFFFFFFFF]
    data = ctypes.create_string_buffer(struct.pack("=6I", *words))
    check(libc.capset(hdr, data), "capset")


def set_ambient(caps: set[int]) -> list[str]:
    """Raise what can be raised; the names that could not (not inheritable) come back."""
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, what="clear ambient capabilities")
    refused: list[str] = []
    for cap in sorted(caps):
        try:
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, what=f"raise ambient {_name(cap)}")
        except OSError:
            refused.append(_name(cap))
    return refused


def set_keepcaps(on: bool) -> None:
    prctl(PR_SET_KEEPCAPS, 1 if on else 0, what="PR_SET_KEEPCAPS")


def set_no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1, what="PR_SET_NO_NEW_PRIVS")


def set_child_subreaper() -> None:
    prctl(PR_SET_CHILD_SUBREAPER, 1, what="PR_SET_CHILD_SUBREAPER")


def set_pdeathsig(sig: int) -> None:
    prctl(PR_SET_PDEATHSIG, sig, what="PR_SET_PDEATHSIG")


def _name(cap: int) -> str:
    return CAP_NAMES[cap] if cap < len(CAP_NAMES) else f"capability {cap}"
