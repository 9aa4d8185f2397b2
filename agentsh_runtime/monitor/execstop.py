"""Exec checks and command redirects that need the exec'ing thread under ptrace.

Two jobs, both for a thread the monitor got an execve notification from:

* **Airtight exec check** when the caller's memory is shared (more than one thread,
  a vfork child, any clone(CLONE_VM) relative): after a CONTINUE the kernel reads the
  path and argv again, so a sharer could swap them. The thread is seized with
  PTRACE_O_TRACEEXEC before the answer and interrupted right after it; the exec then
  either stops at PTRACE_EVENT_EXEC, before the new program's first instruction, where
  /proc/PID/exe and /proc/PID/cmdline are compared with what was decided (mismatch:
  SIGKILL), or it failed and the interrupt stops the thread on its way back to user
  space. Either way the thread is detached. PTRACE_O_EXITKILL: if the monitor dies
  while it holds a thread, the thread dies too (fail closed).
* **Command redirect**: the waiting thread is interrupted, which ends its seccomp wait
  with a restart; at that stop the new path, argv (and environment) are written below
  its stack pointer and the syscall's argument registers point at them; the restarted
  execve comes back as a new notification, which the monitor checks against what it
  wrote, and it then runs under the airtight check above.

The monitor has no children of its own, so waitpid(-1, __WALL) sees only tracees.
"""

from __future__ import annotations

import errno
import os
import signal
import time

from ..linux import procmem as pm
from ..linux import ptrace

GUARD_OPTIONS = ptrace.PTRACE_O_TRACEEXEC | ptrace.PTRACE_O_EXITKILL
REDIRECT_WAIT = 2.0  # the restarted execve's notification must come within this


def mm_shared(pid: int, procs_file: str = "") -> bool:
    """Could anything but this thread change the caller's memory while it execs?"""
    try:
        if os.stat(f"/proc/{pid}/task").st_nlink - 2 > 1:
            return True  # more threads in the group
    except OSError:
        return True
    from ..linux.proc import ppid

    parent = ppid(pid)
    if parent and parent > 1 and ptrace.same_mm(pid, parent):
        return True  # a vfork / posix_spawn child: the parent's other threads could race
    if procs_file:
        try:
            with open(procs_file, "rb") as f:
                pids = f.read().split()
        except OSError:
            return True
        for raw in pids:
            other = int(raw)
            if other != pid and other != parent and ptrace.same_mm(pid, other):
                return True
    return False


class Expect:
    """What a guarded exec may turn into: the file(s) /proc/PID/exe may be, and argv."""

    __slots__ = ("identity", "argv", "path", "script", "on_done")

    def __init__(self, identity: set[tuple[int, int]], argv: tuple[str, ...], path: str,
                 script: tuple[str, ...] | None, on_done) -> None:  # noqa: ANN001
        self.identity = identity
        self.argv = argv
        self.path = path
        self.script = script  # the interpreter's argv when the program is a `#!` script
        self.on_done = on_done  # called with (pid, None | reason it was killed)


class Traced:
    __slots__ = ("tid", "tgid", "state", "expect", "deadline", "redirect")

    def __init__(self, tid: int, tgid: int) -> None:
        self.tid, self.tgid = tid, tgid
        self.state = "seized"  # seized | redirecting | checking | detaching
        self.expect: Expect | None = None
        self.deadline = 0.0
        self.redirect: tuple[str, tuple[str, ...]] | None = None  # (path, argv) written


