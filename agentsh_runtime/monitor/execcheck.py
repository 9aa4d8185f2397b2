"""From an execve/execveat notification to the policy's ExecQuery, as the container sees it."""

from __future__ import annotations

import os

from ..init.securejoin import secure_join
from ..linux import procmem as pm

AT_EMPTY_PATH = 0x1000
AT_FDCWD = -100 & 0xFFFFFFFF


class ExecTarget:
    """What an exec asks for: paths in the container's view, and the file's identity."""

    __slots__ = ("path", "resolved", "argv", "identity", "interpreter", "depth",
                 "interpreter_resolved")

    def __init__(self) -> None:
        self.path = ""
        self.resolved: str | None = None
        self.argv: tuple[str, ...] = ()
        self.identity: set[tuple[int, int]] = set()  # (dev, ino) allowed as /proc/PID/exe
        self.interpreter: tuple[str, tuple[str, ...]] | None = None
        self.interpreter_resolved: str | None = None
        self.depth = 0


def _dec(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _container_path(root: str, host_path: str) -> str:
    rest = host_path[len(root):]
    return rest if rest.startswith("/") else "/" + rest


_SHEBANGS: dict[tuple[int, int, int, int], tuple[str, tuple[str, ...]] | None] = {}


def _identity(host_path: str) -> tuple[int, int] | None:
    st = _stat(host_path)
    return None if st is None else (st.st_dev, st.st_ino)


def _stat(host_path: str) -> os.stat_result | None:
    try:
        return os.stat(host_path)
    except OSError:
        return None


def _shebang_cached(host_path: str, st: os.stat_result | None):  # noqa: ANN202
    """`#!` of the file, remembered by (dev, inode, mtime, size): most execs repeat."""
    if st is None:
        return _shebang(host_path)
    key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    if key not in _SHEBANGS:
        if len(_SHEBANGS) > 4096:
            _SHEBANGS.clear()
        _SHEBANGS[key] = _shebang(host_path)
    return _SHEBANGS[key]


def _shebang(host_path: str) -> tuple[str, tuple[str, ...]] | None:
    try:
        with open(host_path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].strip()
    if not line:
        return None
    interp, _, arg = line.partition(b" ")
    args = (_dec(interp),) + ((_dec(arg.strip()),) if arg.strip() else ())
    return _dec(interp), args


def depth_of(pid: int, init_pid: int, pidns_ino: int) -> int:
    """Steps from pid up to the container's init, or to the first process whose parent
    is outside the container (a process started by `exec`), whichever comes first."""
    from ..linux.proc import ppid

    depth = 0
    cur = pid
    while cur != init_pid and depth < 1024:
        parent = ppid(cur)
        if not parent or parent <= 1:
            break
        try:
            if os.stat(f"/proc/{parent}/ns/pid").st_ino != pidns_ino:
                break
        except OSError:
            break
        depth += 1
        cur = parent
    return depth


def read_exec(pid: int, arch: int, nr: int, args: tuple[int, ...]) -> ExecTarget:
    """Raises procmem.TooLong (deny) or OSError (the process went away)."""
    t = ExecTarget()
    ptr = pm.pointer_size(arch, nr)
    root = f"/proc/{pid}/root"
    with pm.ProcMem(pid) as mem:
        if pm.is_execveat(arch, nr):
            dirfd, path_ptr, argv_ptr, flags = args[0] & 0xFFFFFFFF, args[1], args[2], args[4]
        else:
            dirfd, path_ptr, argv_ptr, flags = AT_FDCWD, args[0], args[1], 0
        raw_path = _dec(mem.string(path_ptr))
        t.argv = tuple(_dec(a) for a in mem.string_array(argv_ptr, ptr))
    if raw_path.startswith("/"):
        path = raw_path
    else:
        if dirfd == AT_FDCWD:
            base = pm.cwd_of(pid) or "/"
        else:
            base = pm.fd_path(pid, dirfd) or ""
            if not base.startswith("/"):
                raise OSError(9, f"execveat dirfd {dirfd} is not a path")
        if not raw_path and flags & AT_EMPTY_PATH:
            path = base  # fexecve: the fd itself is the program
        else:
            path = os.path.normpath(os.path.join(base, raw_path))
    t.path = path
    host = secure_join(root, path)
    t.resolved = _container_path(root, host)
    st = _stat(host)
    if st is not None:
        t.identity.add((st.st_dev, st.st_ino))
    shebang = _shebang_cached(host, st)
    if shebang:
        interp, iargs = shebang
        t.interpreter = (interp, iargs + (path,) + t.argv[1:])
        ihost = secure_join(root, interp)
        t.interpreter_resolved = _container_path(root, ihost)
        iident = _identity(ihost)
        if iident:
            t.identity.add(iident)
    return t


_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def find_in_root(pid: int, command: str) -> str | None:
    """The container path of `command` (a path, or a name looked up in the standard
    PATH directories) if it is a file in the process's root."""
    root = f"/proc/{pid}/root"
    candidates = [command] if "/" in command else [f"{d}/{command}" for d in _PATH]
    for path in candidates:
        if not path.startswith("/"):
            continue
        if os.path.isfile(secure_join(root, path)):
            return path
    return None
