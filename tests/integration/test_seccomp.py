"""seccomp filters loaded for real: a forked child installs a compiled profile and the
test observes what the kernel does to its syscalls (errno, SIGSYS, notifications)."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentsh_runtime.linux import caps
from agentsh_runtime.linux import seccomp as lsc
from agentsh_runtime.seccomp import agent, install, prepare

REPO = Path(__file__).resolve().parents[2]
PODMAN = json.loads((REPO / "tests/unit/data/podman-config.json").read_text())["linux"]["seccomp"]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR_getppid, NR_mkdir, NR_mkdirat, NR_personality = 110, 83, 258, 135


def raw_syscall(nr: int, *args: int) -> int:
    """The syscall's result, or -errno."""
    ret = libc.syscall(ctypes.c_long(nr), *(ctypes.c_ulong(a) for a in args))
    return -ctypes.get_errno() if ret == -1 else ret


def in_child(prepared, body: Callable[[int | None], object], *, nnp: bool = True,
             before: Callable[[], None] | None = None) -> tuple[int, str]:
    """Fork; the child loads the filter, runs body(listener_fd) and reports repr(result).

    Returns (wait status, report). A child killed by the filter reports nothing.
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.close(r)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if before:
                before()
            if nnp:
                caps.prctl(caps.PR_SET_NO_NEW_PRIVS, 1)
            listener = install(prepared)
            out = repr(body(listener))
        except BaseException as e:  # noqa: BLE001
            out, code = f"EXC {type(e).__name__}: {e}", 3
        try:
            os.write(w, out.encode())
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return status, b"".join(chunks).decode()


def ok(status: int, report: str) -> str:
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, report)
    return report


def mkdir_errno(path: str) -> int:
    try:
        os.mkdir(path)
    except OSError as e:
        return e.errno
    return 0


def test_mkdir_eperm(tmp_path):
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}, str(tmp_path / "c"))

    def body(_):
        return (mkdir_errno(str(tmp_path / "d")), raw_syscall(NR_mkdirat, -100,
                ctypes.addressof(ctypes.create_string_buffer(str(tmp_path / "e").encode())),
                0o755), os.getpid() > 0)

    assert ok(*in_child(p, body)) == f"({errno.EPERM}, {-errno.EPERM}, True)"
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()
    # the parent is not filtered
    os.mkdir(tmp_path / "parent")


def test_errno_ret_honoured(tmp_path):
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}, None)
    assert ok(*in_child(p, lambda _: mkdir_errno(str(tmp_path / "d")))) == str(errno.ENOSYS)


def test_kill_process_sigsys():
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]}, None)
    status, report = in_child(p, lambda _: os.getppid())
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS, (status, report)
    assert report == ""


def test_arg_filter_personality():
    # deny personality only when arg0 == 0xffffffff (the query form)
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES,
         "args": [{"index": 0, "value": 0xFFFFFFFF, "op": "SCMP_CMP_EQ"}]}]}, None)

    def body(_):
        return (raw_syscall(NR_personality, 0xFFFFFFFF), raw_syscall(NR_personality, 0))

    query, set_linux = json.loads(ok(*in_child(p, body)).replace("(", "[").replace(")", "]"))
    assert query == -errno.EACCES
    assert set_linux >= 0


def test_arg_filter_socket_family():
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EAFNOSUPPORT,
         "args": [{"index": 0, "value": socket.AF_INET6, "op": "SCMP_CMP_EQ"}]}]}, None)

    def body(_):
        results = []
        for fam in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX):
            try:
                socket.socket(fam, socket.SOCK_STREAM).close()
                results.append(0)
            except OSError as e:
                results.append(e.errno)
        return results

    assert ok(*in_child(p, body)) == repr([0, errno.EAFNOSUPPORT, 0])


def test_masked_eq_on_open_flags(tmp_path):
    # openat with O_CREAT set: refused; plain opens pass
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["openat", "open", "creat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30,
         "args": [{"index": 2, "value": os.O_CREAT, "valueTwo": os.O_CREAT,
                   "op": "SCMP_CMP_MASKED_EQ"}]},
    ]}, None)
    (tmp_path / "exists").write_text("x")

    def body(_):
        # openat's flags are arg 2; open's are arg 1 (only openat is used by glibc here)
        with open(tmp_path / "exists") as f:
            content = f.read()
        try:
            open(tmp_path / "new", "w").close()
            created = 0
        except OSError as e:
            created = e.errno
        return content, created

    assert ok(*in_child(p, body)) == repr(("x", errno.EROFS))


def test_multiarch_filter_loads(tmp_path):
    prof = {"defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    p = prepare(prof, None)
    assert ok(*in_child(p, lambda _: mkdir_errno(str(tmp_path / "d")))) == str(errno.EPERM)


def test_podman_profile_loads(tmp_path):
    p = prepare(PODMAN, str(tmp_path / "cache"))

    def body(_):
        return (mkdir_errno(str(tmp_path / "ok")), raw_syscall(161, 0),  # chroot: EPERM
                raw_syscall(425, 0, 0),  # io_uring_setup: not allowed, ENOSYS
                raw_syscall(NR_personality, 0xFFFFFFFF) >= 0)

    assert ok(*in_child(p, body)) == repr((0, -errno.EPERM, -errno.ENOSYS, True))
    assert (tmp_path / "ok").is_dir()


def test_enosys_stub_on_the_kernel():
    # Deny by default (EPERM) and allow only what the child needs: a syscall the
    # profile's libseccomp era knows gets EPERM, anything newer than the largest
    # named syscall gets ENOSYS (runc's stub), so libc can fall back.
    needed = ["read", "write", "close", "exit", "exit_group", "brk", "mmap", "munmap",
              "mremap", "madvise", "futex", "rt_sigprocmask", "rt_sigaction", "rt_sigreturn",
              "getpid", "gettid", "fstat", "newfstatat", "lseek"]
    p = prepare({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                 "syscalls": [{"names": needed, "action": "SCMP_ACT_ALLOW"}]}, None)

    def body(_):
        return raw_syscall(NR_getppid), raw_syscall(434, 0, 0)  # pidfd_open (> newfstatat)

    assert ok(*in_child(p, body)) == repr((-errno.EPERM, -errno.ENOSYS))


def test_flags_log_and_spec_allow_load(tmp_path):
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW",
                 "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                           "SECCOMP_FILTER_FLAG_TSYNC"],
                 "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}, None)
    assert p.flags == lsc.SECCOMP_FILTER_FLAG_LOG | lsc.SECCOMP_FILTER_FLAG_SPEC_ALLOW
    assert ok(*in_child(p, lambda _: mkdir_errno(str(tmp_path / "d")))) == str(errno.EPERM)


def test_load_needs_nnp_or_cap_sys_admin():
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]}, None)
    # with CAP_SYS_ADMIN and without no_new_privs: loads
    assert ok(*in_child(p, lambda _: raw_syscall(NR_getppid), nnp=False)) == str(-errno.EPERM)

    def drop_sys_admin():
        with open("/proc/self/status") as f:
            prm = next(int(line.split()[1], 16) for line in f if line.startswith("CapPrm:"))
        keep = {c for c in range(64) if prm >> c & 1} - {caps.CAP_NUMBERS["CAP_SYS_ADMIN"]}
        caps.capset(keep, keep, set())

    status, report = in_child(p, lambda _: None, nnp=False, before=drop_sys_admin)
    assert os.WEXITSTATUS(status) == 3 and "Permission denied" in report
    assert "no_new_privs or CAP_SYS_ADMIN" in report


# --- SCMP_ACT_NOTIFY with an agent at listenerPath ------------------------------------------

class Agent:
    """A tiny seccomp agent: accepts one connection on listenerPath, takes the fd."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(1)
        self.srv.settimeout(10)

    def receive(self) -> tuple[dict, int]:
        conn, _ = self.srv.accept()
        with conn:
            conn.settimeout(10)
            data = b""
            fds: list[int] = []
            while True:
                msg, got, _flags, _addr = socket.recv_fds(conn, 65536, 4)
                data += msg
                fds += got
                if not msg:
                    break
        assert len(fds) == 1, fds
        return json.loads(data), fds[0]

    def close(self) -> None:
        self.srv.close()


