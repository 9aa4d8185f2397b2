"""The seccomp filter a traced process installs before its exec (pure).

Only the syscalls the policy needs stop in the tracer (SECCOMP_RET_TRACE); every other
one runs at full speed. Syscalls of another ABI (i386 through int 0x80, x32) are
refused: their numbers mean other calls, and the tracer decodes x86_64 only. clone3 gets
ENOSYS (its flags are in memory, out of the filter's sight; glibc falls back to clone),
and clone with CLONE_UNTRACED is refused, so no child escapes the tracer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..seccomp.bpf import JEQ, JGE, JSET, LD_W_ABS, OFF_ARCH, OFF_NR, RET_K, pack
from .syscalls import NR

AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW = 0x7FFF0000
RET_TRACE = 0x7FF00000
RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
X32_BIT = 0x40000000
CLONE_UNTRACED = 0x00800000
AF_INET, AF_INET6, AF_PACKET = 2, 10, 17
SOCK_RAW, SOCK_TYPE_MASK = 3, 0xF
OFF_ARG = 16  # seccomp_data.args[0]; low 32 bits first (little-endian)


@dataclass(frozen=True)
class FilterPlan:
    traced: tuple[str, ...]
    refused: tuple[str, ...]
    raw_sockets: bool = False  # may the tracee open AF_PACKET / raw inet sockets?


class _Asm:
    """Straight-line BPF with forward jumps to named return labels."""

    def __init__(self) -> None:
        self.code: list[list] = []  # [code, jt, jf, k]; jt/jf may be label names
        self.labels: dict[str, int] = {}

    def emit(self, code: int, k: int, jt: int | str = 0, jf: int | str = 0) -> None:
        self.code.append([code, jt, jf, k])

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> bytes:
        out = []
        for i, (code, jt, jf, k) in enumerate(self.code):
            jt = self.labels[jt] - i - 1 if isinstance(jt, str) else jt
            jf = self.labels[jf] - i - 1 if isinstance(jf, str) else jf
            if jt < 0 or jf < 0:
                raise ValueError(f"backward jump at instruction {i}")  # BPF has none
            out.append((code, jt, jf, k))
        return pack(out)


def arg_low(n: int) -> int:
    return OFF_ARG + 8 * n


def build(plan: FilterPlan) -> bytes:
    a = _Asm()
    a.emit(LD_W_ABS, OFF_ARCH)
    a.emit(JEQ, AUDIT_ARCH_X86_64, 0, "enosys")
    a.emit(LD_W_ABS, OFF_NR)
    a.emit(JGE, X32_BIT, "enosys", 0)
    for name in sorted(set(plan.traced) - {"sendto", "clone", "socket"}):
        a.emit(JEQ, NR[name], "trace", 0)
    for name in sorted(set(plan.refused)):
        a.emit(JEQ, NR[name], "eperm", 0)
    a.emit(JEQ, NR["clone3"], "enosys", 0)
    a.emit(JEQ, NR["clone"], "clone", 0)
    if "sendto" in plan.traced:
        a.emit(JEQ, NR["sendto"], "sendto", 0)
    if not plan.raw_sockets:
        a.emit(JEQ, NR["socket"], "socket", 0)
    a.label("allow")
    a.emit(RET_K, RET_ALLOW)
    a.label("trace")
    a.emit(RET_K, RET_TRACE)
    a.label("eperm")
    a.emit(RET_K, RET_ERRNO | EPERM)
    a.label("enosys")
    a.emit(RET_K, RET_ERRNO | ENOSYS)
    a.label("clone")  # flags in args[0]: CLONE_UNTRACED sits in the low word
    a.emit(LD_W_ABS, arg_low(0))
    a.emit(JSET, CLONE_UNTRACED, 0, "clone_ok")
    a.emit(RET_K, RET_ERRNO | EPERM)
    a.label("clone_ok")
    a.emit(RET_K, RET_ALLOW)
    if "sendto" in plan.traced:
        # sendto without an address (a connected socket) was decided at its connect
        a.label("sendto")
        a.emit(LD_W_ABS, arg_low(4))
        a.emit(JEQ, 0, 0, "sendto_trace")
        a.emit(LD_W_ABS, arg_low(4) + 4)
        a.emit(JEQ, 0, 0, "sendto_trace")
        a.emit(RET_K, RET_ALLOW)
        a.label("sendto_trace")
        a.emit(RET_K, RET_TRACE)
    if not plan.raw_sockets:
        a.label("socket")
        a.emit(LD_W_ABS, arg_low(0))
        a.emit(JEQ, AF_PACKET, "socket_no", 0)
        a.emit(JEQ, AF_INET, "socket_type", 0)
        a.emit(JEQ, AF_INET6, "socket_type", 0)
        a.emit(RET_K, RET_ALLOW)
        a.label("socket_type")
        a.emit(LD_W_ABS, arg_low(1))
        a.emit(0x54, SOCK_TYPE_MASK)  # BPF_ALU | BPF_AND | BPF_K
        a.emit(JEQ, SOCK_RAW, "socket_no", 0)
        a.emit(RET_K, RET_ALLOW)
        a.label("socket_no")
        a.emit(RET_K, RET_ERRNO | EPERM)
    return a.assemble()
