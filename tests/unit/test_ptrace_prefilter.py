"""ptrace mode's seccomp prefilter, run in the BPF interpreter (no kernel, no tracee)."""

from __future__ import annotations

import pytest

from agentsh_runtime.ptrace import syscalls as sc
from agentsh_runtime.ptrace.prefilter import FilterPlan, build
from agentsh_runtime.seccomp import bpf

X86_64 = 0xC000003E
I386 = 0x40000003
X32_BIT = 0x40000000
RET_ALLOW = 0x7FFF0000
RET_TRACE = 0x7FF00000
EPERM = 0x00050001
ENOSYS = 0x00050026
BPF_MAXINSNS = 4096

CLONE_UNTRACED = 0x00800000
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET = 1, 2, 10, 16, 17
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3
SOCK_NONBLOCK, SOCK_CLOEXEC = 0o4000, 0o2000000

# what a tracer with every handler asks for (syscalls.py groups)
ALL_TRACED = tuple(sorted({*sc.EXEC, *sc.FILE, *sc.NET, *sc.SIGNAL, *sc.UNIX_ONLY,
                           *sc.MASK_READS}))
UNTRACED = {"write": 1, "close": 3, "mmap": 9, "getpid": 39, "exit_group": 231}


def program(traced: tuple[str, ...] = ALL_TRACED, refused: tuple[str, ...] = sc.REFUSED,
            raw_sockets: bool = False) -> list[tuple]:
    return bpf.unpack(build(FilterPlan(traced, refused, raw_sockets=raw_sockets)))


def run(prog: list[tuple], name_or_nr: str | int, *args: int, arch: int = X86_64) -> int:
    nr = sc.NR[name_or_nr] if isinstance(name_or_nr, str) else name_or_nr
    full = tuple(args) + (0,) * (6 - len(args))
    return bpf.run(prog, nr, arch, full)


FULL = program()
MINIMAL = program(traced=("execve",))


# --- traced / untraced ---------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n in ALL_TRACED if n not in ("sendto",)])
def test_traced_syscall_stops_in_tracer(name: str) -> None:
    assert run(FULL, name) == RET_TRACE


@pytest.mark.parametrize("nr", sorted(UNTRACED.values()))
def test_untraced_syscall_runs(nr: int) -> None:
    assert run(FULL, nr) == RET_ALLOW


def test_read_untraced_unless_asked() -> None:
    assert run(MINIMAL, "read") == RET_ALLOW
    assert run(program(traced=("read",)), "read") == RET_TRACE
    assert run(program(traced=("read",)), "pread64") == RET_ALLOW


def test_only_the_planned_syscalls_are_traced() -> None:
    prog = program(traced=("openat", "connect"))
    assert run(prog, "openat") == RET_TRACE
    assert run(prog, "connect") == RET_TRACE
    for name in ("open", "execve", "kill", "unlink", "bind", "sendmsg", "mkdir"):
        assert run(prog, name) == RET_ALLOW, name


def test_empty_traced_never_traces() -> None:
    prog = program(traced=())
    for nr in range(0, 460):
        assert run(prog, nr) != RET_TRACE, nr
        assert run(prog, nr, 0, 0, 0, 0, 0x1000) != RET_TRACE, nr
    assert run(prog, "sendto", 3, 0x1000, 10, 0, 0x7FFF00001000, 16) == RET_ALLOW


def test_duplicated_names_are_harmless() -> None:
    prog = program(traced=("openat", "openat"), refused=("mount", "mount"))
    assert run(prog, "openat") == RET_TRACE
    assert run(prog, "mount") == EPERM


# --- refused -------------------------------------------------------------------------

@pytest.mark.parametrize("name", sc.REFUSED)
def test_refused_syscall_gets_eperm(name: str) -> None:
    assert run(FULL, name) == EPERM
    assert run(MINIMAL, name) == EPERM


def test_refused_only_as_planned() -> None:
    prog = program(refused=())
    assert run(prog, "mount") == RET_ALLOW
    assert run(prog, "ptrace") == RET_ALLOW


# --- clone / clone3 --------------------------------------------------------------------