def next_notif(listener: int, timeout: float = 10.0) -> lsc.Notif:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "no notification"
        ready, _, _ = select.select([listener], [], [], left)
        if ready:
            return lsc.notif_recv(listener)


def test_notify_agent_gets_fd_and_answers(tmp_path):
    sock = tmp_path / "agent.sock"
    prof = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(sock),
            "listenerMetadata": "meta-1",
            "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            "syscalls": [{"names": ["getppid", "mkdir", "mkdirat"],
                          "action": "SCMP_ACT_NOTIFY"}]}
    p = prepare(prof, str(tmp_path / "cache"))
    assert p.needs_listener and p.metadata == "meta-1"
    ag = Agent(sock)
    secret = tmp_path / "secret"
    secret.write_text("handed over")
    state = {"ociVersion": "1.2.0", "id": "c1", "status": "creating", "pid": 0,
             "bundle": str(tmp_path), "annotations": {"k": "v"}}

    def body(listener):
        assert listener is not None
        # what the runtime does: send the state and the fd, close our copy
        agent.send_state(p.listener_path, listener, dict(state, pid=os.getpid()),
                         os.getpid(), p.metadata)
        try:
            os.fstat(listener)
            closed = False
        except OSError:
            closed = True
        ppid = os.getppid()  # answered by the agent with a made-up value
        denied = mkdir_errno(str(tmp_path / "first"))  # answered with EACCES
        allowed = mkdir_errno(str(tmp_path / "second"))  # answered with CONTINUE
        fd = os.getppid()  # answered by ADDFD|SEND: a file descriptor
        with os.fdopen(fd) as f:
            text = f.read()
        return closed, ppid, denied, allowed, text

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.close(r)
            caps.prctl(caps.PR_SET_NO_NEW_PRIVS, 1)
            out = repr(body(install(p)))
        except BaseException as e:  # noqa: BLE001
            out, code = f"EXC {type(e).__name__}: {e}", 3
        os.write(w, out.encode())
        os._exit(code)
    os.close(w)
    listener = None
    try:
        msg, listener = ag.receive()
        assert msg["ociVersion"] == "1.2.0"
        assert msg["fds"] == ["seccompFd"]
        assert msg["pid"] == pid
        assert msg["metadata"] == "meta-1"
        assert msg["state"] == dict(state, pid=pid)

        n = next_notif(listener)
        assert (n.nr, n.pid, n.arch) == (NR_getppid, pid, 0xC000003E)
        assert lsc.notif_id_valid(listener, n.id)
        lsc.notif_send(listener, n.id, val=4242)
        assert not lsc.notif_id_valid(listener, n.id)

        n = next_notif(listener)
        assert n.nr in (NR_mkdir, NR_mkdirat)
        lsc.notif_send(listener, n.id, error=errno.EACCES)

        n = next_notif(listener)
        assert n.nr in (NR_mkdir, NR_mkdirat)
        lsc.notif_continue(listener, n.id)

        n = next_notif(listener)
        assert n.nr == NR_getppid
        with open(secret) as f:
            newfd = lsc.notif_addfd(listener, n.id, f.fileno(),
                                    flags=lsc.SECCOMP_ADDFD_FLAG_SEND)
        assert newfd > 2

        report = b""
        while chunk := os.read(r, 65536):
            report += chunk
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        os.close(r)
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if listener is not None:
            os.close(listener)
        ag.close()
    assert ok(status, report.decode()) == repr((True, 4242, errno.EACCES, 0, "handed over"))
    assert not (tmp_path / "first").exists() and (tmp_path / "second").is_dir()


