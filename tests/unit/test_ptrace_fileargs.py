"""Which paths a file syscall names, decoded from raw x86_64 argument registers (pure)."""

from __future__ import annotations

import pytest

from agentsh_runtime.ptrace import syscalls as sc
from agentsh_runtime.ptrace.fileargs import PathArg, decode

AT_FDCWD = -100
AT_FDCWD_REG = 0xFFFFFF9C  # -100 as an int in a 64-bit register (upper half zero)
AT_FDCWD_SEXT = 0xFFFFFFFFFFFFFF9C  # -100 sign-extended to 64 bits
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400
O_RDONLY, O_WRONLY, O_RDWR = 0, 0o1, 0o2
O_CREAT, O_EXCL, O_TRUNC, O_APPEND = 0o100, 0o200, 0o1000, 0o2000
O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC = 0o200000, 0o400000, 0o2000000

P1, P2 = 0x7FFC_0000_1000, 0x7FFC_0000_2000  # path string addresses
DIRFD, DIRFD2 = 7, 9


def args(*values: int) -> tuple[int, ...]:
    return tuple(values) + (0,) * (6 - len(values))


# --- every FILE syscall but openat2 (reads memory) is covered -------------------------

COVERED = {"open", "openat", "creat", "truncate", "rename", "renameat", "renameat2", "mkdir",
           "mkdirat", "rmdir", "unlink", "unlinkat", "link", "linkat", "symlink", "symlinkat",
           "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown",
           "fchownat", "mknod", "mknodat"}


def test_covers_every_file_syscall() -> None:
    assert set(sc.FILE) - {"openat2"} == COVERED


# --- single path, AT_FDCWD-relative ---------------------------------------------------

@pytest.mark.parametrize("name, a, op, follow", [
    ("truncate", args(P1, 0), "write", True),
    ("mkdir", args(P1, 0o755), "mkdir", False),
    ("rmdir", args(P1), "rmdir", False),
    ("unlink", args(P1), "delete", False),
    ("chmod", args(P1, 0o644), "chmod", True),
    ("chown", args(P1, 0, 0), "chown", True),
    ("lchown", args(P1, 0, 0), "chown", False),
    ("mknod", args(P1, 0o10644, 0), "mknod", False),
])
def test_cwd_single_path(name: str, a: tuple[int, ...], op: str, follow: bool) -> None:
    paths, flags = decode(name, a)
    assert paths == [PathArg(op, AT_FDCWD, P1, follow, 0)]
    assert flags == 0


# --- single path, dirfd-relative --------------------------------------------------------

@pytest.mark.parametrize("name, a, op, follow", [
    ("mkdirat", args(DIRFD, P1, 0o755), "mkdir", False),
    ("unlinkat", args(DIRFD, P1, 0), "delete", False),
    ("unlinkat", args(DIRFD, P1, AT_REMOVEDIR), "rmdir", False),
    ("fchmodat", args(DIRFD, P1, 0o644), "chmod", True),
    ("fchmodat2", args(DIRFD, P1, 0o644, 0), "chmod", True),
    ("fchmodat2", args(DIRFD, P1, 0o644, AT_SYMLINK_NOFOLLOW), "chmod", False),
    ("fchownat", args(DIRFD, P1, 0, 0, 0), "chown", True),
    ("fchownat", args(DIRFD, P1, 0, 0, AT_SYMLINK_NOFOLLOW), "chown", False),
    ("mknodat", args(DIRFD, P1, 0o10644, 0), "mknod", False),
])
def test_at_single_path(name: str, a: tuple[int, ...], op: str, follow: bool) -> None:
    paths, flags = decode(name, a)
    assert paths == [PathArg(op, DIRFD, P1, follow, 1)]
    assert flags == 0


@pytest.mark.parametrize("reg", [AT_FDCWD_REG, AT_FDCWD_SEXT])
@pytest.mark.parametrize("name, a", [
    ("mkdirat", (P1, 0o755)),
    ("unlinkat", (P1, 0)),
    ("fchmodat", (P1, 0o644)),
    ("fchmodat2", (P1, 0o644, 0)),
    ("fchownat", (P1, 0, 0, 0)),
    ("mknodat", (P1, 0o644, 0)),
    ("openat", (P1, O_RDONLY)),
])
def test_at_fdcwd_from_register(reg: int, name: str, a: tuple[int, ...]) -> None:
    paths, _ = decode(name, args(reg, *a))
    assert len(paths) == 1
    assert paths[0].dirfd == AT_FDCWD
    assert paths[0].ptr == P1


def test_other_negative_fd_decodes_signed() -> None:
    paths, _ = decode("mkdirat", args(0xFFFFFFFF, P1, 0))
    assert paths[0].dirfd == -1
    paths, _ = decode("mkdirat", args(0x7FFFFFFF, P1, 0))
    assert paths[0].dirfd == 0x7FFFFFFF
    # only the low 32 bits are an int: junk above them is ignored
    paths, _ = decode("mkdirat", args(0xDEAD_0000_0000_0007, P1, 0))
    assert paths[0].dirfd == 7


# --- open / openat / creat ----------------------------------------------------------------

@pytest.mark.parametrize("oflags, follow", [
    (O_RDONLY, True),
    (O_WRONLY | O_CREAT | O_TRUNC, True),
    (O_RDWR | O_APPEND | O_CLOEXEC, True),
    (O_RDONLY | O_NOFOLLOW, False),
    (O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, False),
    (O_DIRECTORY | O_NOFOLLOW, False),
])
def test_open(oflags: int, follow: bool) -> None:
    assert decode("open", args(P1, oflags, 0o644)) == (
        [PathArg("open", AT_FDCWD, P1, follow, 0)], oflags)


