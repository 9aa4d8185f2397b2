"""The tracer: one loop over every stop of every traced thread.

A traced process runs a seccomp filter (prefilter.py) that stops it here only for the
syscalls the policy decides; at that stop the syscall's arguments are read
(PTRACE_GET_SYSCALL_INFO, process_vm_readv), the policy is asked (checks.py), and the
syscall runs, is skipped with an error (orig_rax = -1, rax = -errno), is rewritten
(a redirect), or waits for a person's answer while everything else keeps running.
Fork, vfork and clone children are traced from their first instruction
(PTRACE_O_TRACEFORK/VFORK/CLONE); EXITKILL kills every tracee if the tracer dies, so
nothing ever runs untraced.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import time
from collections import deque
from dataclasses import dataclass, field

from ..linux import ptrace
from ..policy.engine import Engine
from . import syscalls as sc
from .argmemory import ArgMemory
from .paths import Resolver
from .prefilter import FilterPlan

OPTIONS = (ptrace.PTRACE_O_TRACESECCOMP | ptrace.PTRACE_O_TRACEFORK
           | ptrace.PTRACE_O_TRACEVFORK | ptrace.PTRACE_O_TRACECLONE
           | ptrace.PTRACE_O_TRACEEXEC | ptrace.PTRACE_O_EXITKILL
           | ptrace.PTRACE_O_TRACESYSGOOD)
SKIP_SYSCALL = (1 << 64) - 1  # orig_rax = -1: the kernel runs no syscall
RED_ZONE = 128  # x86_64 ABI: below the stack pointer a leaf function may keep data
_ARG_REGS = ("rdi", "rsi", "rdx", "r10", "r8", "r9")  # syscall arguments, in order
DEFAULT_APPROVAL_TIMEOUT = 300.0
SPIN_POLLS = 100  # wait4(WNOHANG) calls, ~1.5 us each, before a blocking wait4
FREEZE_MAX_S = 0.05  # a frozen thread's syscall has long read its arguments by then
_STOP_SIGS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
_SYSCALL_EXIT = signal.SIGTRAP | 0x80


def _settle_in() -> int:
    """The tracer stays on the CPU it runs on (each stop then wakes it where its caches
    are, ~15% less per stop on a 2-vCPU VM; tracees stay free to run anywhere), and its
    long-lived objects leave the cyclic GC's young generations (a collection every few
    hundred stops otherwise). AGENTSH_PTRACE_NO_PIN=1 keeps the affinity as it was.

    Returns how many times to poll for the next stop before sleeping in wait4: a
    tracee's next traced syscall mostly comes within tens of microseconds, and a tracer
    asleep by then is woken on a halted vCPU (on this class of VM half of a stop's cost:
    73 -> 42 us per open in a loop). 0 when the tracer has one CPU: polling there
    would only delay the tracee it waits for. AGENTSH_PTRACE_SPIN=N sets the polls."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        cpus = len(os.sched_getaffinity(0))
    except OSError:
        cpus = 1
    try:
        spin = int(os.environ.get("AGENTSH_PTRACE_SPIN", SPIN_POLLS))
    except ValueError:
        spin = SPIN_POLLS
    spin = max(0, spin) if cpus > 1 else 0
    if os.environ.get("AGENTSH_PTRACE_NO_PIN") == "1":
        return spin
    try:
        with open("/proc/thread-self/stat", "rb") as f:
            cpu = int(f.read().rsplit(b")", 1)[1].split()[36])
        os.sched_setaffinity(0, {cpu})
    except (OSError, ValueError, IndexError):
        pass
    return spin


class _Flusher:
    """Writes the events out at least every FLUSH_EVERY while the loop sleeps in
    wait4 (a quiet session's events would otherwise wait for the next busy moment)."""

    def __init__(self, events) -> None:  # noqa: ANN001 - an EventWriter
        import threading

        from ..monitor.events import FLUSH_EVERY

        self._events, self._every = events, FLUSH_EVERY
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._every):
            self._events.maybe_flush()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(1.0)