def test_clone3_gets_enosys() -> None:
    assert run(FULL, 435) == ENOSYS
    assert run(program(traced=(), refused=()), "clone3") == ENOSYS


@pytest.mark.parametrize("flags", [
    0x11,  # SIGCHLD
    0x003D0F00,  # pthread_create's CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|...
    0x01200011,  # fork(): CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
    0xFFFFFFFF00000011,  # junk in the high word
])
def test_clone_without_untraced_allowed(flags: int) -> None:
    assert run(FULL, 56, flags) == RET_ALLOW
    assert run(MINIMAL, "clone", flags) == RET_ALLOW


@pytest.mark.parametrize("flags", [
    CLONE_UNTRACED,
    CLONE_UNTRACED | 0x11,
    CLONE_UNTRACED | 0x003D0F00,
    0xFFFFFFFFFFFFFFFF,
])
def test_clone_untraced_refused(flags: int) -> None:
    assert run(FULL, 56, flags) == EPERM
    assert run(program(traced=(), refused=()), "clone", flags) == EPERM


def test_clone_in_traced_still_checks_untraced() -> None:
    prog = program(traced=("clone", "execve"))
    assert run(prog, "clone", 0x11) != EPERM
    assert run(prog, "clone", CLONE_UNTRACED) == EPERM


# --- other ABIs --------------------------------------------------------------------------

@pytest.mark.parametrize("nr", [0, 1, 11, 39, 56, 59, 102, 120, 435])
def test_i386_gets_enosys(nr: int) -> None:
    assert run(FULL, nr, arch=I386) == ENOSYS
    assert run(program(traced=(), refused=()), nr, arch=I386) == ENOSYS


@pytest.mark.parametrize("nr", [0, 1, 2, 39, 42, 56, 59, 257, 322, 435, 512, 545])
def test_x32_bit_gets_enosys(nr: int) -> None:
    assert run(FULL, nr | X32_BIT) == ENOSYS
    assert run(program(traced=(), refused=()), nr | X32_BIT) == ENOSYS


def test_unknown_arch_gets_enosys() -> None:
    assert run(FULL, 0, arch=0xC00000B7) == ENOSYS  # aarch64
    assert run(FULL, 0, arch=0) == ENOSYS


# --- sendto ------------------------------------------------------------------------------

def test_sendto_without_address_allowed() -> None:
    assert run(FULL, 44, 3, 0x1000, 10, 0, 0, 0) == RET_ALLOW
    assert run(FULL, 44, 3, 0x1000, 10, 0, 0, 16) == RET_ALLOW


@pytest.mark.parametrize("addr", [0x1000, 0x7FFC12345678, 0x7FFF00000000, 0x100000000,
                                  0xFFFFFFFFFFFFFFFF, 1])
def test_sendto_with_address_traced(addr: int) -> None:
    assert run(FULL, 44, 3, 0x1000, 10, 0, addr, 16) == RET_TRACE
    assert run(program(traced=("sendto",)), "sendto", 3, 0x1000, 10, 0, addr, 16) == RET_TRACE


def test_sendto_untraced_when_not_planned() -> None:
    assert run(MINIMAL, "sendto", 3, 0x1000, 10, 0, 0x7FFF00000000, 16) == RET_ALLOW
    assert run(MINIMAL, "sendto", 3, 0x1000, 10, 0, 0x1000, 16) == RET_ALLOW


# --- socket ------------------------------------------------------------------------------

@pytest.mark.parametrize("domain, type_", [
    (AF_INET, SOCK_RAW),
    (AF_INET, SOCK_RAW | SOCK_CLOEXEC),
    (AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC),
    (AF_INET6, SOCK_RAW),
    (AF_INET6, SOCK_RAW | SOCK_CLOEXEC),
    (AF_PACKET, SOCK_RAW),
    (AF_PACKET, SOCK_DGRAM),
    (AF_PACKET, SOCK_STREAM),
    (AF_PACKET, 0),
])
def test_raw_sockets_refused(domain: int, type_: int) -> None:
    assert run(FULL, 41, domain, type_, 0) == EPERM
    assert run(MINIMAL, "socket", domain, type_, 0) == EPERM
    assert run(program(traced=(), refused=()), "socket", domain, type_, 0) == EPERM


