"""The native exec fast path (monitor/_execfast.so) against real seccomp notify filters.

A forked "holder" process installs a NOTIFY filter on execve (and execveat, and kill on
request), hands its listener to the test over a socketpair, and then runs commands the
test sends it (fork + exec, posix_spawn, a thread then exec, ...). The listener goes to
a FastExec; the test answers the SLOW records itself, as the monitor would.
"""

from __future__ import annotations

import ctypes
import errno
import os
import pickle
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentsh_runtime.linux import caps
from agentsh_runtime.linux import seccomp as lsc
from agentsh_runtime.monitor import execcheck
from agentsh_runtime.monitor import execfast as ef

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "agentsh_runtime/monitor/execfast.c"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
TRUE = "/bin/true"
NR_EXECVE, NR_EXECVEAT, NR_KILL = 59, 322, 62
AUDIT_ARCH_X86_64 = 0xC000003E
EXIT_EXEC_FAILED = 100  # the grandchild exits 100 + errno when its exec fails

libc = ctypes.CDLL(None, use_errno=True)


# --- the native library is built from the source under test ------------------------------

@pytest.fixture(scope="module", autouse=True)
def _built() -> None:
    if os.geteuid() != 0:
        pytest.fail("the execfast tests need root (they load seccomp filters, use kcmp)")
    # the Makefile knows every source of the library and rebuilds what changed
    subprocess.run(["make", "-s", "native"], cwd=REPO, check=True)
    assert ef.available()


# --- leak checks --------------------------------------------------------------------------

def _fds() -> set[int]:
    return {int(n) for n in os.listdir("/proc/self/fd")}


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _children() -> list[int]:
    me, out = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(b")", 1)[1].split()[1]) == me:
            out.append(int(name))
    return out


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    fds, threads, kids = _fds(), _threads(), set(_children())
    yield
    deadline = time.monotonic() + 5
    while True:
        now = (_fds() - fds, _threads() - threads, set(_children()) - kids)
        if not any(now) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not now[0], f"fds leaked: {[(fd, _link(fd)) for fd in now[0]]}"
    assert now[1] <= 0, f"{now[1]} threads leaked"
    assert not now[2], f"child processes left: {now[2]}"