class Held:
    """A syscall waiting for a person: the thread stays stopped until answered."""

    __slots__ = ("req", "tid", "deadline", "event", "on_allow", "on_deny")

    def __init__(self, req: str, tid: int, deadline: float, event: dict, on_allow,  # noqa: ANN001
                 on_deny) -> None:  # noqa: ANN001
        self.req, self.tid, self.deadline, self.event = req, tid, deadline, event
        self.on_allow, self.on_deny = on_allow, on_deny


@dataclass
class Proc:
    argv: tuple[str, ...]
    started: float = field(default_factory=time.time)


ALLOW = None
HELD = "held"  # the handler parked the thread (an approval) or resumed it itself


class Tracer:
    def __init__(self, engine: Engine, mode: str, events, root: str = "/",  # noqa: ANN001
                 mask_tracer_pid: bool = False, max_pending: int = 64) -> None:
        from .checks import Checks

        self.engine, self.mode, self.events = engine, mode, events
        self.policy = engine.policy
        self.resolver = Resolver(root)
        self.mask_tracer_pid = mask_tracer_pid
        self.max_pending = max_pending
        self.info = ptrace.SyscallInfo()
        self.root_pid = 0
        self.seen: set[int] = set()
        self.procs: dict[int, Proc] = {}  # process (thread group leader) -> what it runs
        self.pending: dict[str, Held] = {}
        self._req = 0
        self._answers: list[tuple[str, bool, str]] = []
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._on_exit_stop: dict[int, list] = {}  # tid -> callables at its syscall exit
        self.approved: dict[int, tuple] = {}  # tid -> the held operation a person allowed
        # address spaces: tids sharing one (threads, vfork and CLONE_VM children) can
        # rewrite each other's syscall arguments between our read and the kernel's
        self.mm_of: dict[int, int] = {}
        self.mm_members: dict[int, set[int]] = {}
        self._mm_seq = 0
        self.vforked: dict[int, int] = {}  # vfork child -> the parent it holds
        self._pinned: dict[int, dict[str, int]] = {}  # tid -> argument registers (pin)
        # execs let run without their exec stop (unwatch_exec): tid -> (identity, argv)
        self.unwatched: dict[int, tuple] = {}
        self._queued: list[tuple[int, int, object]] = []  # stops seen while freezing
        self.frozen: dict[int, tuple[list[tuple[int, int]], float]] = {}  # tid -> peers
        self.parked: set[int] = set()  # stopped by us (held or frozen): not running
        from .timelimits import TimeLimits

        self.limits = TimeLimits(engine.policy.resource_limits, events)
        self.checks = Checks(self)
        self.handlers = self.checks.handlers()
        self.argmem = ArgMemory(self.checks.unwritable_file)
        # arguments in registers only, or checked again at the exec stop
        self.no_freeze = {sc.NR[n] for n in (*sc.SIGNAL, *sc.EXEC, *sc.MASK_READS, "listen")}
        # calls that act on a path with no check after them: one at a time in the
        # kernel (see dispatch); opens are checked at their exit, execs at their stop
        self.serial = {sc.NR[n] for n in sc.FILE if n not in (
            "open", "openat", "openat2", "creat", "fchmod", "fchown")} & set(self.handlers)
        self.naming: int | None = None  # the tid whose serial call is in the kernel
        self.naming_queue: deque[tuple[int, int, tuple[int, ...]]] = deque()

    # -- what the filter sends here -----------------------------------------------------
    def filter_plan(self) -> FilterPlan:
        return FilterPlan(tuple(sorted({sc.NAME[nr] for nr in self.handlers})), sc.REFUSED)

    # -- the loop -----------------------------------------------------------------------
    def run(self, root_pid: int) -> int:
        """Trace until the root process exits; its exit status as a shell reports it."""
        self.root_pid = root_pid
        self.seen.add(root_pid)
        self.procs.setdefault(root_pid, Proc(()))
        self._join_mm(root_pid, None)
        self.limits.start(root_pid)
        spin = _settle_in()
        wait4, WALL = os.wait4, ptrace.WALL
        render, sched_yield = self.events.render_one, os.sched_yield
        flusher = _Flusher(self.events)
        try:
            while True:
                if self._queued:
                    pid, status, ru = self._queued.pop(0)
                elif self.pending or self._answers or self.frozen:
                    got = self._wait_with_pending()
                    if got is None:
                        continue
                    pid, status, ru = got
                else:
                    try:
                        pid, status, ru = wait4(-1, WALL | os.WNOHANG)
                        polls = spin
                        while not pid and polls:
                            polls -= 1
                            if not render():  # an event's JSON off the stops' path
                                sched_yield()  # whoever else waits for this CPU first
                            pid, status, ru = wait4(-1, WALL | os.WNOHANG)
                        if not pid:
                            pid, status, ru = wait4(-1, WALL)
                    except ChildProcessError:
                        return 0
                if status & 0xFF == 0x7F:  # stopped
                    try:
                        self._on_stop(pid, status)
                    except ProcessLookupError:
                        pass  # killed meanwhile (SIGKILL needs no stop)
                    except OSError as e:
                        if e.errno != errno.ESRCH:
                            raise
                    continue
                code = self._on_exit(pid, status, ru)
                if pid == root_pid:
                    return code
        finally:
            flusher.stop()
            self.events.flush()

    def _wait_with_pending(self):  # noqa: ANN202
        """A stop, or None after answering approvals / timing them out."""
        self._take_answers()
        self._expire()
        self._thaw_expired()
        try:
            got = os.wait4(-1, ptrace.WALL | os.WNOHANG)
        except ChildProcessError:
            got = (0, 0, None)
        if got[0]:
            return got
        old = signal.signal(signal.SIGCHLD, lambda *_: None)
        sig_r, sig_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        prev_fd = signal.set_wakeup_fd(sig_w)
        try:
            got = os.wait4(-1, ptrace.WALL | os.WNOHANG)  # a stop between the two
            if got[0]:
                return got
            deadlines = [h.deadline for h in self.pending.values()] + \
                [d for _, d in self.frozen.values()]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else 1.0
            select.select([self._wake_r, sig_r], [], [], min(timeout, 1.0))
        finally:
            signal.set_wakeup_fd(prev_fd)
            signal.signal(signal.SIGCHLD, old)
            os.close(sig_r)
            os.close(sig_w)
        return None

    def _on_stop(self, tid: int, status: int) -> None:
        if tid in self.unwatched:
            self._settle_exec(tid)
        sig = (status >> 8) & 0xFF
        event = status >> 16
        if event == ptrace.PTRACE_EVENT_SECCOMP:
            self._on_syscall(tid)
        elif event == 0:
            if sig == _SYSCALL_EXIT:
                for after in self._on_exit_stop.pop(tid, ()):
                    after(tid)
                ptrace.cont(tid)
            else:
                ptrace.cont(tid, sig)  # a signal on its way in: deliver it
        elif event in (ptrace.PTRACE_EVENT_FORK, ptrace.PTRACE_EVENT_VFORK,
                       ptrace.PTRACE_EVENT_CLONE):
            self._on_new(tid, ptrace.event_msg(tid), event)
            ptrace.cont(tid)
        elif event == ptrace.PTRACE_EVENT_EXEC:
            self.checks.exec_done(tid, ptrace.event_msg(tid))
            ptrace.cont(tid)
        elif event == ptrace.PTRACE_EVENT_STOP:
            if tid not in self.seen:  # an auto-attached child's first stop
                self.seen.add(tid)
                ptrace.cont(tid)
            elif sig in _STOP_SIGS:
                ptrace.listen(tid)  # a group stop: stay stopped until SIGCONT
            else:
                ptrace.cont(tid)
        else:
            ptrace.cont(tid)

    def _on_new(self, parent: int, child: int, event: int) -> None:
        self.seen.add(child)
        if event == ptrace.PTRACE_EVENT_VFORK:
            self.vforked[child] = parent
        self.checks.born(child, parent)
        self._join_mm(child, parent if ptrace.same_mm(parent, child) else None)
        parent_tgid = self.resolver.tgid.get(parent, parent)
        if event == ptrace.PTRACE_EVENT_CLONE:
            from ..linux.proc import tgid_of

            tgid = tgid_of(child) or child
            if tgid != child:  # a thread
                self.resolver.tgid[child] = tgid
                return
        info = self.procs.get(parent_tgid)
        self.procs[child] = Proc(info.argv if info else ())

    def _on_exit(self, pid: int, status: int, ru) -> int:  # noqa: ANN001
        self.seen.discard(pid)
        expected = self.unwatched.pop(pid, None)
        if expected is not None and pid in self.procs:
            # gone before any other stop: most likely after running what was checked
            self.procs[pid].argv = expected[1]
        self.vforked.pop(pid, None)
        self._pinned.pop(pid, None)
        self._leave_mm(pid)
        self.parked.discard(pid)
        if pid in self.frozen:
            self._thaw(pid)
        self.resolver.tgid.pop(pid, None)
        self._on_exit_stop.pop(pid, None)
        self.checks.forget(pid)
        if os.WIFSIGNALED(status):
            code = 128 + os.WTERMSIG(status)
        else:
            code = os.WEXITSTATUS(status)
        info = self.procs.pop(pid, None)
        for h in [h for h in self.pending.values() if h.tid == pid]:
            self.pending.pop(h.req, None)
        if self.naming_queue:
            self.naming_queue = deque(q for q in self.naming_queue if q[0] != pid)
        if self.naming == pid:
            self._named(pid)
        if info is not None:
            fields: dict = {"exit_code": code,
                            "duration_ms": int((time.time() - info.started) * 1000),
                            "mode": "ptrace"}
            if os.WIFSIGNALED(status):
                fields["signal"] = os.WTERMSIG(status)
            if ru is not None:
                fields.update(cpu_user_ms=int(ru.ru_utime * 1000),
                              cpu_system_ms=int(ru.ru_stime * 1000),
                              memory_peak_kb=ru.ru_maxrss)
            self.events.emit("process_exit", pid=pid, argv=list(info.argv) or None,
                             fields=fields)
        return code

    # -- shared address spaces ------------------------------------------------------------
    def _join_mm(self, tid: int, like: int | None) -> None:
        """tid's address space: like's (shared), or a new one."""
        if like is not None and like in self.mm_of:
            group = self.mm_of[like]
        else:
            self._mm_seq += 1
            group = self._mm_seq
        self.mm_of[tid] = group
        self.mm_members.setdefault(group, set()).add(tid)

    def _leave_mm(self, tid: int) -> None:
        group = self.mm_of.pop(tid, None)
        if group is not None:
            members = self.mm_members.get(group)
            if members is not None:
                members.discard(tid)
                if not members:
                    del self.mm_members[group]
                    self.argmem.forget(group)

    def exec_changed_mm(self, tid: int, former: int) -> None:
        """After an exec the thread has a new address space of its own (the other
        threads of its old group are gone; a vfork parent keeps the old one)."""
        self.vforked.pop(tid, None)
        self.vforked.pop(former, None)
        self._leave_mm(former)
        self._leave_mm(tid)
        self._join_mm(tid, None)

    def peers(self, tid: int) -> set[int]:
        group = self.mm_of.get(tid)
        if group is None:
            return set()
        members = self.mm_members.get(group, ())
        return {t for t in members if t != tid} if len(members) > 1 else set()

    def private_memory(self, tid: int, addr: int, length: int) -> bool:
        """Is [addr, addr + length) of tid's memory private anonymous pages?"""
        group = self.mm_of.get(tid)
        return group is not None and self.argmem.private(tid, group, addr, length)

    def steady_memory(self, tid: int, addr: int, length: int) -> bool:
        """Can no other process rewrite [addr, addr + length) of tid's memory before
        the kernel reads it (argmemory.py)? False when it cannot be told."""
        group = self.mm_of.get(tid)
        return group is not None and self.argmem.steady(tid, group, addr, length)

    def sole_writer(self, tid: int) -> bool:
        """No other thread can write tid's memory now: it shares its address space
        with nobody but, after a vfork, the parent the kernel holds until it execs."""
        peers = self.peers(tid)
        return not peers or peers == {self.vforked.get(tid)}

    def unwatch_exec(self, tid: int, expected: tuple) -> None:
        """Let an execve whose outcome is certain (a stable path, an ELF file, no other
        writer of its memory: checks.exec) run without its exec stop, one round trip
        less per command. A seized tracee gets no SIGTRAP for an exec without
        PTRACE_O_TRACEEXEC; the option is back at its next stop (_settle_exec)."""
        ptrace.set_options(tid, OPTIONS & ~ptrace.PTRACE_O_TRACEEXEC)
        self.unwatched[tid] = expected

    def _settle_exec(self, tid: int) -> None:
        expected = self.unwatched.pop(tid)
        ptrace.set_options(tid, OPTIONS)
        self.checks.exec_settled(tid, expected)

    def freeze_peers(self, tid: int) -> bool:
        """Stop every other thread of tid's address space before its arguments are read,
        so none can rewrite them between our read and the kernel's; they resume when its
        syscall is over (or after FREEZE_MAX_S, should the call block on one of them).
        False when tid has no such threads."""
        peers = self.peers(tid)
        if not peers:
            return False
        waiting = set()
        for p in peers - self.parked:
            try:
                ptrace.interrupt(p)
                waiting.add(p)
            except OSError:
                pass
        stops: list[tuple[int, int]] = []
        while waiting:
            pid, status, ru = os.wait4(-1, ptrace.WALL)
            if pid in waiting:
                waiting.discard(pid)
                if status & 0xFF == 0x7F:
                    stops.append((pid, status))
                    self.parked.add(pid)
                    continue
            self._queued.append((pid, status, ru))
        self.frozen[tid] = (stops, time.monotonic() + FREEZE_MAX_S)
        return True

    def _thaw(self, tid: int) -> None:
        stops, _ = self.frozen.pop(tid, ([], 0.0))
        for pid, status in stops:
            self.parked.discard(pid)
            try:
                self._on_stop(pid, status)
            except OSError:
                pass  # gone meanwhile

    def _thaw_expired(self) -> None:
        now = time.monotonic()
        for tid in [t for t, (_, d) in self.frozen.items() if d <= now]:
            self._thaw(tid)

    # -- a syscall stop -----------------------------------------------------------------
    def _on_syscall(self, tid: int) -> None:
        if self.limits.idle:
            self.limits.last_activity = time.monotonic()
        info = ptrace.syscall_info(tid, self.info)
        if info.op != ptrace.SYSCALL_INFO_SECCOMP:
            ptrace.cont(tid)
            return
        nr = info.nr
        handler = self.handlers.get(nr)
        if handler is None:
            ptrace.cont(tid)
            return
        self.dispatch(tid, nr, tuple(info.args))

    def dispatch(self, tid: int, nr: int, args: tuple[int, ...]) -> None:
        serial = nr in self.serial
        if serial and self.naming is not None and self.naming != tid:
            # another process could swap a directory of this path for a symlink
            # between our check and the kernel's walk, and an unlink or a rename
            # cannot be checked after the fact: such calls reach the kernel one at a
            # time, each checked while no other is there, and the swap is one of them
            self.naming_queue.append((tid, nr, args))
            self.parked.add(tid)
            return
        frozen = nr not in self.no_freeze and self.freeze_peers(tid)
        try:
            verdict = self.handlers[nr](tid, nr, args)
        except ProcessLookupError:
            raise
        except Exception as e:  # noqa: BLE001 - one call fails closed, the rest goes on
            if isinstance(e, OSError) and e.errno == errno.ESRCH:
                raise
            where = e.__traceback__
            while where is not None and where.tb_next is not None:
                where = where.tb_next
            line = f" ({os.path.basename(where.tb_frame.f_code.co_filename)}:" \
                f"{where.tb_lineno})" if where is not None else ""
            self.events.emit("monitor_warning", pid=tid, fields={
                "message": f"tracer: {sc.NAME.get(nr, nr)}: {type(e).__name__}: {e}{line}; "
                           "the call was refused", "mode": "ptrace"})
            verdict = errno.EACCES
        if verdict is ALLOW:
            at_exit = [self._unpin] if tid in self._pinned else []
            if serial:
                self.naming = tid
                at_exit.append(self._named)
            if frozen:
                at_exit.append(self._thaw)
            for fn in at_exit:
                self.after_syscall(tid, fn)
            if not at_exit:
                ptrace.cont(tid)
            return
        if verdict is not HELD:
            self.fail(tid, verdict)
        if frozen:
            if tid in self._on_exit_stop:  # the handler runs it to its exit itself
                self._on_exit_stop[tid].append(self._thaw)
            else:
                self._thaw(tid)  # skipped or parked: nothing of theirs is read any more

    def _named(self, tid: int) -> None:
        """The serial call of tid is over: the next waiting one is checked now."""
        if self.naming == tid:
            self.naming = None
        while self.naming is None and self.naming_queue:
            waiting, nr, args = self.naming_queue.popleft()
            self.parked.discard(waiting)
            try:
                self.dispatch(waiting, nr, args)
            except OSError as e:
                if e.errno != errno.ESRCH:
                    raise  # gone meanwhile: the next one

    def redo_approved(self, tid: int, nr: int, args: tuple[int, ...], what: tuple) -> None:
        """A person allowed `what`: read the call again (under the freeze, when other
        threads share the memory) and let it run if it still asks for exactly that."""
        self.approved[tid] = what
        try:
            self.dispatch(tid, nr, args)
        finally:
            self.approved.pop(tid, None)

    def pin(self, tid: int, pins: list[tuple[int, bytes]]) -> list[int] | None:
        """Make the kernel read exactly what was checked: each (argument index, bytes)
        is copied below the red zone of tid's stack and the argument pointed there, for
        arguments whose memory another process could rewrite between our read and the
        kernel's (a MAP_SHARED page, a file's page; threads sharing the memory are
        frozen meanwhile). The arguments get their values back at the syscall's exit
        (compiled code may use them after it) or at once when the call is refused.
        The copies' addresses; None, and nothing changed, when the copy would not be
        private memory either (a stack in a shared mapping): the caller refuses."""
        regs = ptrace.get_regs(tid)
        blob, offsets = b"", []
        for _, data in pins:
            offsets.append(len(blob))
            blob += data + bytes(-len(data) % 16)
        top = (regs.rsp - RED_ZONE - len(blob)) & ~0xF
        try:
            ptrace.write_mem(tid, top, blob)
        except OSError:
            return None
        if not self.private_memory(tid, top, len(blob)):
            return None
        orig = self._pinned.setdefault(tid, {})
        for (i, _), off in zip(pins, offsets, strict=True):
            name = _ARG_REGS[i]
            orig.setdefault(name, getattr(regs, name))
            setattr(regs, name, top + off)
        ptrace.set_regs(tid, regs)
        return [top + off for off in offsets]

    def _unpin(self, tid: int, regs: ptrace.Regs | None = None) -> None:
        orig = self._pinned.pop(tid, None)
        if not orig:
            return
        own = regs is None
        regs = ptrace.get_regs(tid) if regs is None else regs
        for name, value in orig.items():
            setattr(regs, name, value)
        if own:
            ptrace.set_regs(tid, regs)

    def fail(self, tid: int, err: int, value: int | None = None) -> None:
        """Skip the syscall: it returns -err (or `value` when given) and resume."""
        regs = ptrace.get_regs(tid)
        self._unpin(tid, regs)
        regs.orig_rax = SKIP_SYSCALL
        regs.rax = (value if value is not None else -err) & SKIP_SYSCALL
        ptrace.set_regs(tid, regs)
        ptrace.cont(tid)

    def after_syscall(self, tid: int, fn) -> None:  # noqa: ANN001
        """Resume `tid` so that it stops again at the syscall's exit, where fn(tid) runs."""
        first = tid not in self._on_exit_stop
        self._on_exit_stop.setdefault(tid, []).append(fn)
        if first:
            ptrace.syscall_step(tid)

    # -- approvals ----------------------------------------------------------------------
    def hold(self, tid: int, d, event: dict, on_allow, on_deny) -> bool:  # noqa: ANN001
        if len(self.pending) >= self.max_pending:
            return False
        self._req += 1
        req = f"r{self._req}"
        self.parked.add(tid)
        timeout = d.timeout or DEFAULT_APPROVAL_TIMEOUT
        self.pending[req] = Held(req, tid, time.monotonic() + timeout, event, on_allow,
                                 on_deny)
        self.events.emit("approval_requested", pid=tid, comm=event.get("comm"),
                         operation=event["operation"], path=event.get("path"),
                         argv=event.get("argv"), signal=event.get("signal"),
                         remote=event.get("remote"), target_pid=event.get("target_pid"),
                         policy={"decision": "approve", "rule": d.rule,
                                 "approval": {"id": req, "mode": "socket"}},
                         fields={"timeout_s": timeout, "mode": "ptrace"})
        self.events.flush()
        return True

    def pending_list(self) -> list[dict]:
        now = time.monotonic()
        return [dict(h.event, id=h.req, expires_in_s=round(h.deadline - now, 1))
                for h in list(self.pending.values())]

    def answer(self, req: str, allow: bool, reason: str) -> bool:
        """From the approvals socket's thread: queued for the loop, which owns the
        tracees (only the tracing thread may resume them)."""
        if req not in self.pending:
            return False
        self._answers.append((req, allow, reason))
        try:
            os.write(self._wake_w, b"!")
        except BlockingIOError:
            pass
        return True

    def _take_answers(self) -> None:
        try:
            os.read(self._wake_r, 4096)
        except BlockingIOError:
            pass
        while self._answers:
            req, allow, reason = self._answers.pop(0)
            h = self.pending.pop(req, None)
            if h is not None:
                self._resolve(h, allow, reason)

    def _expire(self) -> None:
        now = time.monotonic()
        for h in [h for h in self.pending.values() if h.deadline <= now]:
            self.pending.pop(h.req, None)
            self._resolve(h, False, "timeout")

    def _resolve(self, h: Held, allow: bool, reason: str) -> None:
        alive = True
        self.parked.discard(h.tid)
        try:
            (h.on_allow if allow else h.on_deny)()
        except OSError:
            alive = False  # the thread died while it waited
        self.events.emit("approval_resolved", pid=h.tid, operation=h.event["operation"],
                         path=h.event.get("path"), argv=h.event.get("argv"),
                         remote=h.event.get("remote"), signal=h.event.get("signal"),
                         policy={"decision": "approve",
                                 "effective_decision": "allow" if allow else "deny",
                                 "rule": h.event.get("rule"),
                                 "approval": {"id": h.req, "mode": "socket"}},
                         effective_action="allowed" if allow and alive else "blocked",
                         fields={"reason": reason, "caller_alive": alive,
                                 "mode": "ptrace"})
        self.events.flush()

    def close(self) -> None:
        self.argmem.close()
        self.limits.close()
        self.checks.close()
        self.resolver.close()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
