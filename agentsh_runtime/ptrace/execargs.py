"""What an execve/execveat stop asks to run, read from the stopped tracee.

The strings come by process_vm_readv (no /proc/PID/mem open per exec), the program's
path is resolved by the kernel in the tracee's root through StablePaths (a program
under a fixed tree, most of them, is resolved once), and the result is the monitor's
ExecTarget, so the policy sees the same query in both modes. Only x86_64 calls get
here: the filter refuses the others (prefilter.py).
"""

from __future__ import annotations

import os

from ..linux import ptrace
from ..linux.procmem import MAX_ARGC, MAX_ARGS_BYTES, MAX_STRING, TooLong
from ..monitor.execcheck import ExecTarget, _shebang_cached
from .paths import Unresolvable
from .stablepaths import StablePaths

AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
EXECVEAT = 322
_PTRS = 64  # argv pointers read per process_vm_readv


def _dec(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def read_argv(tid: int, addr: int) -> tuple[str, ...]:
    """A NULL-terminated array of string pointers; TooLong over MAX_ARGC entries or
    MAX_ARGS_BYTES of strings."""
    out: list[str] = []
    if addr == 0:
        return ()
    total = 0
    while True:
        raw = ptrace.read_mem(tid, addr, min(_PTRS * 8, 4096 - addr % 4096))
        if len(raw) < 8:
            raise OSError(14, "argv array not readable")
        for i in range(0, len(raw) - 7, 8):
            ptr = int.from_bytes(raw[i:i + 8], "little")
            if ptr == 0:
                return tuple(out)
            if len(out) >= MAX_ARGC:
                raise TooLong(f"more than {MAX_ARGC} arguments")
            s = ptrace.read_cstring(tid, ptr, min(MAX_STRING * 32, MAX_ARGS_BYTES - total))
            total += len(s) + 1
            if total > MAX_ARGS_BYTES:
                raise TooLong(f"arguments larger than {MAX_ARGS_BYTES} bytes")
            out.append(_dec(s))
        addr += len(raw) - len(raw) % 8


def read_exec(tid: int, nr: int, args: tuple[int, ...],
              paths: StablePaths) -> tuple[ExecTarget, bool, int]:
    """(what runs, whether its path is stable, the path string's length); TooLong:
    deny; OSError: refuse (EFAULT, or a dirfd that names no directory). An empty
    identity: nothing there to run."""
    t = ExecTarget()
    if nr == EXECVEAT:
        dirfd = args[0] & 0xFFFFFFFF
        dirfd = dirfd - (1 << 32) if dirfd >= 1 << 31 else dirfd
        path_ptr, argv_ptr, flags = args[1], args[2], args[4]
    else:
        dirfd, path_ptr, argv_ptr, flags = AT_FDCWD, args[0], args[1], 0
    raw_bytes = ptrace.read_cstring(tid, path_ptr, MAX_STRING) if path_ptr else b""
    raw = _dec(raw_bytes)
    t.argv = read_argv(tid, argv_ptr)
    res = paths.resolver
    if raw.startswith("/"):
        joined = raw
    else:
        try:
            base = res.base(tid, dirfd)
        except Unresolvable as e:
            raise OSError(9, str(e)) from None
        joined = base if not raw and flags & AT_EMPTY_PATH else \
            base.rstrip("/") + "/" + raw
    t.path = os.path.normpath(joined).replace("//", "/")
    try:
        t.resolved, stable = paths.resolve(joined, True)
    except Unresolvable:
        t.resolved = t.path
        return t, False, len(raw_bytes)  # a loop or the like: nothing the kernel would run
    prefix = "" if res.root == "/" else res.root
    host = prefix + t.resolved
    try:
        st = os.stat(host)
    except OSError:
        return t, False, len(raw_bytes)
    t.identity.add((st.st_dev, st.st_ino))
    shebang = _shebang_cached(host, st)
    if shebang:
        interp, iargs = shebang
        t.interpreter = (interp, iargs + (t.path,) + t.argv[1:])
        try:
            # a relative #! names a path from the root, as the monitor reads it
            t.interpreter_resolved, _ = paths.resolve(
                interp if interp.startswith("/") else "/" + interp, True)
        except Unresolvable:
            return t, False, len(raw_bytes)
        try:
            ist = os.stat(prefix + t.interpreter_resolved)
        except OSError:
            return t, False, len(raw_bytes)
        t.identity.add((ist.st_dev, ist.st_ino))
    return t, stable, len(raw_bytes)
