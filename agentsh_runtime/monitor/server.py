"""The per-container monitor process: answers seccomp notifications with the policy.

One process per container with a policy, started by `create` before the container's
init exists, outside the container's cgroup, with no stdio of the caller's. It owns
every seccomp listener fd of the container (the init's and those of processes
started by `exec`), the approval queue and the event log. If it dies, the kernel
fails every notified syscall: enforcement stays closed.

Exec time-of-check: after a CONTINUE the kernel reads path and argv again, so a
thread sharing the memory could swap them. When the caller's memory is shared (more
threads, a vfork child, a clone(CLONE_VM) relative) the exec is held under ptrace
(execstop.py): it stops at PTRACE_EVENT_EXEC before the new program runs an
instruction, and /proc/PID/exe and its argv are compared with what was decided. A
caller whose memory nobody else shares cannot have its strings swapped. As a second
line, every allowed exec is remembered with the identity (device, inode) of the
file(s) it may run; the process connector reports each completed exec, and a process
whose /proc/PID/exe is not one of them is killed (SIGKILL) with an event.
"""

from __future__ import annotations

import errno
import os
import selectors
import signal
import socket
import threading
import time

from .. import jsonio
from ..linux import proc, procmem, seccomp
from ..linux.procconn import PROC_EVENT_EXEC, PROC_EVENT_EXIT, ExecEvents
from ..linux.syscalls import name_of as syscall_name
from ..policy.engine import Decision, Engine, ExecQuery, SignalQuery, UnixQuery
from .events import EventWriter
from .execcheck import depth_of, read_exec
from .execstop import ExecTracer, Expect, mm_shared
from .signals import build_targets, targets_of
from .unixsock import OPS, normalise, unix_targets

OPEN_CALLS = ("open", "openat", "openat2", "creat")
SIGNAL_CALLS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                "pidfd_send_signal")

SOCK_NAME = "monitor.sock"
DEFAULT_APPROVAL_TIMEOUT = 300.0


class Pending:
    """A notification held for a person's answer; on_allow lets it go ahead."""

    __slots__ = ("req", "listener", "notif_id", "pid", "deadline", "event", "on_allow",
                 "on_deny")

    def __init__(self, req: str, listener: int, notif_id: int, pid: int, deadline: float,
                 event: dict, on_allow, on_deny=None) -> None:  # noqa: ANN001
        self.req, self.listener, self.notif_id, self.pid = req, listener, notif_id, pid
        self.deadline, self.event, self.on_allow = deadline, event, on_allow
        self.on_deny = on_deny  # a hold that is no seccomp notification (a file operation)


