"""Numbers of the syscalls the monitor is notified about, per architecture.

x32 shares most of x86_64's numbers (with bit 30 set); the rt_sig* calls have their
own x32 entries. (The filter itself is built by libseccomp from the names; this is
the way back from a notification to the name without importing it.)
"""

from __future__ import annotations

from .procmem import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT

_X86_64 = {"execve": 59, "execveat": 322, "kill": 62, "tkill": 200, "tgkill": 234,
           "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "pidfd_send_signal": 424,
           "connect": 42, "bind": 49, "listen": 50, "sendto": 44, "sendmsg": 46,
           "sendmmsg": 307, "open": 2, "openat": 257, "openat2": 437, "creat": 85}
_I386 = {"execve": 11, "execveat": 358, "kill": 37, "tkill": 238, "tgkill": 270,
         "rt_sigqueueinfo": 178, "rt_tgsigqueueinfo": 335, "pidfd_send_signal": 424,
         "connect": 362, "bind": 361, "listen": 363, "sendto": 369, "sendmsg": 370,
         "sendmmsg": 345, "socketcall": 102, "open": 5, "openat": 295, "openat2": 437,
         "creat": 8}
_X32 = dict(_X86_64, execve=520, execveat=545, rt_sigqueueinfo=524, rt_tgsigqueueinfo=536,
            sendmsg=518, sendmmsg=538)

_BY_NR: dict[tuple[int, int], str] = {}
for _name, _nr in _X86_64.items():
    _BY_NR[(AUDIT_ARCH_X86_64, _nr)] = _name
for _name, _nr in _I386.items():
    _BY_NR[(AUDIT_ARCH_I386, _nr)] = _name
for _name, _nr in _X32.items():
    _BY_NR[(AUDIT_ARCH_X86_64, _nr | X32_SYSCALL_BIT)] = _name


def name_of(arch: int, nr: int) -> str | None:
    return _BY_NR.get((arch, nr))
