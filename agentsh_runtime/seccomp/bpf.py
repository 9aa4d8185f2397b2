"""Classic BPF for seccomp: instruction packing and runc's -ENOSYS stub.

runc (libcontainer/seccomp/patchbpf) prepends a stub to libseccomp's program so
that a syscall newer than every syscall the profile names returns ENOSYS instead
of the default action: with a deny-by-default profile written before, say,
clone3 or fchmodat2 existed, glibc sees ENOSYS and falls back to the old call,
where EPERM would make it fail. We do the same, with the same instruction
sequence, so a profile behaves here as under runc.

Pure Python; used on the compile (cold) path only.
"""

from __future__ import annotations

import sys

from .profile import ACT_ERRNO, ARCHES, AUDIT_ARCH_X86_64, ENOSYS

# opcodes (linux/bpf_common.h)
LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JA = 0x05  # BPF_JMP | BPF_JA
JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGT = 0x25  # BPF_JMP | BPF_JGT | BPF_K
JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET_K = 0x06  # BPF_RET | BPF_K

# struct seccomp_data offsets
OFF_NR = 0
OFF_ARCH = 4

RET_ENOSYS = ACT_ERRNO | ENOSYS
X32_SYSCALL_BIT = 1 << 30

_S390 = (ARCHES["SCMP_ARCH_S390"], ARCHES["SCMP_ARCH_S390X"])
_X86_64 = ARCHES["SCMP_ARCH_X86_64"]
_X32 = ARCHES["SCMP_ARCH_X32"]

Insn = tuple  # (code, jt, jf, k)


def pack(program: list[Insn]) -> bytes:
    bo = sys.byteorder
    out = bytearray()
    for code, jt, jf, k in program:
        if not (0 <= jt <= 255 and 0 <= jf <= 255):
            raise ValueError(f"BPF conditional jump out of range: {(code, jt, jf, k)}")
        out += code.to_bytes(2, bo) + bytes((jt, jf)) + (k & 0xFFFFFFFF).to_bytes(4, bo)
    return bytes(out)


def unpack(raw: bytes) -> list[Insn]:
    bo = sys.byteorder
    return [(int.from_bytes(raw[i:i + 2], bo), raw[i + 2], raw[i + 3],
             int.from_bytes(raw[i + 4:i + 8], bo)) for i in range(0, len(raw), 8)]


def native_arch(token: int) -> int:
    """The AUDIT_ARCH_* the kernel reports for a libseccomp arch token (x32 runs as x86_64)."""
    return AUDIT_ARCH_X86_64 if token == _X32 else token


def enosys_stub(last_syscalls: dict[int, dict[int, int]]) -> list[Insn]:
    """runc's generateEnosysStub: {native arch: {arch token: largest syscall nr}} -> BPF.

    The stub falls through to whatever follows it (the libseccomp program) for
    every syscall up to the largest one the profile names, per architecture, and
    returns ENOSYS for larger ones. Jumps are counted from the end, as in runc,
    so they stay valid when the stub is prepended. Arches are visited in sorted
    order (runc walks a Go map, so its order varies from run to run).
    """
    tail: list[Insn] = [
        (JA, 0, 0, 1),  # fall-through rules jump into the filter
        (RET_K, 0, 0, RET_ENOSYS),  # rules that jump here get -ENOSYS
    ]
    table: dict[int, int] = {}
    for native in sorted(last_syscalls):
        maxes = last_syscalls[native]
        if not maxes:
            continue
        base_enosys = len(tail) - 1
        base_filter = base_enosys + 1
        section: list[Insn] = [(LD_W_ABS, 0, 0, OFF_NR)]
        if len(maxes) == 1:
            ((token, sysno),) = maxes.items()
            if token in _S390:
                # setup(2) (nr 0) multiplexes unknown syscalls on s390: ENOSYS it.
                section += [(JEQ, 0, 1, 0), (RET_K, 0, 0, RET_ENOSYS)]
            if base_enosys + 1 <= 255:
                stail = [(JGT, base_enosys + 1, 0, sysno), (JA, 0, 0, base_filter)]
            else:
                stail = [(JGT, 0, 1, sysno), (RET_K, 0, 0, RET_ENOSYS),
                         (JA, 0, 0, base_filter)]
            if native == AUDIT_ARCH_X86_64:
                if token == _X86_64:  # an x32 call skips the x86_64 check
                    stail = [(JSET, len(stail) - 1, 0, X32_SYSCALL_BIT)] + stail
                elif token == _X32:  # an x86_64 call skips the x32 check
                    stail = [(JSET, 0, len(stail) - 1, X32_SYSCALL_BIT)] + stail
                else:
                    raise ValueError(f"unknown x86_64 arch token {token:#x}")
            section += stail
        elif len(maxes) == 2:
            if native != AUDIT_ARCH_X86_64 or set(maxes) != {_X86_64, _X32}:
                raise ValueError(f"unexpected architecture overlap on {native:#x}: {maxes}")
            x86, x32 = maxes[_X86_64], maxes[_X32]
            if base_enosys + 2 <= 255:
                section += [(JSET, 1, 0, X32_SYSCALL_BIT),
                            (JGT, base_enosys + 2, 1, x86),
                            (JGT, base_enosys + 1, 0, x32),
                            (JA, 0, 0, base_filter)]
            else:
                section += [(JSET, 1, 0, X32_SYSCALL_BIT),
                            (JGT, 1, 2, x86),
                            (JGT, 0, 1, x32),
                            (RET_K, 0, 0, RET_ENOSYS),
                            (JA, 0, 0, base_filter)]
        else:
            raise ValueError(f"invalid number of architecture overlaps: {maxes}")
        tail = section + tail
        table[native] = len(tail)

    # Any other architecture goes straight to the filter (which has its bad-arch action).
    tail = [(JA, 0, 0, len(tail))] + tail
    for native in sorted(table):
        jump = len(tail) - table[native]
        if jump <= 255:
            tail = [(JEQ, jump, 0, native)] + tail
        else:
            tail = [(JEQ, 0, 1, native), (JA, 0, 0, jump)] + tail
    return [(LD_W_ABS, 0, 0, OFF_ARCH)] + tail