class Monitor:
    def __init__(self, container_id: str, engine: Engine, mode: str, writer: EventWriter,
                 state_dir: str, max_pending: int = 16, procs_file: str = "",
                 cgroup_paths: dict | None = None) -> None:
        self.cid = container_id
        self.engine = engine
        self.mode = mode  # enforce | audit
        self.events = writer
        self.state_dir = state_dir
        self.max_pending = max_pending
        self.procs_file = procs_file  # the container cgroup's cgroup.procs
        self.cgroup_paths = cgroup_paths or {}
        lim = engine.policy.resource_limits
        self.command_timeout = lim.command_timeout
        self.session_timeout = lim.session_timeout
        self.idle_timeout = lim.idle_timeout
        self.started_at = 0.0  # monotonic, when the init ran the container's program
        self.last_activity = time.monotonic()
        self.exec_started: dict[int, float] = {}  # pid -> monotonic exec time (timeouts)
        self.sel = selectors.DefaultSelector()
        self.listeners: set[int] = set()
        self.pending: dict[str, Pending] = {}
        # pid -> the identities of each exec allowed and not yet seen by the process
        # connector, oldest first (its events lag behind our answers)
        self.allowed_exec: dict[int, list[set[tuple[int, int]]]] = {}
        self.allowed_at: dict[int, float] = {}  # when (an exec the kernel then refused)
        self.running: dict[int, tuple[float, tuple[str, ...]]] = {}  # pid -> (start, argv)
        self.init_pid = 0
        self.pidns_ino = 0
        self.stop = False
        self._next_housekeeping = 0.0
        self.started = False
        self._req = 0
        self.exec_events: ExecEvents | None = None
        self.task_exits = None
        self.exit_usage: dict[int, object] = {}  # tgid -> taskstats Usage
        # tgid -> (started, argv, exit code, emit-by): waits briefly for its taskstats
        self.finishing: dict[int, tuple[float, tuple[str, ...], int, float]] = {}
        self.tracer = ExecTracer()
        self.files = None  # files.FileServer when file_rules need FUSE
        self.kernel = None  # kernelopen.KernelOpens when file_rules reach kernel subtrees
        self.net = None  # net.service.NetService: the proxies in the container's netns
        self.net_joined = ""  # its path when the container joined it (it outlives us)
        self.net_remove_at_exit = False  # a hook's monitor: no `delete` removes the chains
        self.net_scope = None  # policy.netchain.Scope: its chains' name, NFLOG group
        # the read and write rules the native open path reports by index (no FUSE server)
        self._open_rules: tuple[list, list] = ([], [])
        self._batch_at = 0.0  # when the muted host-wide event sockets are read again
        self.fast = None  # execfast.FastExec once the init's listener came
        self._files_blob: bytes | None = None  # the native open path's configuration
        self.fast_tags: list[tuple[str, str, str, str | None]] = []
        self.fast_tag_of: dict[tuple[str, str, str, str | None], int] = {}

    # -- set-up ------------------------------------------------------------------------
    def serve(self, handoff: socket.socket) -> None:
        ctl_path = os.path.join(self.state_dir, SOCK_NAME)
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.unlink(ctl_path)
        except FileNotFoundError:
            pass
        # engines' state roots are deep (Docker: .../runtime-runc/moby/<64 hex>): bind
        # by a relative name, sun_path holds 108 bytes
        os.chdir(self.state_dir)
        ctl.bind(SOCK_NAME)
        os.chdir("/")
        os.chmod(ctl_path, 0o600)
        ctl.listen(16)
        ctl.setblocking(False)
        self.sel.register(ctl, selectors.EVENT_READ, ("ctl", ctl))
        handoff.setblocking(False)
        self.sel.register(handoff, selectors.EVENT_READ, ("handoff", handoff))
        try:
            self.exec_events = ExecEvents()
            self.sel.register(self.exec_events, selectors.EVENT_READ, ("proc", None))
        except OSError as e:
            self.events.emit("monitor_warning", fields={
                "message": f"no process connector ({e.strerror}): exec results unchecked"})
        try:
            from ..linux.taskstats import TaskExits

            self.task_exits = TaskExits()
            self.sel.register(self.task_exits, selectors.EVENT_READ, ("taskstats", None))
        except OSError:
            self.task_exits = None  # command_finished then reads /proc, which can be late
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stop", True))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # a tracee's stop comes as SIGCHLD: through a pipe, into the select loop
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.sel.register(wake_r, selectors.EVENT_READ, ("signal", wake_r))
        self.events.emit("container_created", fields={"mode": self.mode,
                                                      "policy": self.engine.policy.name})
        try:
            self._loop()
        finally:
            for p in list(self.pending.values()):
                self._answer_pending(p, allow=False, reason="monitor stopping")
            self.tracer.close()
            if self.files is not None:
                self.files.stop()
            if self.net is not None:
                self.net.stop()
                if self.net_remove_at_exit and os.path.exists(self.net_joined):
                    # a namespace that outlives the container, and no `delete` of ours
                    from ..linux.iptables import restore
                    from ..policy.netchain import remove_text

                    text = remove_text(self.net_scope)
                    restore({4: text, 6: text}, netns_path=self.net_joined, check=False)
            if self.fast is not None:
                self.fast.close()
            self._book_init_exit()
            self._emit_finished(force=True)
            self.events.flush()
            try:
                os.unlink(ctl_path)
            except FileNotFoundError:
                pass

    def _loop(self) -> None:
        while not self.stop:
            timeout = 0.2
            if self._batch_at:
                wait = self._batch_at - time.monotonic()
                if wait <= 0:
                    self._unmute_batched()
                else:
                    timeout = min(timeout, wait)
            if self.pending:
                soonest = min(p.deadline for p in self.pending.values()) - time.monotonic()
                timeout = max(0.0, min(timeout, soonest))
            if self.tracer.by_pid:
                timeout = min(timeout, 0.05)
            for key, _ in self.sel.select(timeout):
                kind, obj = key.data
                try:
                    if kind == "listener":
                        self._on_listener(obj)
                    elif kind == "ctl":
                        self._accept(obj)
                    elif kind == "handoff":
                        self._on_handoff(obj)
                    elif kind == "proc":
                        self._on_proc_events()
                        self._mute_batched()
                    elif kind == "taskstats":
                        self._on_task_exits()
                        self._mute_batched()
                    elif kind == "fast":
                        self._on_fast()
                    elif kind == "file-approvals":
                        self._on_held(self.files)
                    elif kind == "net-approvals":
                        self._on_held(self.net)
                    elif kind == "signal":
                        try:
                            os.read(obj, 512)
                        except BlockingIOError:
                            pass
                        self.tracer.reap()
                except OSError as e:
                    if kind == "listener" and e.errno in (errno.ENOENT, errno.EBADF):
                        continue
                    self.events.emit("monitor_warning", fields={"message": f"{kind}: {e}"})
            now = time.monotonic()
            if now < self._next_housekeeping and not self.pending:
                continue  # a burst of notifications: answer them first
            self._next_housekeeping = now + 0.05
            if self.fast is not None:
                self._on_fast()  # answered natively, queued quietly: book and log them
            if self.tracer.by_pid:
                self.tracer.reap()
            self._expire_pending()
            self._emit_finished()
            self._enforce_time_limits()
            self.events.maybe_flush()
            if self.init_pid and not self.pending and not os.path.exists(
                    f"/proc/{self.init_pid}/ns") and not self.listeners:
                self.stop = True  # the container is gone: every filter's owner exited

    # -- host-wide event sockets, read in batches ----------------------------------------
    # The process connector and taskstats report every exec and exit on the host: one
    # wake-up per message costs the container's CPUs ~50 us per exec on a 2-vCPU VM.
    # After one is read, both are left alone for BATCH seconds and then read together.
    BATCH = 0.005

    def _mute_batched(self) -> None:
        if self._batch_at:
            return
        self._batch_at = time.monotonic() + self.BATCH
        for src in (self.exec_events, self.task_exits):
            if src is not None:
                try:
                    self.sel.unregister(src)
                except (KeyError, ValueError):
                    pass

    def _book_init_exit(self, patience: float = 0.2) -> None:
        """The loop ends once the init's namespaces are gone, but do_exit drops them
        before the process connector reports the exit: wait briefly for that report,
        so that container_stopped (with the exit code) is written, not lost."""
        init = self.init_pid
        if self.exec_events is None or init not in self.running or \
                os.path.exists(f"/proc/{init}/ns"):
            return
        deadline = time.monotonic() + patience
        with selectors.DefaultSelector() as sel:
            sel.register(self.exec_events, selectors.EVENT_READ)
            while init in self.running:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return
                self._on_proc_events()

    def _unmute_batched(self) -> None:
        self._batch_at = 0.0
        if self.exec_events is not None:
            self.sel.register(self.exec_events, selectors.EVENT_READ, ("proc", None))
            self._on_proc_events()
        if self.task_exits is not None:
            self.sel.register(self.task_exits, selectors.EVENT_READ, ("taskstats", None))
            self._on_task_exits()

    # -- listener fds ------------------------------------------------------------------
    def add_listener(self, fd: int, pid: int) -> None:
        os.set_blocking(fd, False)
        self.listeners.add(fd)
        if not self.init_pid:
            self.init_pid = pid
            try:
                self.pidns_ino = os.stat(f"/proc/{pid}/ns/pid").st_ino
            except OSError:
                self.pidns_ino = 0
            self._start_fast_path()
        if self.fast is not None:
            self.fast.add_listener(fd)  # its thread polls the fd and queues records
        else:
            self.sel.register(fd, selectors.EVENT_READ, ("listener", fd))

    def _start_fast_path(self) -> None:
        """The native thread that answers repeated execs (execfast.c): the decision for a
        (path, argv, depth) on the same file is remembered once Python has made it."""
        if os.environ.get("AGENTSH_NO_FAST_EXEC") == "1":
            return
        from . import execfast

        if not execfast.available():
            self.events.emit("monitor_warning", fields={
                "message": "native exec fast path not built (make native): execs are "
                           "answered in Python, slower"})
            return
        procs = self.procs_file
        for path in self.cgroup_paths.values():
            # a cgroup2 file can be kept open and re-read; a v1 one is reopened each time
            if os.path.exists(os.path.join(path, "cgroup.controllers")):
                procs = os.path.join(path, "cgroup.procs")
                break
        try:
            self.fast = execfast.FastExec(procs, self.engine.command_uses_depth(),
                                          self.init_pid, self.pidns_ino,
                                          quiet_handled=True)
        except OSError as e:
            self.events.emit("monitor_warning", fields={"message": f"no fast path: {e}"})
            return
        self.sel.register(self.fast.fileno(), selectors.EVENT_READ, ("fast", None))
        if self.files is not None:
            self.files.native_tid = self.fast.thread_tid
        if self._files_blob is not None:
            try:
                self.fast.set_files(self._files_blob)
            except OSError as e:
                self.events.emit("monitor_warning", fields={
                    "message": f"native open path: {e}: every open goes through FUSE"})

    def _on_fast(self) -> None:
        from .execfast import FILE_OPEN, HANDLED, SLOW

        assert self.fast is not None
        for rec in self.fast.drain():
            if rec.dropped:
                self.events.emit("monitor_warning", fields={
                    "message": f"{rec.dropped} notifications refused or events lost: "
                               "queue full"})
            if rec.kind == FILE_OPEN:
                if self.files is not None:
                    self.files.fast_open_event(rec)
                else:
                    from .openfast import open_event

                    self.events.emit("file_open", **open_event(rec, *self._open_rules))
            elif rec.kind == HANDLED:
                self._on_fast_handled(rec)
            elif rec.kind == SLOW:
                self.last_activity = time.monotonic()
                self._on_notif(rec.listener, rec.notif(), rec)
            else:
                self.listeners.discard(rec.listener)  # closed by the native side

    def _on_fast_handled(self, rec) -> None:  # noqa: ANN001 - an execfast.Record
        """An exec the native thread answered from a remembered decision: the books and
        the event, as if we had answered it."""
        self.last_activity = time.monotonic()
        decision, effective, rule, message = self.fast_tags[rec.tag]
        t = _FastTarget(rec)
        if effective == "allow":
            pid = rec.pid  # single-threaded (the native side checked): pid is the tgid
            self._expect_exec(pid, {(rec.dev, rec.ino)})
            self.running[pid] = (time.time(), t.argv)
            if pid == self.init_pid and not self.started:
                self.started = True
                self.started_at = time.monotonic()
                self.events.emit("container_started", pid=pid, argv=list(t.argv))
        comm = _exec_comm(t.path) if effective == "allow" else None
        self._exec_event(rec.pid, comm, t, None, decision, effective, rule, message, 0.0,
                         latency_us=rec.latency_ns // 1000)

    def _remember(self, rec, target: object, decision: str, effective: str,  # noqa: ANN001
                  rule: str, message: str | None) -> None:
        """Let the native thread answer this exact exec next time."""
        if self.fast is None or rec is None or not rec.fastpathable:
            return
        t = target
        if (t.path != rec.path or t.argv != rec.argv  # type: ignore[attr-defined]
                or t.resolved != rec.resolved or t.interpreter  # type: ignore[attr-defined]
                or (rec.dev, rec.ino) not in t.identity  # type: ignore[attr-defined]
                or (t.depth if self.engine.command_uses_depth() else 0)  # type: ignore[attr-defined]
                != rec.depth):
            return  # what we read differs from what the native side saw: not cacheable
        key = (decision, effective, rule, message)
        tag = self.fast_tag_of.get(key)
        if tag is None:
            tag = len(self.fast_tags)
            self.fast_tags.append(key)
            self.fast_tag_of[key] = tag
        try:
            self.fast.remember(rec, 0 if effective == "allow" else errno.EACCES, tag)
        except OSError:
            pass

    def _drop_listener(self, fd: int) -> None:
        self.listeners.discard(fd)
        try:
            self.sel.unregister(fd)
        except (KeyError, ValueError):
            pass
        os.close(fd)

    def _on_listener(self, fd: int) -> None:
        self.last_activity = time.monotonic()
        try:
            n = seccomp.notif_recv(fd)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.EINTR, errno.EAGAIN) and not _hung_up(fd):
                return  # the caller went away before we read it
            self._drop_listener(fd)  # no process holds the filter any more
            return
        self._on_notif(fd, n)

    def _on_notif(self, fd: int, n: seccomp.Notif, rec=None) -> None:  # noqa: ANN001
        name = syscall_name(n.arch, n.nr)
        if name in ("execve", "execveat"):
            self._on_exec(fd, n, rec)
        elif name in SIGNAL_CALLS:
            self._on_signal(fd, n, name)
        elif name in OPS:
            self._on_unix(fd, n, name)
        elif name in OPEN_CALLS:
            if self.kernel is None:
                self._respond(fd, n.id)  # the kernel opens it, through FUSE
            else:
                self._on_open(fd, n)
        else:
            # a syscall our filter notifies on that no rule kind here handles: fail closed
            self._respond(fd, n.id, errno.EPERM)

    def _on_open(self, fd: int, n: seccomp.Notif) -> None:
        """An open the native side did not settle: decided here if it ends in a kernel
        subtree (kernelopen.py), else FUSE or a native subtree decides; then the monitor
        opens it for the caller (openself.c, in a thread: a FIFO may wait), so the kernel
        never reads the name again. Without the native library: CONTINUE."""
        assert self.kernel is not None
        comm = _comm(n.pid)
        out = self.kernel.decide(n.pid, n.arch, n.nr, tuple(n.args), comm)
        ev = out.event

        def open_it() -> None:
            if out.target is None or self.fast is None or _continue_opens():
                self._respond(fd, n.id)
                return
            if not _OPENERS.acquire(blocking=False):
                # as many opens waiting (FIFOs) as the monitor lets a container hold
                self._respond(fd, n.id, errno.EAGAIN)
                return
            threading.Thread(target=_open_for, daemon=True, name="open-for",
                             args=(fd, n.id, n.pid, out.target, out.host, out.flags,
                                   out.mode)).start()

        if out.approve is not None:
            ask = {"pid": n.pid, "comm": comm, "operation": out.op, "path": out.path,
                   "rule": out.approve.rule, "message": out.approve.message}

            def allowed() -> None:
                if self.files is not None:
                    self.files.preapprove(n.pid, out.op, out.path)
                open_it()

            if self._queue(fd, n, out.approve, ask, allowed):
                return
            if ev is not None:
                ev["policy"]["effective_decision"] = "deny"
                ev["policy"]["message"] = "too many pending approvals"
            self._respond(fd, n.id, errno.EACCES)
        elif out.error:
            self._respond(fd, n.id, out.error)
        else:
            open_it()
        if ev is not None:
            self.events.emit("file_open", **ev)

    def _respond(self, fd: int, notif_id: int, error: int = 0) -> None:
        try:
            if error:
                seccomp.notif_send(fd, notif_id, error=error)
            else:
                seccomp.notif_continue(fd, notif_id)
        except OSError as e:
            if e.errno != errno.ENOENT:  # ENOENT: the caller was killed meanwhile
                raise

    # -- exec --------------------------------------------------------------------------
    def _on_exec(self, fd: int, n: seccomp.Notif, rec=None) -> None:  # noqa: ANN001
        t0 = time.perf_counter()
        comm = None  # read after the answer: the caller waits for us until then
        try:
            target = read_exec(n.pid, n.arch, n.nr, tuple(n.args))
        except procmem.TooLong as e:
            self._respond(fd, n.id, errno.E2BIG)
            self._exec_event(n.pid, comm, None, None, "deny", "deny", "argv-too-long",
                             str(e), t0)
            return
        except OSError:
            self._respond(fd, n.id, errno.EACCES)
            return
        if not seccomp.notif_id_valid(fd, n.id):
            return  # the process died (or its pid was reused) while we read it
        target.depth = depth_of(n.pid, self.init_pid, self.pidns_ino) if self.init_pid else 0
        wrote = self.tracer.redirected(n.pid)
        if wrote is not None:
            self._on_redirected_exec(fd, n, target, wrote, t0)
            return
        extra: tuple = ()
        if target.interpreter:
            extra = (target.interpreter,)
            if target.interpreter_resolved and \
                    target.interpreter_resolved != target.interpreter[0]:
                # an interpreter is an exec too: checked by its resolved path as well
                extra += ((target.interpreter_resolved, target.interpreter[1]),)
        d = self.engine.decide("command", ExecQuery(target.path, target.argv, target.resolved,
                                                   target.depth, extra))
        decision = d.decision
        effective = decision
        if self.mode == "audit" or decision in ("allow", "audit"):
            effective = "allow"
        elif decision == "approve":
            self._hold(fd, n, target, d, _comm(n.pid), t0)
            return
        elif decision == "redirect" and d.redirect is not None:
            why = self._redirect(fd, n, target, d)
            if why is None:
                return
            effective = "deny"  # could not be carried out: fail closed
            d = d._replace(message=f"redirect not possible: {why}")
        else:
            effective = "deny"  # soft_delete, absorb: not command decisions; or deny
        if decision in ("allow", "audit", "deny"):
            self._remember(rec, target, decision, effective, d.rule, d.message)
        if effective == "allow":
            if not self._allow_exec(fd, n.id, n.pid, target):
                effective = "deny"
                d = d._replace(message="the exec of a process whose memory is shared "
                                       "cannot be held for its check")
            elif n.pid == self.init_pid and not self.started:
                self.started = True
                self.started_at = time.monotonic()
                self.events.emit("container_started", pid=n.pid,
                                 argv=list(target.argv))
        else:
            self._respond(fd, n.id, errno.EACCES)
        self._exec_event(n.pid, comm, target, d, decision, effective, d.rule, d.message, t0)

    def _allow_exec(self, fd: int, notif_id: int, pid: int, target: object) -> bool:
        """Answer CONTINUE; held under ptrace for the check when the memory is shared.
        False (and the exec refused) when it must be held and cannot be."""
        # the notification names the thread; after the exec the process connector names
        # the process (a thread's exec makes it the group leader): key by the process
        from ..linux.proc import tgid_of

        tgid = tgid_of(pid) or pid
        held = None
        if mm_shared(pid, self.procs_file):
            held = self.tracer.seize(pid, tgid)
            if held is None:
                self._respond(fd, notif_id, errno.EACCES)
                return False
        if held is None:  # a held exec is checked at its exec stop instead
            self._expect_exec(tgid, set(target.identity))  # type: ignore[attr-defined]
        self.running[tgid] = (time.time(), target.argv)  # type: ignore[attr-defined]
        try:
            self._respond(fd, notif_id, 0)
        except OSError:
            if held is not None:
                self.tracer.release(held)
            raise
        if held is not None:
            interp = target.interpreter  # type: ignore[attr-defined]
            self.tracer.check_after_continue(held, Expect(
                set(target.identity), target.argv, target.path,  # type: ignore[attr-defined]
                interp[1] if interp else None, self._exec_checked))
        return True

    def _expect_exec(self, tgid: int, identities: set[tuple[int, int]]) -> None:
        self.allowed_exec.setdefault(tgid, []).append(identities)
        self.allowed_at[tgid] = time.monotonic()

    def _exec_checked(self, pid: int, reason: str | None) -> None:
        if reason is None:
            return
        self.events.emit("execve", pid=pid, operation="exec",
                         path=_readlink(f"/proc/{pid}/exe"),
                         policy={"decision": "deny", "effective_decision": "deny",
                                 "rule": "exec-changed-after-check"},
                         effective_action="blocked",
                         fields={"reason": f"{reason}: killed at its exec, before it ran"})
        self.events.flush()

    def _redirect(self, fd: int, n: seccomp.Notif, target: object, d: object) -> str | None:
        """Carry out a command rule's redirect; None when done (no answer is due: the
        thread restarts its execve with the new program), else why not."""
        from .execcheck import find_in_root

        spec = d.redirect  # type: ignore[attr-defined]
        argv = spec.argv(target.argv)  # type: ignore[attr-defined]
        path = find_in_root(n.pid, spec.command)
        if path is None:
            return f"{spec.command} not found in the container"
        from ..linux.proc import tgid_of

        tgid = tgid_of(n.pid) or n.pid
        why = self.tracer.redirect(n.pid, tgid, n.arch, n.nr, tuple(n.args), path, argv,
                                   spec.environment)
        if why is not None:
            if seccomp.notif_id_valid(fd, n.id):
                self._respond(fd, n.id, errno.EACCES)
            return why
        self.events.emit("command_redirect", pid=n.pid, operation="exec",
                         path=target.path, argv=list(target.argv),  # type: ignore[attr-defined]
                         policy={"decision": "redirect", "effective_decision": "redirect",
                                 "rule": d.rule},  # type: ignore[attr-defined]
                         effective_action="redirected",
                         fields={"redirect_to": {"command": path, "argv": argv,
                                                 "environment": sorted(
                                                     k for k, _ in spec.environment)},
                                 "mode": self.mode})
        return None

    def _on_redirected_exec(self, fd: int, n: seccomp.Notif, target: object,
                            wrote: tuple[str, tuple[str, ...]], t0: float) -> None:
        """The execve a redirect rewrote, restarted: it must be exactly what we wrote
        (another thread could have changed the strings), and runs under the check."""
        held = self.tracer.by_pid[n.pid]
        path, argv = wrote
        d = Decision("redirect", "redirect-target", None, None, None, "command")
        if target.path != path or target.argv != argv:  # type: ignore[attr-defined]
            self.tracer.release(held)
            self._respond(fd, n.id, errno.EACCES)
            self._exec_event(n.pid, None, target, d, "redirect", "deny", d.rule,
                             "the redirected exec was changed before it ran", t0)
            return
        from ..linux.proc import tgid_of

        tgid = tgid_of(n.pid) or n.pid
        self.running[tgid] = (time.time(), target.argv)  # type: ignore[attr-defined]
        held.redirect = None
        try:
            self._respond(fd, n.id, 0)
        except OSError:
            self.tracer.release(held)
            raise
        interp = target.interpreter  # type: ignore[attr-defined]
        self.tracer.check_after_continue(held, Expect(
            set(target.identity), target.argv, target.path,  # type: ignore[attr-defined]
            interp[1] if interp else None, self._exec_checked))
        self._exec_event(n.pid, None, target, d, "redirect", "allow", d.rule,
                         "the program a command rule redirected to", t0)

    def _exec_event(self, pid: int, comm: str | None, target: object, d: object,
                    decision: str, effective: str, rule: str | None, message: str | None,
                    t0: float, latency_us: int | None = None) -> None:
        latency = int((time.perf_counter() - t0) * 1e6) if latency_us is None else latency_us
        if comm is None:
            comm = _comm(pid)
            if comm is None and effective == "allow" and getattr(target, "path", None):
                comm = _exec_comm(target.path)  # type: ignore[attr-defined] # gone already
        pol = {"decision": decision, "effective_decision": effective, "rule": rule}
        if message:
            pol["message"] = message
        self.events.emit(
            "execve", pid=pid, comm=comm, operation="exec",
            path=getattr(target, "path", None), path2=getattr(target, "resolved", None),
            argv=list(getattr(target, "argv", ()) or ()), policy=pol,
            effective_action="allowed" if effective == "allow" else "blocked",
            latency_us=latency,
            fields={"depth": getattr(target, "depth", None), "mode": self.mode})

    # -- signals -----------------------------------------------------------------------
    def _on_task_exits(self) -> None:
        assert self.task_exits is not None
        for kind, ident, usage in self.task_exits.read():
            # a whole thread group's totals win over its leader thread's own
            if ident in self.running or ident in self.finishing:
                if kind == "tgid" or ident not in self.exit_usage:
                    self.exit_usage[ident] = usage

    def _emit_finished(self, force: bool = False) -> None:
        now = time.monotonic()
        for tgid, (started, argv, code, emit_by) in list(self.finishing.items()):
            usage = self.exit_usage.pop(tgid, None)
            if usage is None and now < emit_by and not force:
                continue
            self.finishing.pop(tgid)
            fields: dict = {"exit_code": code,
                            "duration_ms": int((time.time() - started) * 1000)}
            if usage is not None:
                fields.update(cpu_user_ms=usage.utime_us // 1000,
                              cpu_system_ms=usage.stime_us // 1000,
                              memory_peak_kb=usage.peak_rss_kb)
            self.events.emit("command_finished", pid=tgid, argv=list(argv), fields=fields)

    def _container_usage(self) -> dict:
        from ..cgroups.manager import CgroupSet
        from ..cgroups.stats import usage_summary

        try:
            user, system, peak = usage_summary(CgroupSet(dict(self.cgroup_paths)))
        except (OSError, ValueError):
            return {}
        return {"cpu_user_ms": user, "cpu_system_ms": system,
                "memory_peak_kb": peak // 1024, "scope": "container"}

    def _in_container(self, pid: int) -> bool:
        try:
            return os.stat(f"/proc/{pid}/ns/pid").st_ino == self.pidns_ino
        except OSError:
            return False

    def _container_pids(self) -> list[int]:
        try:
            with open(self.procs_file) as f:
                return [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return []

    def _on_signal(self, fd: int, n: seccomp.Notif, name: str) -> None:
        t0 = time.perf_counter()
        container = self._container_pids()
        res = targets_of(name, tuple(n.args), n.pid, container, self.init_pid)
        if res is None or not res[1]:
            self._respond(fd, n.id, 0)  # no such target: the kernel gives ESRCH itself
            return
        sig, pids = res
        targets = build_targets(pids, n.pid, set(container), self.init_pid)
        best = None
        hit = None
        for t in targets:
            d = self.engine.decide("signal", SignalQuery(sig, t.types, t.comm, t.host_pid))
            if best is None or d.strictness > best.strictness:
                best, hit = d, t
        assert best is not None and hit is not None
        decision = best.decision
        effective = "allow" if self.mode == "audit" or decision in ("allow", "audit") \
            else decision
        comm = _comm(n.pid)
        event = {"pid": n.pid, "comm": comm, "operation": "signal", "signal": sig,
                 "target_pid": hit.host_pid, "rule": best.rule, "message": best.message}
        etype = "signal_sent"
        if effective == "allow":
            self._respond(fd, n.id, 0)
        elif effective == "absorb":
            seccomp.notif_send(fd, n.id, val=0, error=0)  # reported as sent, not delivered
            etype = "signal_absorbed"
        elif effective == "redirect" and isinstance(best.redirect, int):
            for t in targets:
                try:
                    os.kill(t.host_pid, best.redirect)
                except OSError:
                    pass
            seccomp.notif_send(fd, n.id, val=0, error=0)
            etype = "signal_redirected"
        elif effective == "approve":
            if self._queue(fd, n, best, event, lambda: self._respond(fd, n.id, 0)):
                return
            self._respond(fd, n.id, errno.EPERM)
            effective, etype = "deny", "signal_blocked"
        else:
            self._respond(fd, n.id, errno.EPERM)
            effective, etype = "deny", "signal_blocked"
        self.events.emit(etype, pid=n.pid, comm=comm, operation=name, signal=sig,
                         target_pid=hit.host_pid,
                         policy={"decision": decision, "effective_decision": effective,
                                 "rule": best.rule},
                         effective_action="blocked" if effective == "deny" else "allowed",
                         latency_us=int((time.perf_counter() - t0) * 1e6),
                         fields={"target_types": sorted(hit.types), "targets": len(targets),
                                 "redirect_to": best.redirect if etype ==
                                 "signal_redirected" else None})

    # -- unix sockets ------------------------------------------------------------------
    def _on_unix(self, fd: int, n: seccomp.Notif, name: str) -> None:
        t0 = time.perf_counter()
        try:
            paths = unix_targets(name, n.pid, n.arch, n.nr, tuple(n.args))
        except (OSError, procmem.TooLong):
            self._respond(fd, n.id, errno.EACCES)
            return
        if not paths:
            self._respond(fd, n.id, 0)  # not an AF_UNIX address: not ours to decide
            return
        op = OPS[name]
        best = None
        path = ""
        for p in paths:
            p = normalise(p, n.pid)
            d = self.engine.decide("unix_socket", UnixQuery(op, p))
            if best is None or d.strictness > best.strictness:
                best, path = d, p
        assert best is not None
        decision = best.decision
        effective = "allow" if self.mode == "audit" or decision in ("allow", "audit") \
            else decision
        comm = _comm(n.pid)
        if effective == "allow":
            self._respond(fd, n.id, 0)
        elif effective == "approve":
            event = {"pid": n.pid, "comm": comm, "operation": op, "path": path,
                     "rule": best.rule, "message": best.message}
            if self._queue(fd, n, best, event, lambda: self._respond(fd, n.id, 0)):
                return
            self._respond(fd, n.id, errno.EACCES)
            effective = "deny"
        else:
            self._respond(fd, n.id, errno.EACCES)
            effective = "deny"
        self.events.emit("unix_socket_op", pid=n.pid, comm=comm, operation=op, path=path,
                         policy={"decision": decision, "effective_decision": effective,
                                 "rule": best.rule},
                         effective_action="blocked" if effective == "deny" else "allowed",
                         latency_us=int((time.perf_counter() - t0) * 1e6),
                         fields={"syscall": name})

    # -- approvals ---------------------------------------------------------------------
    def _hold(self, fd: int, n: seccomp.Notif, target: object, d: object, comm: str | None,
              t0: float) -> None:
        event = {"pid": n.pid, "comm": comm, "operation": "exec",
                 "path": target.path, "argv": list(target.argv),  # type: ignore[attr-defined]
                 "rule": d.rule, "message": d.message}  # type: ignore[attr-defined]
        if not self._queue(fd, n, d, event,
                           lambda: self._allow_exec(fd, n.id, n.pid, target)):
            self._respond(fd, n.id, errno.EACCES)
            self._exec_event(n.pid, comm, target, d, "approve", "deny", d.rule,  # type: ignore[attr-defined]
                             "too many pending approvals", t0)

    def _queue(self, fd: int, n: seccomp.Notif, d: object, event: dict, on_allow) -> bool:  # noqa: ANN001
        if len(self.pending) >= self.max_pending:
            return False
        self._req += 1
        req = f"r{self._req}"
        timeout = d.timeout or DEFAULT_APPROVAL_TIMEOUT  # type: ignore[attr-defined]
        self.pending[req] = Pending(req, fd, n.id, n.pid, time.monotonic() + timeout, event,
                                    on_allow)
        self.events.emit("approval_requested", pid=n.pid, comm=event.get("comm"),
                         operation=event["operation"], path=event.get("path"),
                         argv=event.get("argv"), signal=event.get("signal"),
                         target_pid=event.get("target_pid"),
                         policy={"decision": "approve", "rule": d.rule,  # type: ignore[attr-defined]
                                 "approval": {"id": req, "mode": "cli"}},
                         fields={"timeout_s": timeout})
        self.events.flush()
        return True

    def _answer_pending(self, p: Pending, allow: bool, reason: str) -> None:
        self.pending.pop(p.req, None)
        if p.on_deny is not None:
            valid = True
            (p.on_allow if allow else p.on_deny)()
        else:
            try:
                valid = seccomp.notif_id_valid(p.listener, p.notif_id)
            except OSError:
                valid = False
        if valid and p.on_deny is None:
            if allow:
                p.on_allow()
            else:
                self._respond(p.listener, p.notif_id,
                              errno.EPERM if p.event["operation"] == "signal" else errno.EACCES)
        self.events.emit("approval_resolved", pid=p.pid, operation=p.event["operation"],
                         path=p.event.get("path"), argv=p.event.get("argv"),
                         signal=p.event.get("signal"), target_pid=p.event.get("target_pid"),
                         policy={"decision": "approve",
                                 "effective_decision": "allow" if allow else "deny",
                                 "rule": p.event["rule"],
                                 "approval": {"id": p.req, "mode": "cli"}},
                         effective_action="allowed" if allow and valid else "blocked",
                         fields={"reason": reason, "caller_alive": valid})
        self.events.flush()

    def _expire_pending(self) -> None:
        now = time.monotonic()
        for p in [p for p in self.pending.values() if p.deadline <= now]:
            self._answer_pending(p, allow=False, reason="timeout")

    # -- time limits (resource_limits.*_timeout) -----------------------------------------
    def _enforce_time_limits(self) -> None:
        now = time.monotonic()
        for pid, at in list(self.allowed_at.items()):
            if now - at > 10.0:  # CONTINUEd but the kernel refused the exec
                self.allowed_at.pop(pid, None)
                self.allowed_exec.pop(pid, None)
        if not self.started_at:
            return
        if self.command_timeout:
            for pid, started in list(self.exec_started.items()):
                # the container's own first process is bounded by session_timeout
                if pid != self.init_pid and now - started > self.command_timeout:
                    self.exec_started.pop(pid, None)
                    self._kill(pid, "command_timeout", self.command_timeout)
        if self.session_timeout and now - self.started_at > self.session_timeout:
            self.session_timeout = None
            self._kill(self.init_pid, "session_timeout", now - self.started_at)
        if self.idle_timeout and now - self.last_activity > self.idle_timeout:
            self.idle_timeout = None
            self._kill(self.init_pid, "idle_timeout", now - self.last_activity)

    def _kill(self, pid: int, limit: str, seconds: float) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.events.emit("command_killed", pid=pid, comm=_comm(pid),
                         policy={"decision": "deny", "rule": f"resource_limits.{limit}"},
                         effective_action="blocked",
                         fields={"limit": limit, "after_s": round(seconds, 1),
                                 "container": pid == self.init_pid})
        self.events.flush()

    # -- the process connector ---------------------------------------------------------
    def _on_proc_events(self) -> None:
        assert self.exec_events is not None
        if self.fast is not None:
            self._on_fast()  # an exec answered natively is booked before its exec event
        for what, tgid, code in self.exec_events.read():
            if what == PROC_EVENT_EXEC and (self.command_timeout or self.idle_timeout) \
                    and self._in_container(tgid):
                now = time.monotonic()
                self.last_activity = now
                self.exec_started[tgid] = now
            elif what == PROC_EVENT_EXIT:
                if tgid not in self.running and tgid not in self.exec_started:
                    continue  # not a process we track (the connector reports the host)
                if _still_running(tgid):
                    continue  # a thread's exec replaced the leader: not the process ending
                self.exec_started.pop(tgid, None)
            if what == PROC_EVENT_EXEC and tgid in self.allowed_exec:
                # this event may report an older exec than the last one we allowed (a
                # program that execs again at once): what runs now must be one of the
                # programs allowed since that older one
                expected = self.allowed_exec[tgid]
                allowed = set().union(*expected)
                empty = not expected[0]
                expected.pop(0)
                if not expected:
                    del self.allowed_exec[tgid]
                    self.allowed_at.pop(tgid, None)
                try:
                    st = os.stat(f"/proc/{tgid}/exe")
                    ran = (st.st_dev, st.st_ino)
                except OSError:
                    continue
                if not empty and ran not in allowed:
                    try:
                        os.kill(tgid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.events.emit("execve", pid=tgid, operation="exec",
                                     path=_readlink(f"/proc/{tgid}/exe"),
                                     policy={"decision": "deny", "effective_decision": "deny",
                                             "rule": "exec-changed-after-check"},
                                     effective_action="blocked",
                                     fields={"reason": "the program run is not the one the "
                                                       "policy allowed: killed"})
                    self.events.flush()
            elif what == PROC_EVENT_EXIT and tgid in self.running:
                started, argv = self.running.pop(tgid)
                exit_code = (128 + (code & 0x7F)) if code & 0x7F else (code >> 8) & 0xFF
                fields = {"exit_code": exit_code,
                          "duration_ms": int((time.time() - started) * 1000)}
                if self.task_exits is not None:
                    # its accounting comes on the taskstats socket: wait for it briefly
                    self.finishing[tgid] = (started, argv, exit_code, time.monotonic() + 0.1)
                    self._next_housekeeping = 0.0
                else:
                    usage = _usage(tgid)
                    if tgid == self.init_pid and self.cgroup_paths and (
                            not usage or "memory_peak_kb" not in usage):
                        usage = self._container_usage()  # reaped already: the totals
                    fields.update(usage)
                    self.events.emit("command_finished", pid=tgid, argv=list(argv),
                                     fields=fields)
                if tgid == self.init_pid:
                    self.events.emit("container_stopped", pid=tgid,
                                     fields={"exit_code": exit_code})

    # -- hand-off from create, and the control socket ------------------------------------
    def _on_handoff(self, sock: socket.socket) -> None:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 65536, 4)
        except BlockingIOError:
            return
        if not msg and not fds:
            self.sel.unregister(sock)
            sock.close()
            if not self.listeners and not self.init_pid:
                self.stop = True  # create failed before the container had a filter
            return
        reply = self._listener_message(msg, fds)
        if reply.get("reply"):
            try:
                sock.setblocking(True)
                sock.sendall((jsonio.dumps({k: v for k, v in reply.items() if k != "reply"})
                              + "\n").encode())
            except OSError:
                pass
            finally:
                sock.setblocking(False)

    def _listener_message(self, msg: bytes, fds: list[int]) -> dict:
        info = jsonio.loads(msg.decode().strip() or "{}")
        if info.get("op") == "files" and not fds:
            return dict(self._start_files(info), reply=True)
        if info.get("op") == "net" and len(fds) == 1:
            return dict(self._start_net(info, fds[0]), reply=True)
        if self.files is not None and info.get("op") in ("init", "add_listener"):
            self.files.running()  # the container's own process runs next
        if info.get("op") == "init" and not fds:
            self.init_pid = int(info.get("pid") or 0)
            try:
                self.pidns_ino = os.stat(f"/proc/{self.init_pid}/ns/pid").st_ino
            except OSError:
                self.pidns_ino = 0
            self.started_at = time.monotonic()
            return {"ok": True, "reply": self.files is not None}
        if fds and info.get("op") == "add_listener":
            self.add_listener(fds[0], int(info.get("pid") or 0))
            if info.get("started"):
                self.events.emit("container_started", pid=int(info["pid"]))
            return {"ok": True}
        for fd in fds:
            os.close(fd)
        return {"ok": False, "error": "expected add_listener with one fd"}

    def _start_files(self, info: dict) -> dict:
        from .files import FileServer
        from .kernelopen import KernelOpens

        try:
            roots = [(int(i), str(p), str(b)) for i, p, b in info["roots"]]
            kernel = [str(p) for p in info.get("kernel") or []]
            log_allowed = self.engine.policy.audit.log_allowed
            if kernel:
                self.kernel = KernelOpens(self.engine, self.mode, kernel, log_allowed)
            if roots:
                self.files = FileServer(self.engine, self.mode, self.events, self.state_dir,
                                        roots, str(info.get("trash") or ""),
                                        fast_open=bool(info.get("fast_open")))
                self.files.start()
            if info.get("fast_open"):
                self._files_blob = self._open_config(kernel)
                if self._files_blob is None:
                    self.events.emit("monitor_warning", fields={
                        "message": "file_rules globs too complex for the native open "
                                   "path: every open goes through FUSE or the monitor"})
                elif self.fast is not None:
                    self.fast.set_files(self._files_blob)
        except Exception as e:  # noqa: BLE001 - create reports it and fails
            self.events.emit("monitor_warning", fields={"message": f"FUSE server: {e}"})
            if self.files is not None:
                self.files.stop()
                self.files = None
            return {"ok": False, "error": f"{type(e).__name__}: {e}"}
        if self.files is not None:
            self.sel.register(self.files.held.fd, selectors.EVENT_READ,
                              ("file-approvals", None))
            self.events.emit("file_policy_mounted", fields={
                "roots": [{"path": p, "backing": b} for _, p, b in roots]})
        if kernel:
            self.events.emit("file_policy_kernel_paths", fields={"paths": kernel})
        return {"ok": True}

    def _open_config(self, kernel: list[str]) -> bytes | None:
        """The native open path's configuration: the FUSE server's roots and read rules,
        and the kernel subtrees whose opens it must send here."""
        if self.files is not None:
            return self.files.fast_open_config(kernel)
        from .openfast import build_config

        self._open_rules = (self.engine.file_globs_for("read")[1],
                            self.engine.file_globs_for("write")[1])
        return build_config(self.engine, [], 0, self.engine.policy.audit.log_allowed,
                            kernel)

    def _start_net(self, info: dict, netns_fd: int) -> dict:
        """network_rules: the proxies in the init's network namespace, then the chains
        pointing there (net/service.py, policy/netchain.py)."""
        from dataclasses import replace

        from ..policy.netchain import DEFAULT, ChainPorts, restore_text, scope_for
        from .net.service import NetService, resolvers_of

        pol = self.engine.policy
        rules = pol.network_rules
        audit = self.mode == "audit"
        direct = not pol.audit.log_allowed and not pol.connect_redirects

        pid = int(info.get("pid") or 0)
        self.net_joined = str(info.get("joined") or "")
        self.net_remove_at_exit = bool(self.net_joined and info.get("remove_at_exit"))
        # a namespace joined by path may be shared (a pod): a chain of its own, for the
        # processes of its own cgroup only
        scope = (scope_for(self.cid, proc.cgroup2_of(pid), 0) if self.net_joined
                 else DEFAULT)

        def chains(ports: dict, group: int) -> dict[int, str]:
            self.net_scope = replace(scope, group=group)
            inputs = {}
            for fam in (4, 6):
                if fam == 6 and not os.path.exists("/proc/net/if_inet6"):
                    continue  # a kernel without IPv6: nothing to reach that way
                proxy, dns = ports.get(str(fam)) or (9, 9)  # no listener: refused
                inputs[fam] = restore_text(rules, fam, ChainPorts(proxy, dns), audit=audit,
                                           direct_allow=direct, sc=self.net_scope,
                                           log_allowed=pol.audit.log_allowed)
            return inputs

        try:
            resolvers = resolvers_of(info.get("resolv_conf")
                                     or f"/proc/{pid}/root/etc/resolv.conf")
            self.net = NetService(self.engine, self.mode, self.events, netns_fd, resolvers,
                                  chains,
                                  self.engine.policy.resource_limits.net_bandwidth_mbps)
            ports = self.net.start()
            shaped = self.net.shaped
        except Exception as e:  # noqa: BLE001 - create reports it and fails
            self.events.emit("monitor_warning", fields={"message": f"network: {e}"})
            if self.net is not None:
                self.net.stop()
                self.net = None
                if self.net_joined and self.net_scope is not None:
                    from ..linux.iptables import restore
                    from ..policy.netchain import remove_text

                    text = remove_text(self.net_scope)
                    restore({4: text, 6: text}, netns_path=self.net_joined, check=False)
            else:
                os.close(netns_fd)
            return {"ok": False, "error": f"{type(e).__name__}: {e}"}
        self.sel.register(self.net.held.fd, selectors.EVENT_READ, ("net-approvals", None))
        self.events.emit("network_policy_applied", fields={
            "ports": ports, "resolvers": resolvers, "joined": info.get("joined") or None,
            "shaped": shaped, "chain": self.net_scope.chain, "cgroup": self.net_scope.cgroup})
        return {"ok": True, "ports": ports, "shaped": shaped,
                "chain": self.net_scope.chain, "cgroup": self.net_scope.cgroup}

    def _on_held(self, server) -> None:  # noqa: ANN001 - a FileServer or NetService
        """Operations the FUSE or proxy thread holds for a person: into the same queue
        as held execs; the answer goes back to that thread."""
        if server is None:
            return
        for ask in server.held.take():
            if len(self.pending) >= self.max_pending:
                ask.resolve(False)
                continue
            self._req += 1
            req = f"r{self._req}"
            timeout = ask.timeout or DEFAULT_APPROVAL_TIMEOUT
            event = {"pid": ask.pid, "comm": _comm(ask.pid), "operation": ask.op,
                     "path": ask.path, "rule": ask.rule, "message": ask.message}
            self.pending[req] = Pending(req, -1, 0, ask.pid, time.monotonic() + timeout,
                                        event, lambda a=ask: a.resolve(True),
                                        lambda a=ask: a.resolve(False))
            self.events.emit("approval_requested", pid=ask.pid, comm=event["comm"],
                             operation=ask.op, path=ask.path,
                             policy={"decision": "approve", "rule": ask.rule,
                                     "approval": {"id": req, "mode": "cli"}},
                             fields={"timeout_s": timeout})
        self.events.flush()

    def _accept(self, ctl: socket.socket) -> None:
        conn, _ = ctl.accept()
        conn.setblocking(True)
        conn.settimeout(2.0)
        try:
            msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            req = jsonio.loads(msg.decode().strip() or "{}")
            reply = self._control(req, msg, fds)
            conn.sendall((jsonio.dumps(reply) + "\n").encode())
        except (OSError, ValueError) as e:
            try:
                conn.sendall((jsonio.dumps({"ok": False, "error": str(e)}) + "\n").encode())
            except OSError:
                pass
        finally:
            conn.close()

    def _control(self, req: dict, raw: bytes, fds: list[int]) -> dict:
        op = req.get("op")
        if op == "add_listener":
            return self._listener_message(raw, fds)
        for fd in fds:
            os.close(fd)
        if op == "approvals":
            return {"ok": True, "pending": [
                dict(p.event, id=p.req, expires_in_s=round(p.deadline - time.monotonic(), 1))
                for p in self.pending.values()]}
        if op in ("approve", "deny"):
            p = self.pending.get(str(req.get("req")))
            if p is None:
                return {"ok": False, "error": f"no pending request {req.get('req')}"}
            self._answer_pending(p, allow=op == "approve",
                                 reason=str(req.get("reason") or f"{op}d by an operator"))
            return {"ok": True}
        if op == "stop":
            self.stop = True
            return {"ok": True}
        if op == "ping":
            return {"ok": True, "pid": os.getpid(), "listeners": len(self.listeners)}
        return {"ok": False, "error": f"unknown op {op!r}"}


class _FastTarget:
    """An exec the native side answered, shaped like execcheck.ExecTarget for events."""

    __slots__ = ("path", "resolved", "argv", "depth")

    def __init__(self, rec) -> None:  # noqa: ANN001
        from .execfast import split_key

        self.path, self.argv, _ = split_key(rec.key)
        self.depth = rec.depth
        self.resolved = rec.resolved


def _exec_comm(path: str) -> str:
    """The name the kernel gives a program it execs: the path's last part, 15 bytes."""
    return path.rsplit("/", 1)[-1][:15]


_OPENERS = threading.BoundedSemaphore(64)


def _open_for(*args) -> None:  # noqa: ANN002 - execfast.open_for's
    from .execfast import open_for

    try:
        open_for(*args)
    finally:
        _OPENERS.release()


def _continue_opens() -> bool:
    """AGENTSH_OPEN_CONTINUE=1: answer opens CONTINUE as before openself.c (for
    comparison only: a racing thread can then get around a kernel-path deny)."""
    return os.environ.get("AGENTSH_OPEN_CONTINUE") == "1"


def _hung_up(fd: int) -> bool:
    import select

    p = select.poll()
    p.register(fd, select.POLLIN)
    return any(ev & (select.POLLHUP | select.POLLERR) for _, ev in p.poll(0))


def _comm(pid: int) -> str | None:
    return proc.comm_of(pid)


_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _still_running(pid: int) -> bool:
    from ..linux.proc import stat_fields

    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _usage(pid: int) -> dict:
    """CPU times and peak memory of an exiting process (readable until it is reaped)."""
    from ..linux.proc import stat_fields, status_fields

    out: dict = {}
    fields = stat_fields(pid)
    if fields is not None and len(fields) > 12:
        out["cpu_user_ms"] = int(int(fields[11]) * _TICK_MS)
        out["cpu_system_ms"] = int(int(fields[12]) * _TICK_MS)
    hwm = status_fields(pid).get("VmHWM")
    if hwm:
        out["memory_peak_kb"] = int(hwm.split()[0])
    return out


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def request(state_dir: str, req: dict, fd: int | None = None, timeout: float = 5.0) -> dict:
    """One request to a container's monitor over its control socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    dirfd = os.open(state_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        # a short path to a possibly long one (sun_path holds 108 bytes)
        sock.connect(f"/proc/self/fd/{dirfd}/{SOCK_NAME}")
        data = (jsonio.dumps(req) + "\n").encode()
        if fd is None:
            sock.sendall(data)
        else:
            socket.send_fds(sock, [data], [fd])
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        sock.close()
        os.close(dirfd)
    return jsonio.loads(buf.decode() or "{}")  # type: ignore[return-value]