class ExecTracer:
    def __init__(self) -> None:
        self.by_pid: dict[int, Traced] = {}

    def active(self) -> bool:
        return bool(self.by_pid)

    # -- the airtight check --------------------------------------------------------------
    def seize(self, tid: int, tgid: int) -> Traced | None:
        t = self.by_pid.get(tid)
        if t is not None:
            return t  # a redirect's restarted exec: held already
        try:
            ptrace.seize(tid, GUARD_OPTIONS)
        except OSError:
            return None  # traced by someone else, or gone: the caller denies
        t = Traced(tid, tgid)
        self.by_pid[tid] = t
        if tgid != tid:
            self.by_pid[tgid] = t  # a thread's exec is reported under the group's pid
        return t

    def check_after_continue(self, t: Traced, expect: Expect) -> None:
        """The notification was answered CONTINUE: make sure the thread stops next."""
        t.expect = expect
        t.state = "checking"
        t.deadline = time.monotonic() + 30.0
        self._interrupt(t)

    def _interrupt(self, t: Traced) -> None:
        # a thread's exec may already have taken over the group's pid: then the tid is
        # gone and the stop (or the exit) comes under the tgid; keep waiting for it
        for pid in (t.tid, t.tgid) if t.tgid != t.tid else (t.tid,):
            try:
                ptrace.interrupt(pid)
                return
            except OSError:
                continue

    def release(self, t: Traced) -> None:
        """The exec was refused instead: let the thread go at its next stop."""
        t.state = "detaching"
        t.deadline = time.monotonic() + 30.0
        self._interrupt(t)

    # -- redirect ----------------------------------------------------------------------
    def redirect(self, tid: int, tgid: int, arch: int, nr: int, args: tuple[int, ...],
                 path: str, argv: list[str], env: tuple[tuple[str, str], ...]) -> str | None:
        """Rewrite the waiting execve to run `path` with `argv`. None, or why not."""
        t = self.seize(tid, tgid)
        if t is None:
            return "the process cannot be traced (traced already?)"
        try:
            ptrace.interrupt(tid)
            status = self._wait_for(t, 0.5)
            if status is None:
                # a filter with WAIT_KILLABLE_RECV is not interrupted: it waits for us
                raise OSError(errno.ETIMEDOUT, "the waiting exec did not stop")
            if not os.WIFSTOPPED(status) or ptrace.stop_event(status) != \
                    ptrace.PTRACE_EVENT_STOP:
                raise OSError(errno.ESRCH, "the process did not stop in its exec")
            regs = ptrace.get_regs(tid)
            if regs.orig_rax != nr:
                raise OSError(errno.EINVAL, "the stopped thread is not in execve")
            width = pm.pointer_size(arch, nr)
            envp = args[2]
            env_strings = None
            if env:
                with pm.ProcMem(tid) as mem:
                    old = mem.string_array(envp, width)
                names = {k.encode() for k, _ in env}
                env_strings = [e for e in old if e.split(b"=", 1)[0] not in names]
                env_strings += [f"{k}={v}".encode() for k, v in env]
            low = ptrace.writable_below(tid, regs.rsp)
            for margin in (32768, 1024):
                # far below the stack pointer when there is room: a signal handler run
                # before the restart would write its frame just below it
                block, path_at, argv_at, env_at = _block(path, argv, env_strings, width,
                                                         regs.rsp - margin)
                if low and path_at >= low:
                    break
            else:
                raise OSError(errno.ENOMEM, "no room below the stack pointer")
            ptrace.write_mem(tid, path_at, block)
            if arch == pm.AUDIT_ARCH_I386:
                regs.rbx, regs.rcx = path_at, argv_at
            else:
                regs.rdi, regs.rsi = path_at, argv_at
            if env_at:
                regs.rdx = env_at
            ptrace.set_regs(tid, regs)
            t.state = "redirecting"
            t.redirect = (path, tuple(argv))
            t.deadline = time.monotonic() + REDIRECT_WAIT
            ptrace.cont(tid)
            return None
        except OSError as e:
            self.release(t)
            return str(e.strerror or e)

    def redirected(self, tid: int) -> tuple[str, tuple[str, ...]] | None:
        t = self.by_pid.get(tid)
        return t.redirect if t is not None and t.state == "redirecting" else None

    # -- stops -------------------------------------------------------------------------
    def reap(self) -> None:
        """Handle every tracee stop and exit that is ready (SIGCHLD woke us)."""
        while self.by_pid:
            try:
                pid, status = ptrace.wait_any(ptrace.WNOHANG)
            except ChildProcessError:
                self.by_pid.clear()
                return
            if pid == 0:
                break
            self._on_status(pid, status)
        now = time.monotonic()
        for t in {id(t): t for t in self.by_pid.values()}.values():
            if t.deadline and now > t.deadline and t.state in ("redirecting", "checking"):
                # the redirected exec never came back (EINTR?), or no stop came: let go,
                # and a checked exec that never reported is not trusted
                if t.state == "checking":
                    _kill(t.tgid)
                    self._done(t, t.tgid, "no exec stop came: killed")
                t.state = "detaching"
                t.deadline = 0.0
                self._interrupt(t)
            elif t.deadline and now > t.deadline:
                self._forget(t)  # neither a stop nor an exit came: not ours any more

    def _wait_for(self, t: Traced, timeout: float) -> int | None:
        end = time.monotonic() + timeout
        delay = 0.00005
        while True:
            for pid in {t.tid, t.tgid}:
                try:
                    got, status = os.waitpid(pid, ptrace.WALL | ptrace.WNOHANG)
                except ChildProcessError:
                    continue
                if got:
                    return status
            if time.monotonic() > end:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.005)

    def _on_status(self, pid: int, status: int) -> None:
        t = self.by_pid.get(pid)
        if t is None:
            return
        if not os.WIFSTOPPED(status):
            self._done(t, pid, None if t.state != "checking" else "exited before its exec")
            self._forget(t)
            return
        event = ptrace.stop_event(status)
        if event == ptrace.PTRACE_EVENT_EXEC:
            reason = self._verify(pid, t.expect) if t.expect else None
            if reason:
                _kill(pid)
                self._done(t, pid, reason)
                # stay attached until it is gone: a killed tracee reports its exit to us
                t.state = "dying"
                t.deadline = 0.0
                self.by_pid[pid] = t
                return
            self._done(t, pid, None)
            self._detach(t, pid, 0)
            return
        if event == ptrace.PTRACE_EVENT_STOP and t.state == "redirecting":
            self._cont(t, pid, 0)  # a group stop or a stray interrupt: go on to the exec
            return
        if event == ptrace.PTRACE_EVENT_STOP:
            # the interrupt after a failed exec (or after a refusal): nothing ran
            self._done(t, pid, None)
            self._detach(t, pid, 0)
            return
        sig = os.WSTOPSIG(status)  # a signal on its way: deliver it
        if t.state == "redirecting":
            self._cont(t, pid, sig)
        else:
            self._done(t, pid, None)
            self._detach(t, pid, sig)

    @staticmethod
    def _verify(pid: int, expect: Expect) -> str | None:
        try:
            st = os.stat(f"/proc/{pid}/exe")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = tuple(a.decode("utf-8", "surrogateescape")
                                for a in f.read().split(b"\0")[:-1])
        except OSError as e:
            return f"cannot read the new program ({e.strerror})"
        if expect.identity and (st.st_dev, st.st_ino) not in expect.identity:
            return "the program run is not the one the policy allowed"
        if expect.script is None:
            if cmdline != expect.argv:
                return "the arguments run are not the ones the policy allowed"
            return None
        # a `#!` script: the kernel runs [interpreter, its argument?, the script's path
        # as given, argv[1:]...]; /proc/PID/exe is the interpreter
        tail = len(expect.argv) - 1
        if len(cmdline) < tail + 2 or (tail and cmdline[-tail:] != expect.argv[1:]):
            return "the arguments run are not the ones the policy allowed"
        script = cmdline[len(cmdline) - tail - 1]
        if not script.startswith("/"):
            script = os.path.normpath(os.path.join(pm.cwd_of(pid) or "/", script))
        if script != expect.path:
            return "the script run is not the one the policy allowed"
        return None

    def _done(self, t: Traced, pid: int, reason: str | None) -> None:
        if t.expect is not None and t.expect.on_done is not None:
            cb, t.expect.on_done = t.expect.on_done, None
            cb(pid, reason)

    def _detach(self, t: Traced, pid: int, sig: int) -> None:
        try:
            ptrace.detach(pid, sig)
        except OSError:
            pass
        self._forget(t)

    def _cont(self, t: Traced, pid: int, sig: int) -> None:
        try:
            ptrace.cont(pid, sig)
        except OSError:
            self._forget(t)

    def _forget(self, t: Traced) -> None:
        for key in (t.tid, t.tgid):
            if self.by_pid.get(key) is t:
                del self.by_pid[key]

    def close(self) -> None:
        """The monitor is stopping: threads it holds are let go only after their check;
        PTRACE_O_EXITKILL kills the rest when we exit."""
        end = time.monotonic() + 1.0
        while self.by_pid and time.monotonic() < end:
            self.reap()
            time.sleep(0.001)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _block(path: str, argv: list[str], env: list[bytes] | None, width: int,
           sp: int) -> tuple[bytes, int, int, int]:
    """The strings and pointer arrays of a redirected exec, laid out below `sp`.
    (block, its address = the path's, argv's, envp's or 0)."""
    strings = [path.encode("utf-8", "surrogateescape")]
    strings += [a.encode("utf-8", "surrogateescape") for a in argv]
    strings += env or []
    blob = b"".join(s + b"\0" for s in strings)
    pad = (-len(blob)) % 8
    n_ptrs = len(argv) + 1 + ((len(env) + 1) if env is not None else 0)
    size = len(blob) + pad + n_ptrs * width
    base = (sp - size) & ~0xF
    offsets = []
    off = 0
    for s in strings:
        offsets.append(base + off)
        off += len(s) + 1
    ptrs_at = base + len(blob) + pad
    argv_ptrs = offsets[1:1 + len(argv)] + [0]
    env_ptrs = (offsets[1 + len(argv):] + [0]) if env is not None else []
    table = b"".join(p.to_bytes(width, "little") for p in argv_ptrs + env_ptrs)
    env_at = ptrs_at + len(argv_ptrs) * width if env is not None else 0
    return blob + b"\0" * pad + table, base, ptrs_at, env_at