@pytest.mark.parametrize("domain, type_", [
    (AF_INET, SOCK_STREAM),
    (AF_INET, SOCK_DGRAM),
    (AF_INET, SOCK_STREAM | SOCK_CLOEXEC),
    (AF_INET6, SOCK_STREAM),
    (AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK),
    (AF_UNIX, SOCK_RAW),
    (AF_UNIX, SOCK_STREAM),
    (AF_NETLINK, SOCK_RAW),
    (AF_NETLINK, SOCK_DGRAM),
])
def test_ordinary_sockets_allowed(domain: int, type_: int) -> None:
    assert run(FULL, 41, domain, type_, 0) == RET_ALLOW
    assert run(MINIMAL, "socket", domain, type_, 0) == RET_ALLOW


@pytest.mark.parametrize("domain, type_", [
    (AF_INET, SOCK_RAW),
    (AF_INET, SOCK_RAW | SOCK_CLOEXEC),
    (AF_INET6, SOCK_RAW),
    (AF_PACKET, SOCK_RAW),
    (AF_INET, SOCK_STREAM),
])
def test_raw_sockets_allowed_when_planned(domain: int, type_: int) -> None:
    assert run(program(raw_sockets=True), 41, domain, type_, 0) == RET_ALLOW


def test_raw_sockets_plan_keeps_the_rest() -> None:
    prog = program(raw_sockets=True)
    assert run(prog, "openat") == RET_TRACE
    assert run(prog, "mount") == EPERM
    assert run(prog, "clone3") == ENOSYS
    assert run(prog, "clone", CLONE_UNTRACED) == EPERM
    assert run(prog, "sendto", 3, 0, 0, 0, 0x1000, 16) == RET_TRACE
    assert run(prog, 41, arch=I386) == ENOSYS


# --- shape of the program --------------------------------------------------------------

@pytest.mark.parametrize("plan", [
    FilterPlan(ALL_TRACED, sc.REFUSED),
    FilterPlan(ALL_TRACED, sc.REFUSED, raw_sockets=True),
    FilterPlan((), ()),
    FilterPlan(("execve",), sc.REFUSED),
    FilterPlan(tuple(sorted(set(sc.NR) - set(sc.REFUSED) - {"clone3"})), sc.REFUSED),
])
def test_program_shape(plan: FilterPlan) -> None:
    raw = build(plan)
    assert isinstance(raw, bytes)
    assert len(raw) % 8 == 0
    prog = bpf.unpack(raw)
    assert 0 < len(prog) <= BPF_MAXINSNS
    assert prog[-1][0] & 0x07 == 0x06  # ends in a return
    for i, (code, jt, jf, k) in enumerate(prog):
        if code & 0x07 != 0x05:  # not a jump
            continue
        if code & 0xF0 == 0x00:  # JA: offset in k, unsigned
            assert 0 <= k < 0x80000000, i
            assert i + 1 + k < len(prog), i
        else:  # conditional: jt/jf are unsigned bytes, forward by construction
            assert i + 1 + jt < len(prog), i
            assert i + 1 + jf < len(prog), i


def test_program_starts_with_arch_check() -> None:
    # the first instruction loads seccomp_data.arch, the next compares it with x86_64
    assert FULL[0] == (bpf.LD_W_ABS, 0, 0, bpf.OFF_ARCH)
    assert FULL[1][0] == bpf.JEQ and FULL[1][3] == X86_64


def test_every_syscall_terminates() -> None:
    # the interpreter raises if a path falls off the end; every result is one we know
    known = {RET_ALLOW, RET_TRACE, EPERM, ENOSYS}
    for prog in (FULL, MINIMAL, program(raw_sockets=True), program(traced=(), refused=())):
        for nr in range(0, 460):
            for args in ((0,) * 6, (AF_INET, SOCK_RAW, 0, 0, 1, 0),
                         (CLONE_UNTRACED, 0, 0, 0, 0, 0)):
                assert run(prog, nr, *args) in known


def test_unknown_name_rejected() -> None:
    with pytest.raises(KeyError):
        build(FilterPlan(("no_such_syscall",), ()))