def test_notify_runc_style_handoff_from_the_parent(tmp_path):
    """The child only writes its listener's fd number; the parent takes the fd with
    pidfd_getfd and sends it to the agent (as runc does), then lets the child go on."""
    sock = tmp_path / "agent.sock"
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(sock),
                 "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]}, None)
    ag = Agent(sock)
    report_r, report_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.close(report_r)
            os.close(go_w)
            caps.prctl(caps.PR_SET_NO_NEW_PRIVS, 1)
            listener = install(p)
            os.write(report_w, b"%d\n" % listener)
            os.read(go_r, 1)  # the parent has handed the listener over
            os.close(listener)
            out = repr(os.getppid())
        except BaseException as e:  # noqa: BLE001
            out, code = f"EXC {type(e).__name__}: {e}", 3
        os.write(report_w, out.encode())
        os._exit(code)
    os.close(report_w)
    os.close(go_r)
    listener = pidfd = None
    try:
        line = b""
        while not line.endswith(b"\n"):
            line += os.read(report_r, 1)
        pidfd = os.pidfd_open(pid)
        mine = lsc.pidfd_getfd(pidfd, int(line))
        agent.send_state(p.listener_path, mine, {"ociVersion": "1.2.0", "id": "c2",
                         "status": "creating", "pid": pid, "bundle": str(tmp_path)}, pid)
        msg, listener = ag.receive()
        assert msg["pid"] == pid and "metadata" not in msg
        os.write(go_w, b"g")
        n = next_notif(listener)
        assert n.nr == NR_getppid and n.pid == pid
        lsc.notif_send(listener, n.id, val=77)
        report = b""
        while chunk := os.read(report_r, 65536):
            report += chunk
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        for fd in (report_r, go_w, listener, pidfd):
            if fd is not None:
                os.close(fd)
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        ag.close()
    assert ok(status, report.decode()) == "77"


def test_notify_agent_unreachable_is_an_error(tmp_path):
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "none"),
                 "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]}, None)

    def body(listener):
        try:
            agent.send_state(p.listener_path, listener, {"ociVersion": "1.2.0"}, 1)
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, getattr(e, "field", None)
        return None

    assert ok(*in_child(p, body)) == repr(("SetupError", "linux.seccomp.listenerPath"))