def run(program: list[Insn], nr: int, arch: int, args: tuple[int, ...] = (0,) * 6,
        ip: int = 0) -> int:
    """Interpret a seccomp BPF program on one struct seccomp_data (for tests and checks).

    Supports the instructions libseccomp and the stub emit: ld abs, ld imm, ldx,
    alu and/or/sub, tax/txa, st/ld mem, jumps, ret k/a.
    """
    bo = sys.byteorder
    data = ((nr & 0xFFFFFFFF).to_bytes(4, bo) + arch.to_bytes(4, bo) + ip.to_bytes(8, bo)
            + b"".join((a & 0xFFFFFFFFFFFFFFFF).to_bytes(8, bo) for a in args))
    a = x = 0
    mem = [0] * 16
    pc = 0
    n = len(program)
    while pc < n:
        code, jt, jf, k = program[pc]
        pc += 1
        cls = code & 0x07
        if cls == 0x00:  # BPF_LD
            mode = code & 0xE0
            if mode == 0x20:  # ABS
                a = int.from_bytes(data[k:k + 4], bo)
            elif mode == 0x00:  # IMM
                a = k
            elif mode == 0x60:  # MEM
                a = mem[k]
            else:
                raise ValueError(f"unsupported ld {code:#x}")
        elif cls == 0x01:  # BPF_LDX
            mode = code & 0xE0
            x = k if mode == 0x00 else mem[k] if mode == 0x60 else _bad(code)
        elif cls == 0x02:  # BPF_ST
            mem[k] = a
        elif cls == 0x03:  # BPF_STX
            mem[k] = x
        elif cls == 0x04:  # BPF_ALU
            op = code & 0xF0
            src = x if code & 0x08 else k
            if op == 0x50:
                a &= src
            elif op == 0x40:
                a |= src
            elif op == 0x10:
                a = (a - src) & 0xFFFFFFFF
            elif op == 0x00:
                a = (a + src) & 0xFFFFFFFF
            elif op == 0xA0:
                a ^= src
            elif op == 0x80:
                a = (-a) & 0xFFFFFFFF
            else:
                raise ValueError(f"unsupported alu {code:#x}")
        elif cls == 0x05:  # BPF_JMP
            op = code & 0xF0
            src = x if code & 0x08 else k
            if op == 0x00:
                pc += k
                continue
            if op == 0x10:
                cond = a == src
            elif op == 0x20:
                cond = a > src
            elif op == 0x30:
                cond = a >= src
            elif op == 0x40:
                cond = bool(a & src)
            else:
                raise ValueError(f"unsupported jmp {code:#x}")
            pc += jt if cond else jf
        elif cls == 0x06:  # BPF_RET
            return a if code & 0x18 == 0x10 else k
        elif cls == 0x07:  # BPF_MISC
            if code & 0xF8 == 0x00:
                x = a
            else:
                a = x
        else:  # pragma: no cover
            raise ValueError(f"unsupported insn {code:#x}")
    raise ValueError("BPF program fell off its end")


def _bad(code: int) -> int:
    raise ValueError(f"unsupported insn {code:#x}")