def _link(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "?"


# --- the filter ---------------------------------------------------------------------------

def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def notify_filter(nrs: tuple[int, ...]) -> bytes:
    """x86_64 only: USER_NOTIF on each of `nrs`, allow everything else."""
    ld_abs, jeq, ret = 0x20, 0x15, 0x06
    n = len(nrs)
    prog = [_insn(ld_abs, 0, 0, 4),                       # A = arch
            _insn(jeq, 0, n + 1, AUDIT_ARCH_X86_64),      # else -> allow
            _insn(ld_abs, 0, 0, 0)]                       # A = nr
    for i, nr in enumerate(nrs):
        prog.append(_insn(jeq, n - i, 0, nr))             # -> notify
    prog.append(_insn(ret, 0, 0, lsc.SECCOMP_RET_ALLOW))
    prog.append(_insn(ret, 0, 0, lsc.SECCOMP_RET_USER_NOTIF))
    return b"".join(prog)


# --- the holder process -------------------------------------------------------------------

def _send(sock: socket.socket, obj: object) -> None:
    data = pickle.dumps(obj)
    sock.sendall(len(data).to_bytes(8, "little") + data)


def _recv(sock: socket.socket) -> object:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("holder went away")
            buf += chunk
        return buf
    return pickle.loads(exactly(int.from_bytes(exactly(8), "little")))


def _exec_or_exit(path: str, argv: list[str]) -> None:
    try:
        os.execv(path, argv)
    except OSError as e:
        os._exit(EXIT_EXEC_FAILED + (e.errno or 0))
    os._exit(99)


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


CLONE_VM = 0x100


def _run_command(cmd: tuple) -> object:  # pragma: no cover - runs in the holder
    op = cmd[0]
    if op == "exec":  # fork, then exec in the child
        _, path, argv, cwd = cmd
        pid = os.fork()
        if pid == 0:
            if cwd:
                os.chdir(cwd)
            _exec_or_exit(path, argv)
        return _exit_code(os.waitpid(pid, 0)[1])
    if op == "chroot_exec":  # fork, chroot, then exec inside
        _, root, path, argv = cmd
        pid = os.fork()
        if pid == 0:
            os.chroot(root)
            os.chdir("/")
            _exec_or_exit(path, argv)
        return _exit_code(os.waitpid(pid, 0)[1])
    if op == "exec_loop":
        _, path, argv, n = cmd
        codes = []
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                _exec_or_exit(path, argv)
            codes.append(_exit_code(os.waitpid(pid, 0)[1]))
        return codes
    if op == "thread_exec":  # a second thread is alive when the main one execs
        _, path, argv = cmd
        pid = os.fork()
        if pid == 0:
            threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
            _exec_or_exit(path, argv)
        return _exit_code(os.waitpid(pid, 0)[1])
    if op == "spawn":  # glibc posix_spawn: clone(CLONE_VM|CLONE_VFORK)
        _, path, argv = cmd
        try:
            pid = os.posix_spawn(path, argv, {})
        except OSError as e:
            return EXIT_EXEC_FAILED + (e.errno or 0)
        return _exit_code(os.waitpid(pid, 0)[1])
    if op == "clone_vm":  # the exec'ing process shares its mm with a paused sibling
        _, path, argv = cmd
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            stack = ctypes.create_string_buffer(256 << 10)
            top = ctypes.addressof(stack) + len(stack) - 64
            fn = ctypes.cast(libc.pause, ctypes.c_void_p)
            sib = libc.clone(fn, ctypes.c_void_p(top), CLONE_VM | signal.SIGCHLD, None)
            os.write(w, b"%d\n" % sib)
            _exec_or_exit(path, argv)
        os.close(w)
        sib = int(os.read(r, 64))
        os.close(r)
        code = _exit_code(os.waitpid(pid, 0)[1])
        os.kill(sib, signal.SIGKILL)  # reparented to us (we are a subreaper)
        os.waitpid(sib, 0)
        return (code, sib)
    if op == "fexec":  # execveat(fd, "", ..., AT_EMPTY_PATH)
        _, path, argv = cmd
        pid = os.fork()
        if pid == 0:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.execve(fd, argv, {})
            except OSError as e:
                os._exit(EXIT_EXEC_FAILED + (e.errno or 0))
        return _exit_code(os.waitpid(pid, 0)[1])
    if op == "kill":
        try:
            os.kill(os.getpid(), 0)
        except OSError as e:
            return e.errno
        return 0
    if op == "sh_loop":  # busybox sh runs /bin/true n times; elapsed seconds
        _, n = cmd
        script = f"i=0; while [ $i -lt {n} ]; do {TRUE}; i=$((i+1)); done"
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            _exec_or_exit(BUSYBOX, ["sh", "-c", script])
        code = _exit_code(os.waitpid(pid, 0)[1])
        return (code, time.perf_counter() - t0)
    if op == "pid":
        return os.getpid()
    raise ValueError(op)


class Holder:
    """A forked process under a NOTIFY filter (unless filtered=False) running commands."""

    def __init__(self, nrs: tuple[int, ...] = (NR_EXECVE, NR_EXECVEAT), cgroup: str = "",
                 filtered: bool = True) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the holder
            code = 0
            try:
                parent.close()
                os.setpgid(0, 0)
                if cgroup:
                    with open(cgroup, "w") as f:
                        f.write(str(os.getpid()))
                libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
                if filtered:
                    try:
                        caps.prctl(caps.PR_SET_NO_NEW_PRIVS, 1)
                        listener = lsc.load_filter(notify_filter(nrs), new_listener=True)
                    except OSError as e:
                        child.sendall(b"E" + str(e).encode())
                        raise
                    socket.send_fds(child, [b"L"], [listener])
                    os.close(listener)
                else:
                    child.sendall(b"N")
                while True:
                    try:
                        cmd = _recv(child)
                    except EOFError:
                        break
                    if cmd == ("exit",):
                        break
                    try:
                        res: object = _run_command(cmd)
                    except BaseException as e:  # noqa: BLE001
                        res = ("EXC", repr(e))
                    _send(child, res)
            except BaseException:  # noqa: BLE001
                code = 3
            os._exit(code)
        child.close()
        self.pid = pid
        self.sock = parent
        self.listener: int | None = None
        if filtered:
            msg, fds, _, _ = socket.recv_fds(parent, 4096, 1)
            assert msg == b"L" and len(fds) == 1, (msg, fds)
            self.listener = fds[0]
        else:
            assert parent.recv(1) == b"N"

    def take_listener(self) -> int:
        fd, self.listener = self.listener, None
        assert fd is not None
        return fd

    def submit(self, *cmd: object) -> None:
        _send(self.sock, cmd)

    def ready(self, timeout: float = 0.0) -> bool:
        return bool(select.select([self.sock], [], [], timeout)[0])

    def result(self, timeout: float = 30.0) -> object:
        assert self.ready(timeout), "holder did not answer in time"
        return _recv(self.sock)

    def run(self, *cmd: object, timeout: float = 30.0) -> object:
        self.submit(*cmd)
        return self.result(timeout)

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = 0
        _reap_strays()

    def close(self) -> None:
        if self.listener is not None:
            os.close(self.listener)
            self.listener = None
        if self.pid:
            try:
                _send(self.sock, ("exit",))
            except OSError:
                pass
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    self.pid = 0
                    break
                time.sleep(0.01)
            if self.pid:
                self.kill()
        self.sock.close()
        _reap_strays()


def _reap_strays() -> None:
    """Grandchildren orphaned to us (if this process is a subreaper)."""
    for pid in _children():
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state == b"Z":
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


@pytest.fixture
def make_holder() -> Iterator:
    made: list[Holder] = []

    def make(**kw: object) -> Holder:
        h = Holder(**kw)  # type: ignore[arg-type]
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


@pytest.fixture
def make_fast() -> Iterator:
    made: list[ef.FastExec] = []

    def make(procs_file: str = "", need_depth: bool = False, init_pid: int = 0,
             pidns_ino: int = 0, quiet_handled: bool = False) -> ef.FastExec:
        fe = ef.FastExec(procs_file, need_depth, init_pid, pidns_ino, quiet_handled)
        made.append(fe)
        return fe

    yield make
    for fe in made:
        fe.close()


CGROUP2_MAGIC = 0x63677270


def _cgroup2_root() -> str | None:
    for root in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        try:
            out = subprocess.run(["stat", "-f", "-c", "%t", root], capture_output=True,
                                 text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if int(out, 16) == CGROUP2_MAGIC:
            return root
    return None


def _make_cgroup(parent: str) -> Iterator[str]:
    path = Path(parent) / f"agentsh-execfast-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    yield str(path / "cgroup.procs")
    for _ in range(100):
        try:
            path.rmdir()
            return
        except OSError:
            time.sleep(0.05)
    path.rmdir()


@pytest.fixture
def cgroup() -> Iterator[str]:
    """A cgroup of our own (cgroup2 if mounted, else the v1 pids hierarchy); its
    cgroup.procs path. Request it before make_holder: it must outlive the holders."""
    yield from _make_cgroup(_cgroup2_root() or "/sys/fs/cgroup/pids")


@pytest.fixture(params=["cgroup2", "v1"])
def each_cgroup(request: pytest.FixtureRequest) -> Iterator[str]:
    """The same with each cgroup version present (v1 cgroup.procs is reopened per read)."""
    if request.param == "v1":
        parent = "/sys/fs/cgroup/pids"
    else:
        parent = _cgroup2_root() or ""
    if not os.path.isdir(parent):
        pytest.skip(f"no {request.param} hierarchy")
    yield from _make_cgroup(parent)


# --- helpers ------------------------------------------------------------------------------

def next_record(fe: ef.FastExec, timeout: float = 10.0) -> ef.Record:
    deadline = time.monotonic() + timeout
    while True:
        rec = fe.next()
        if rec is not None:
            return rec
        left = deadline - time.monotonic()
        assert left > 0, "no record from the fast path"
        select.select([fe], [], [], left)
        try:
            os.read(fe.fileno(), 8)
        except BlockingIOError:
            pass


def answer(rec: ef.Record, error: int = 0) -> None:
    if error:
        lsc.notif_send(rec.listener, rec.notif_id, error=error)
    else:
        lsc.notif_continue(rec.listener, rec.notif_id)


def slow_exec(fe: ef.FastExec, h: Holder, *cmd: object, error: int = 0,
              remember: int | None = None, tag: int = 0) -> tuple[ef.Record, object]:
    """Submit a command that makes one exec notification; it must be SLOW. Answer it."""
    h.submit(*cmd)
    rec = next_record(fe)
    assert rec.kind == ef.SLOW, rec
    if remember is not None:
        fe.remember(rec, remember, tag)
    answer(rec, error)
    return rec, h.result()


def handled_exec(fe: ef.FastExec, h: Holder, *cmd: object) -> tuple[ef.Record, object]:
    res = h.run(*cmd)
    rec = next_record(fe)
    assert rec.kind == ef.HANDLED, rec
    assert fe.next() is None
    return rec, res


def fast_with_holder(make_fast, make_holder, **kw: object) -> tuple[ef.FastExec, Holder]:
    h = make_holder(**kw)
    fe = make_fast()
    fe.add_listener(h.take_listener())
    return fe, h


# --- tests --------------------------------------------------------------------------------

def test_make_key_layout():
    key = ef.make_key("/bin/true", ("true", "a\udcff"), 3)
    assert key == b"/bin/true\0true\0a\xff\0\x03\0\0\0"
    assert ef.split_key(key) == ("/bin/true", ("true", "a\udcff"), 3)
    assert ef.split_key(ef.make_key("/x", (), 0)) == ("/x", (), 0)
    assert ef.HEADER_SIZE == 168


def test_task_nlink_counts_threads():
    """The native side's formula: /proc/PID/task st_nlink - 2 == number of threads."""
    def count() -> tuple[int, int]:
        st = os.stat(f"/proc/{os.getpid()}/task")
        with open(f"/proc/{os.getpid()}/stat", "rb") as f:
            num_threads = int(f.read().rsplit(b")", 1)[1].split()[17])
        tasks = len(os.listdir(f"/proc/{os.getpid()}/task"))
        assert num_threads == tasks
        return st.st_nlink - 2, tasks
    base = count()
    assert base[0] == base[1]
    stop = threading.Event()
    ts = [threading.Thread(target=stop.wait) for _ in range(3)]
    for t in ts:
        t.start()
    try:
        n = count()
        assert n[0] == n[1] == base[1] + 3
    finally:
        stop.set()
        for t in ts:
            t.join()


def test_first_exec_slow_then_handled(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    h.submit("exec", TRUE, [TRUE], None)
    rec = next_record(fe)
    st = os.stat(TRUE)
    assert rec.kind == ef.SLOW and rec.fastpathable
    assert rec.nr == NR_EXECVE and rec.arch == AUDIT_ARCH_X86_64
    assert rec.key == ef.make_key(TRUE, (TRUE,), 0)
    assert (rec.path, rec.argv, rec.depth) == (TRUE, (TRUE,), 0)
    assert rec.resolved == os.path.realpath(TRUE)
    assert (rec.dev, rec.ino, rec.size) == (st.st_dev, st.st_ino, st.st_size)
    assert (rec.mtime_ns, rec.ctime_ns) == (st.st_mtime_ns, st.st_ctime_ns)
    assert rec.dropped == 0 and rec.latency_ns > 0
    n = rec.notif()
    assert isinstance(n, lsc.Notif)
    assert (n.id, n.pid, n.nr, n.arch, n.args) == (rec.notif_id, rec.pid, rec.nr, rec.arch,
                                                   rec.args)
    fe.remember(rec, 0, 7)
    answer(rec)
    assert h.result() == 0

    rec2, code = handled_exec(fe, h, "exec", TRUE, [TRUE], None)
    assert code == 0  # /bin/true really ran
    assert (rec2.tag, rec2.error, rec2.key, rec2.resolved) == (7, 0, rec.key, rec.resolved)
    assert rec2.ident == rec.ident and rec2.pid != rec.pid
    print(f"\nHANDLED latency {rec2.latency_ns / 1000:.1f} us, SLOW latency "
          f"{rec.latency_ns / 1000:.1f} us")

    # remember with a (key, ident) pair works the same
    fe.remember((rec.key, rec.ident), errno.EPERM, 8)
    rec3, code = handled_exec(fe, h, "exec", TRUE, [TRUE], None)
    assert (code, rec3.error, rec3.tag) == (EXIT_EXEC_FAILED + errno.EPERM, errno.EPERM, 8)


def test_remembered_denial_fails_exec(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    _, code = slow_exec(fe, h, "exec", TRUE, [TRUE, "deny-me"], None,
                        error=errno.EACCES, remember=errno.EACCES, tag=3)
    assert code == EXIT_EXEC_FAILED + errno.EACCES
    rec, code = handled_exec(fe, h, "exec", TRUE, [TRUE, "deny-me"], None)
    assert code == EXIT_EXEC_FAILED + errno.EACCES
    assert (rec.error, rec.tag) == (errno.EACCES, 3)


def test_changed_argv_is_slow(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    slow_exec(fe, h, "exec", TRUE, [TRUE, "a"], None, remember=0)
    handled_exec(fe, h, "exec", TRUE, [TRUE, "a"], None)
    for argv in ([TRUE, "b"], [TRUE, "a", ""], [TRUE], ["true", "a"]):
        rec, code = slow_exec(fe, h, "exec", TRUE, argv, None)
        assert rec.fastpathable and rec.argv == tuple(argv) and code == 0
    handled_exec(fe, h, "exec", TRUE, [TRUE, "a"], None)


def test_replaced_or_modified_file_is_slow(make_fast, make_holder, tmp_path):
    fe, h = fast_with_holder(make_fast, make_holder)
    prog = tmp_path / "prog"
    shutil.copy2(TRUE, prog)
    rec1, code = slow_exec(fe, h, "exec", str(prog), ["prog"], None, remember=0)
    assert code == 0 and rec1.resolved == str(prog)
    handled_exec(fe, h, "exec", str(prog), ["prog"], None)

    new = tmp_path / "prog.new"
    shutil.copy2("/bin/false", new)
    os.rename(new, prog)
    rec2, code = slow_exec(fe, h, "exec", str(prog), ["prog"], None, remember=0)
    assert rec2.fastpathable and rec2.ino != rec1.ino and rec2.key == rec1.key
    assert code == 1  # it is /bin/false now
    handled_exec(fe, h, "exec", str(prog), ["prog"], None)

    # same inode, rewritten in place: ctime/mtime change
    time.sleep(0.01)
    with open(prog, "r+b") as f:
        head = f.read(4)
        f.seek(0)
        f.write(head)
    rec3, code = slow_exec(fe, h, "exec", str(prog), ["prog"], None)
    assert rec3.fastpathable and rec3.ino == rec2.ino and rec3.ctime_ns != rec2.ctime_ns


def test_symlinked_path_resolves(make_fast, make_holder, tmp_path):
    fe, h = fast_with_holder(make_fast, make_holder)
    (tmp_path / "link").symlink_to(TRUE)
    rec, code = slow_exec(fe, h, "exec", str(tmp_path / "link"), ["x"], None, remember=0)
    assert code == 0 and rec.resolved == os.path.realpath(TRUE)
    handled_exec(fe, h, "exec", str(tmp_path / "link"), ["x"], None)
    # the link now points elsewhere: the identity differs
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("/bin/false")
    rec, code = slow_exec(fe, h, "exec", str(tmp_path / "link"), ["x"], None)
    assert code == 1 and rec.resolved == os.path.realpath("/bin/false")


def test_chrooted_caller_resolves_in_its_root(make_fast, make_holder, tmp_path):
    """The path is resolved in the caller's root; `resolved` is in the caller's view."""
    fe, h = fast_with_holder(make_fast, make_holder)
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(os.path.realpath(BUSYBOX), root / "bin/busybox")
    (root / "bin/true").symlink_to("busybox")
    (root / "bin/false").symlink_to("/bin/busybox")  # absolute: stays inside the root
    st = os.stat(root / "bin/busybox")
    for _ in range(2):  # the second time the root's host path comes from the cache
        rec, code = slow_exec(fe, h, "chroot_exec", str(root), "/bin/true", ["true"],
                              remember=0)
        assert code == 0 and rec.fastpathable
        assert (rec.resolved, rec.ino, rec.path) == ("/bin/busybox", st.st_ino, "/bin/true")
        rec, code = handled_exec(fe, h, "chroot_exec", str(root), "/bin/true", ["true"])
        assert code == 0 and rec.resolved == "/bin/busybox"
        fe.remember(rec, errno.EPERM, 0)  # forget it for the next round
        fe.remember((rec.key, (0, 0, 0, 0, 0, "/x")), 0, 0)
    rec, code = slow_exec(fe, h, "chroot_exec", str(root), "/bin/false", ["false"])
    assert code == 1 and rec.resolved == "/bin/busybox"
    # the same key outside the chroot is another file: SLOW
    slow_exec(fe, h, "chroot_exec", str(root), "/bin/true", ["true"], remember=0)
    rec, code = slow_exec(fe, h, "exec", "/bin/true", ["true"], None)
    assert code == 0 and rec.resolved == os.path.realpath(TRUE)


def test_quiet_handled_records_do_not_wake(make_fast, make_holder):
    h = make_holder()
    fe = make_fast(quiet_handled=True)
    fe.add_listener(h.take_listener())
    slow_exec(fe, h, "exec", TRUE, [TRUE], None, remember=0)
    fe.drain()
    assert h.run("exec_loop", TRUE, [TRUE], 3) == [0, 0, 0]
    assert not select.select([fe], [], [], 0.2)[0]  # nothing woke
    assert [r.kind for r in fe.drain()] == [ef.HANDLED] * 3
    h.submit("exec", TRUE, [TRUE, "new"], None)  # SLOW records still wake
    assert select.select([fe], [], [], 10)[0]
    rec = fe.drain()[0]
    assert rec.kind == ef.SLOW
    answer(rec)
    assert h.result() == 0


def test_script_is_slow_not_fastpathable(make_fast, make_holder, tmp_path):
    fe, h = fast_with_holder(make_fast, make_holder)
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\nexit 3\n")
    script.chmod(0o755)
    for _ in range(2):
        rec, code = slow_exec(fe, h, "exec", str(script), ["s.sh"], None)
        assert not rec.fastpathable and rec.key == b"" and code == 3
        with pytest.raises(ValueError):
            fe.remember(rec)


def test_relative_path_is_slow(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    slow_exec(fe, h, "exec", TRUE, ["true"], None, remember=0)
    rec, code = slow_exec(fe, h, "exec", "./true", ["true"], "/bin")
    assert not rec.fastpathable and code == 0


def test_multithreaded_caller_is_slow(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    slow_exec(fe, h, "exec", TRUE, [TRUE], None, remember=0)
    handled_exec(fe, h, "exec", TRUE, [TRUE], None)
    rec, code = slow_exec(fe, h, "thread_exec", TRUE, [TRUE])
    assert not rec.fastpathable and code == 0


def test_vfork_posix_spawn_child_is_slow(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    slow_exec(fe, h, "exec", TRUE, [TRUE], None, remember=0)
    handled_exec(fe, h, "exec", TRUE, [TRUE], None)
    rec, code = slow_exec(fe, h, "spawn", TRUE, [TRUE])
    assert not rec.fastpathable and code == 0
    assert rec.pid != h.run("pid")  # the vfork child, sharing the holder's memory


def test_clone_vm_sibling_is_slow(each_cgroup, make_fast, make_holder):
    cgroup = each_cgroup
    h = make_holder(cgroup=cgroup)
    fe = make_fast(procs_file=cgroup)
    fe.add_listener(h.take_listener())
    slow_exec(fe, h, "exec", TRUE, [TRUE], None, remember=0)
    handled_exec(fe, h, "exec", TRUE, [TRUE], None)  # cgroup.procs read, nothing shared
    h.submit("clone_vm", TRUE, [TRUE])
    rec = next_record(fe)
    assert rec.kind == ef.SLOW and not rec.fastpathable
    answer(rec)
    code, sib = h.result()
    assert code == 0 and sib > 0


def test_clone_vm_sibling_unseen_without_cgroup(make_fast, make_holder):
    """Without a cgroup.procs only the parent is checked: the sibling goes unnoticed
    (this is why the monitor must pass the container's cgroup.procs)."""
    fe, h = fast_with_holder(make_fast, make_holder)
    slow_exec(fe, h, "exec", TRUE, [TRUE], None, remember=0)
    rec, (code, _sib) = handled_exec(fe, h, "clone_vm", TRUE, [TRUE])
    assert code == 0


def test_argv_over_256k_is_slow(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    argv = [TRUE] + ["x" * 100_000] * 3
    rec, code = slow_exec(fe, h, "exec", TRUE, argv, None)
    assert not rec.fastpathable and code == 0
    # just under: fastpathable
    argv = [TRUE] + ["y" * 100_000, "z" * 100_000]
    rec, code = slow_exec(fe, h, "exec", TRUE, argv, None, remember=0)
    assert rec.fastpathable and rec.argv == tuple(argv) and len(rec.key) > 200_000
    rec, code = handled_exec(fe, h, "exec", TRUE, argv, None)
    assert code == 0 and rec.argv == tuple(argv)


def test_execveat_and_other_syscalls_are_slow(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder,
                             nrs=(NR_EXECVE, NR_EXECVEAT, NR_KILL))
    slow_exec(fe, h, "exec", TRUE, [TRUE], None, remember=0)
    h.submit("kill")
    rec = next_record(fe)
    assert rec.kind == ef.SLOW and rec.nr == NR_KILL and not rec.fastpathable
    assert rec.args[1] == 0 and rec.key == b""
    answer(rec, errno.EPERM)
    assert h.result() == errno.EPERM
    h.submit("fexec", TRUE, [TRUE])
    rec = next_record(fe)
    assert rec.kind == ef.SLOW and rec.nr == NR_EXECVEAT and not rec.fastpathable
    answer(rec)
    assert h.result() == 0


def test_depth_matches_python(make_fast, make_holder):
    h = make_holder()
    hpid = h.run("pid")
    ns = os.stat(f"/proc/{hpid}/ns/pid").st_ino
    fe = make_fast(need_depth=True, init_pid=hpid, pidns_ino=ns)
    fe.add_listener(h.take_listener())
    h.submit("exec", TRUE, [TRUE], None)  # holder -> child: depth 1
    rec = next_record(fe)
    assert rec.depth == execcheck.depth_of(rec.pid, hpid, ns) == 1
    assert rec.key == ef.make_key(TRUE, (TRUE,), 1)
    fe.remember(rec, 0, 1)
    answer(rec)
    assert h.result() == 0
    handled_exec(fe, h, "exec", TRUE, [TRUE], None)
    # via sh: holder -> sh -> true is depth 2, another key
    h.submit("sh_loop", 1)
    rec = next_record(fe)  # the sh itself (depth 1)
    assert rec.argv[0] == "sh" and rec.depth == 1
    answer(rec)
    rec = next_record(fe)
    assert rec.kind == ef.SLOW and rec.path == TRUE
    assert rec.depth == execcheck.depth_of(rec.pid, hpid, ns) == 2
    answer(rec)
    assert h.result()[0] == 0
    # a wrong pid namespace inode stops the walk at once
    fe2 = make_fast(need_depth=True, init_pid=hpid, pidns_ino=ns + 1)
    h2 = make_holder()
    fe2.add_listener(h2.take_listener())
    h2.submit("exec", TRUE, [TRUE], None)
    rec = next_record(fe2)
    assert rec.depth == 0
    answer(rec)
    assert h2.result() == 0


def test_killing_the_holder_gives_listener_gone(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    slow_exec(fe, h, "exec", TRUE, [TRUE], None)
    h.submit("exec", TRUE, [TRUE], None)
    pending = next_record(fe)  # left unanswered: the grandchild waits in execve
    assert pending.kind == ef.SLOW
    h.kill()
    rec = next_record(fe)
    assert rec.kind == ef.LISTENER_GONE and rec.listener == pending.listener
    assert fe.next() is None


def test_free_with_pending_listener_leaves_no_thread(make_holder):
    threads = _threads()
    h = make_holder()
    fe = ef.FastExec("", True, 0, 0)
    assert _threads() == threads + 1
    fe.add_listener(h.take_listener())
    h.submit("exec", TRUE, [TRUE], None)
    rec = next_record(fe)
    assert rec.kind == ef.SLOW
    fe.close()  # closes the listener: the kernel fails the pending exec with ENOSYS
    assert _threads() == threads
    assert h.result() == EXIT_EXEC_FAILED + errno.ENOSYS
    fe.close()  # idempotent
    assert fe.drain() == []


def test_many_records_and_small_buffer(make_fast, make_holder):
    """Records queue up while Python is away; a record bigger than the buffer grows it."""
    fe, h = fast_with_holder(make_fast, make_holder)
    big = [TRUE, "q" * 100_000]
    rec, _ = slow_exec(fe, h, "exec", TRUE, big, None, remember=0)
    assert rec.kind == ef.SLOW and len(rec.key) > 65536
    h.run("exec_loop", TRUE, big, 20)
    recs = fe.drain()
    assert [r.kind for r in recs] == [ef.HANDLED] * 20
    assert all(r.argv == tuple(big) for r in recs)


# --- figures ------------------------------------------------------------------------------

def test_latency_of_handled_execs(make_fast, make_holder):
    fe, h = fast_with_holder(make_fast, make_holder)
    slow_exec(fe, h, "exec", TRUE, [TRUE], None, remember=0)
    codes = h.run("exec_loop", TRUE, [TRUE], 500, timeout=120)
    assert codes == [0] * 500
    recs = fe.drain()
    assert [r.kind for r in recs] == [ef.HANDLED] * 500
    lat = sorted(r.latency_ns for r in recs)
    med = statistics.median(lat)
    print(f"\nHANDLED latency over 500 execs: median {med / 1000:.1f} us, "
          f"p90 {lat[449] / 1000:.1f} us, max {lat[-1] / 1000:.1f} us")
    # ~35-40 us here when the machine is quiet; the bound catches a path gone wrong (a
    # blocking call, a Python round trip), not noise from the rest of a test run
    assert med < 200_000


def _sh_loop_added(cgroup: str, make_fast, make_holder, n: int,
                   mode: str) -> tuple[float, float]:
    """Per-exec seconds of the busybox loop under a fully cached filter, and without."""
    base = make_holder(filtered=False, cgroup=cgroup)
    h = make_holder(cgroup=cgroup)
    hpid = h.run("pid")
    ns = os.stat(f"/proc/{hpid}/ns/pid").st_ino
    fe = make_fast(procs_file=cgroup, need_depth=True, init_pid=hpid, pidns_ino=ns,
                   quiet_handled=mode == "python-drains-quiet")
    fe.add_listener(h.take_listener())
    # warm the cache: remember every exec the loop makes (sh itself, and /bin/true)
    h.submit("sh_loop", n)
    while not h.ready():
        rec = fe.next()
        if rec is None:
            select.select([fe, h.sock], [], [], 5)
            continue
        if rec.kind == ef.SLOW:
            if rec.fastpathable:
                fe.remember(rec, 0, 0)
            answer(rec)
    assert h.result()[0] == 0
    fe.drain()

    stop = threading.Event()
    seen: list[ef.Record] = []

    def drainer() -> None:  # what the monitor's loop would do
        while not stop.is_set():
            if select.select([fe], [], [], 0.1)[0]:
                seen.extend(fe.drain())

    t = threading.Thread(target=drainer) if mode != "no-python" else None
    if t:
        t.start()
    try:
        best_f = best_b = float("inf")
        for _ in range(3):
            code, el = h.run("sh_loop", n, timeout=120)
            assert code == 0
            best_f = min(best_f, el)
            code, el = base.run("sh_loop", n, timeout=120)
            assert code == 0
            best_b = min(best_b, el)
    finally:
        stop.set()
        if t:
            t.join()
    seen.extend(fe.drain())
    kinds = {r.kind for r in seen}
    assert kinds == {ef.HANDLED}, [r for r in seen if r.kind != ef.HANDLED][:3]
    assert len(seen) == 3 * (n + 1)
    return best_f / n, best_b / n


# Every exec of the loop must be answered natively (_sh_loop_added asserts that each
# record is HANDLED); the time it adds is a figure for bench/policy, printed here, never
# asserted (a loaded CI machine would make such a bound flaky: it failed at 250.6 us
# against 250 on a quiet one).


@pytest.mark.parametrize("mode", ["no-python", "python-drains", "python-drains-quiet"])
def test_sh_loop_overhead(cgroup, make_fast, make_holder, mode):
    n = 1000
    filt, base = _sh_loop_added(cgroup, make_fast, make_holder, n, mode)
    added = (filt - base) * 1e6
    print(f"\nbusybox sh loop of {n} {TRUE}: {base * 1e6:.1f} us/exec unfiltered, "
          f"{filt * 1e6:.1f} us/exec with cached decisions: +{added:.1f} us/exec ({mode})")