@pytest.mark.parametrize("action", ["SCMP_ACT_TRAP", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"])
def test_trap_and_kill_thread_sigsys(action):
    p = prepare({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": action}]}, None)
    status, report = in_child(p, lambda _: os.getppid())
    assert os.WIFSIGNALED(status), (status, report)
    # TRAP sends SIGSYS; a killed (single) thread takes the process with it as SIGSYS
    assert os.WTERMSIG(status) == signal.SIGSYS


# --- the same filter as runc ------------------------------------------------------------------

def _proc_state(pid: int) -> str:
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return data[data.rindex(b")") + 2:].split()[0].decode()


def _ptrace_get_filter(pid: int) -> bytes:
    # Wait until runc's init has exec'd the (single-threaded) sleep: attaching to the
    # multi-threaded Go init while it execs races with de_thread.
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}/comm").read_text().strip() != "sleep":
        assert time.monotonic() < deadline, "the container never exec'd sleep"
        time.sleep(0.01)
    ptrace = libc.ptrace
    ptrace.restype = ctypes.c_long
    ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SECCOMP_GET_FILTER = 16, 17, 0x420C
    # right after the exec the kernel may still refuse (EPERM while the old mm goes):
    # retry a bounded number of times rather than fail on a busy machine
    for _ in range(100):
        if ptrace(PTRACE_ATTACH, pid, None, None) == 0:
            break
        err = ctypes.get_errno()
        assert time.monotonic() < deadline, f"PTRACE_ATTACH: {os.strerror(err)}"
        time.sleep(0.02)
    else:
        raise AssertionError(f"PTRACE_ATTACH kept failing: {os.strerror(err)}")
    try:
        # Poll the state, not waitpid: the suite's zombie reaper (tests/support/reaper.py)
        # may collect the stop report before we do.
        while _proc_state(pid) != "t":
            assert time.monotonic() < deadline, "the tracee never stopped"
            time.sleep(0.01)
        n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, None, None)
        assert n > 0, os.strerror(ctypes.get_errno())
        buf = ctypes.create_string_buffer(n * 8)
        assert ptrace(PTRACE_SECCOMP_GET_FILTER, pid, None, buf) == n
        return buf.raw
    finally:
        ptrace(PTRACE_DETACH, pid, None, None)


@pytest.mark.skipif(not shutil.which("runc"), reason="needs runc as the reference")
def test_podman_profile_same_decisions_as_runc(tmp_path):
    """Load podman's profile under runc, read the kernel's copy of runc's filter with
    PTRACE_SECCOMP_GET_FILTER, and compare decisions with ours over syscall numbers,
    architectures and argument values. (The programs differ in layout: we turn on
    libseccomp's binary tree, runc 1.1.5 does not; the -ENOSYS stubs differ in arch order.)"""
    import random

    from agentsh_runtime.seccomp import bpf
    from tests.support.bundle import new_id
    from tests.support.rootfs import cached_busybox_rootfs

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["root"] = {"path": str(cached_busybox_rootfs()), "readonly": True}
    cfg["process"].update(terminal=False, args=["sleep", "60"])
    cfg["linux"]["seccomp"] = PODMAN
    (bundle / "config.json").write_text(json.dumps(cfg))
    root, cid = str(tmp_path / "runc-root"), new_id("sc")
    try:
        # runc -d leaves the container holding its stdio: no pipes, or run() never returns
        with open(tmp_path / "runc.log", "w") as log:
            subprocess.run(["runc", "--root", root, "run", "-d", "--bundle", str(bundle), cid],
                           check=True, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                           timeout=30)
        st = json.loads(subprocess.run(["runc", "--root", root, "state", cid], check=True,
                                       capture_output=True, text=True).stdout)
        theirs = bpf.unpack(_ptrace_get_filter(st["pid"]))
    finally:
        gone = subprocess.run(["runc", "--root", root, "delete", "-f", cid],
                              capture_output=True, text=True, timeout=30)
    assert gone.returncode == 0, gone.stderr
    ours = bpf.unpack(prepare(PODMAN, None).bpf)

    rng = random.Random(7)
    values = [0, 1, 2, 8, 9, 10, 16, 0x20000, 0x20008, 0x7E020000, 0x7FFFFFFF, 0x80000000,
              0xFFFFFFFF, 1 << 32, (1 << 64) - 1]
    checked = 0
    for arch in (0xC000003E, 0x40000003, 0x12345678):
        for nr in [*range(0, 480), *range(0x40000000, 0x40000000 + 560)]:
            for _ in range(4):
                args = tuple(rng.choice(values) for _ in range(6))
                assert bpf.run(ours, nr, arch, args) == bpf.run(theirs, nr, arch, args), \
                    (hex(arch), nr, args)
                checked += 1
    assert checked > 10000