@pytest.mark.parametrize("oflags, follow", [
    (O_RDONLY, True),
    (O_WRONLY | O_CREAT | O_EXCL, True),
    (O_RDONLY | O_NOFOLLOW, False),
    (O_RDWR | O_NOFOLLOW | O_CLOEXEC, False),
])
def test_openat(oflags: int, follow: bool) -> None:
    assert decode("openat", args(DIRFD, P1, oflags, 0o600)) == (
        [PathArg("open", DIRFD, P1, follow, 1)], oflags)
    assert decode("openat", args(AT_FDCWD_REG, P1, oflags)) == (
        [PathArg("open", AT_FDCWD, P1, follow, 1)], oflags)


def test_open_flags_keep_low_32_bits() -> None:
    paths, flags = decode("open", args(P1, 0xFFFF_FFFF_0000_0000 | O_WRONLY | O_CREAT))
    assert flags == O_WRONLY | O_CREAT
    assert paths[0].follow is True
    _, flags = decode("openat", args(DIRFD, P1, 0x1_0000_0000 | O_RDWR))
    assert flags == O_RDWR


def test_creat() -> None:
    paths, flags = decode("creat", args(P1, 0o644))
    assert paths == [PathArg("open", AT_FDCWD, P1, True, 0)]
    assert flags == O_CREAT | O_WRONLY | O_TRUNC


# --- two paths ----------------------------------------------------------------------------

def test_rename() -> None:
    assert decode("rename", args(P1, P2)) == ([
        PathArg("rename", AT_FDCWD, P1, False, 0),
        PathArg("rename", AT_FDCWD, P2, False, 1),
    ], 0)


@pytest.mark.parametrize("name, extra", [("renameat", ()), ("renameat2", (0,)),
                                         ("renameat2", (1,)), ("renameat2", (2,))])
def test_renameat(name: str, extra: tuple[int, ...]) -> None:
    assert decode(name, args(DIRFD, P1, DIRFD2, P2, *extra)) == ([
        PathArg("rename", DIRFD, P1, False, 1),
        PathArg("rename", DIRFD2, P2, False, 3),
    ], 0)
    paths, _ = decode(name, args(AT_FDCWD_REG, P1, AT_FDCWD_SEXT, P2, *extra))
    assert [p.dirfd for p in paths] == [AT_FDCWD, AT_FDCWD]


def test_link() -> None:
    assert decode("link", args(P1, P2)) == ([
        PathArg("link", AT_FDCWD, P1, False, 0),
        PathArg("link", AT_FDCWD, P2, False, 1),
    ], 0)


@pytest.mark.parametrize("lflags, follow", [
    (0, False),
    (AT_SYMLINK_FOLLOW, True),
    (AT_SYMLINK_NOFOLLOW, False),  # not a linkat flag: no effect
])
def test_linkat(lflags: int, follow: bool) -> None:
    assert decode("linkat", args(DIRFD, P1, DIRFD2, P2, lflags)) == ([
        PathArg("link", DIRFD, P1, follow, 1),
        PathArg("link", DIRFD2, P2, False, 3),
    ], 0)


def test_linkat_at_fdcwd() -> None:
    paths, _ = decode("linkat", args(AT_FDCWD_REG, P1, AT_FDCWD_REG, P2, 0))
    assert [p.dirfd for p in paths] == [AT_FDCWD, AT_FDCWD]


# --- symlink: the checked path is the new link, not the target --------------------------

def test_symlink() -> None:
    target, linkpath = P1, P2
    assert decode("symlink", args(target, linkpath)) == (
        [PathArg("symlink", AT_FDCWD, linkpath, False, 1)], 0)


def test_symlinkat() -> None:
    target, linkpath = P1, P2
    assert decode("symlinkat", args(target, DIRFD, linkpath)) == (
        [PathArg("symlink", DIRFD, linkpath, False, 2)], 0)
    paths, _ = decode("symlinkat", args(target, AT_FDCWD_REG, linkpath))
    assert paths == [PathArg("symlink", AT_FDCWD, linkpath, False, 2)]


# --- fd-only calls ------------------------------------------------------------------------

@pytest.mark.parametrize("name, op, a", [
    ("fchmod", "chmod", (0o644,)),
    ("fchown", "chown", (1000, 1000)),
])
def test_fd_only(name: str, op: str, a: tuple[int, ...]) -> None:
    assert decode(name, args(5, *a)) == ([PathArg(op, 5, None, True, 0)], 0)
    paths, _ = decode(name, args(0xFFFFFFFF, *a))
    assert paths == [PathArg(op, -1, None, True, 0)]


# --- odds and ends ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["read", "execve", "connect", "no_such_call", ""])
def test_unknown_name(name: str) -> None:
    assert decode(name, args(P1, P2, 0, 0, 0, 0)) == ([], 0)


def test_tid_ignored_for_register_only_calls() -> None:
    assert decode("mkdir", args(P1, 0o755), tid=12345) == decode("mkdir", args(P1, 0o755))


def test_patharg_fields() -> None:
    p = decode("openat", args(DIRFD, P1, O_NOFOLLOW))[0][0]
    assert (p.op, p.dirfd, p.ptr, p.follow, p.arg) == ("open", DIRFD, P1, False, 1)
    assert isinstance(p.follow, bool)
