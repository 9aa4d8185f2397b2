"""Names of the OCI `linux.seccomp` profile and the values they stand for.

Pure tables, no imports: shared by the compiler (cold path), the plan (hot path)
and `features`. Action values are the kernel's SECCOMP_RET_* (libseccomp's
SCMP_ACT_* are the same numbers); architecture values are libseccomp's arch tokens.
"""

from __future__ import annotations

ACT_KILL_THREAD = 0x00000000
ACT_KILL_PROCESS = 0x80000000
ACT_TRAP = 0x00030000
ACT_ERRNO = 0x00050000  # | errno
ACT_NOTIFY = 0x7FC00000
ACT_TRACE = 0x7FF00000  # | errno (the value a tracer sees)
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000

EPERM = 1
ENOSYS = 38

# OCI name -> (base action value, takes errnoRet). SCMP_ACT_KILL is KILL_THREAD, as in
# libseccomp and runc.
ACTIONS: dict[str, tuple[int, bool]] = {
    "SCMP_ACT_KILL": (ACT_KILL_THREAD, False),
    "SCMP_ACT_KILL_THREAD": (ACT_KILL_THREAD, False),
    "SCMP_ACT_KILL_PROCESS": (ACT_KILL_PROCESS, False),
    "SCMP_ACT_TRAP": (ACT_TRAP, False),
    "SCMP_ACT_ERRNO": (ACT_ERRNO, True),
    "SCMP_ACT_TRACE": (ACT_TRACE, True),
    "SCMP_ACT_ALLOW": (ACT_ALLOW, False),
    "SCMP_ACT_LOG": (ACT_LOG, False),
    "SCMP_ACT_NOTIFY": (ACT_NOTIFY, False),
}

# "Allow-like" actions for runc's -ENOSYS stub: a permissive default needs no stub
# (TRACE counts: a tracer handles unknown syscalls itself).
PERMISSIVE = (ACT_ALLOW, ACT_LOG, ACT_TRACE)

# libseccomp's enum scmp_compare.
OPERATORS: dict[str, int] = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}

_LE = 0x40000000  # __AUDIT_ARCH_LE
_64 = 0x80000000  # __AUDIT_ARCH_64BIT
_N32 = 0x20000000  # __AUDIT_ARCH_CONVENTION_MIPS64_N32

# OCI name -> libseccomp arch token (the AUDIT_ARCH_* value, except x32's made-up one).
# The set runc 1.1 knows, minus LoongArch (libseccomp 2.6+).
ARCHES: dict[str, int] = {
    "SCMP_ARCH_X86": 3 | _LE,
    "SCMP_ARCH_X86_64": 62 | _64 | _LE,
    "SCMP_ARCH_X32": 62 | _LE,
    "SCMP_ARCH_ARM": 40 | _LE,
    "SCMP_ARCH_AARCH64": 183 | _64 | _LE,
    "SCMP_ARCH_MIPS": 8,
    "SCMP_ARCH_MIPS64": 8 | _64,
    "SCMP_ARCH_MIPS64N32": 8 | _64 | _N32,
    "SCMP_ARCH_MIPSEL": 8 | _LE,
    "SCMP_ARCH_MIPSEL64": 8 | _64 | _LE,
    "SCMP_ARCH_MIPSEL64N32": 8 | _64 | _LE | _N32,
    "SCMP_ARCH_PPC": 20,
    "SCMP_ARCH_PPC64": 21 | _64,
    "SCMP_ARCH_PPC64LE": 21 | _64 | _LE,
    "SCMP_ARCH_S390": 22,
    "SCMP_ARCH_S390X": 22 | _64,
    "SCMP_ARCH_RISCV64": 243 | _64 | _LE,
}
AUDIT_ARCH_X86_64 = ARCHES["SCMP_ARCH_X86_64"]

# OCI flag names (runtime-spec 1.2) -> seccomp(2) SECCOMP_FILTER_FLAG_* bits. TSYNC is
# accepted and ignored, as runc does: the container init is single-threaded when it
# loads the filter, and TSYNC cannot be combined with NEW_LISTENER (without
# TSYNC_ESRCH).
FLAG_TSYNC = 1
FLAG_LOG = 2
FLAG_SPEC_ALLOW = 4
FLAG_NEW_LISTENER = 8
FLAG_WAIT_KILLABLE_RECV = 32
FLAGS: dict[str, int] = {
    "SECCOMP_FILTER_FLAG_TSYNC": 0,
    "SECCOMP_FILTER_FLAG_LOG": FLAG_LOG,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": FLAG_SPEC_ALLOW,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": FLAG_WAIT_KILLABLE_RECV,
}

# Notifying on these would deadlock the runtime's own hand-off of the listener fd
# (runc refuses `write` for the same reason).
NOTIFY_FORBIDDEN = ("write",)

# Listed in `features` (sorted, as runc prints them).
KNOWN_ACTIONS = sorted(ACTIONS)
KNOWN_OPERATORS = sorted(OPERATORS)
KNOWN_ARCHES = sorted(ARCHES)
KNOWN_FLAGS = list(FLAGS)


def action_value(base: int, errno_ret: int | None) -> int:
    """The filter return value for an action that may carry an errno (EPERM if unset)."""
    if base in (ACT_ERRNO, ACT_TRACE):
        return base | ((EPERM if errno_ret is None else errno_ret) & 0xFFFF)
    return base
