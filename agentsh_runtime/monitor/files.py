"""file_rules in the monitor: one FUSE file system (fusefs.Passthrough) on a thread.

The mount plan's FUSE roots (container.fileplan) are bound, on the host, into
`<state>/fuse-backing/N`; one FUSE mount at `<state>/fuse` passes that directory
through, so `<state>/fuse/N` is root N as the policy sees it, and the init binds those
into the container. Paths are translated to the container's view (`/N/rest` -> root
N's path + `/rest`) before the engine decides.

Until the container's process is about to run (the monitor got its seccomp listener or
its pid), the runtime's own set-up (mount points, /dev nodes) goes through unchecked:
that is config.json's doing, not the workload's.
"""

from __future__ import annotations

import errno
import os
import threading

from ..linux import mount as m
from ..policy.engine import Engine, FileQuery
from .heldops import HeldQueue
from .trashdir import ROOTS_FILE, drop_empty_trash, purge_old_trash, split_server_path

FUSE_DIR = "fuse"
BACKING_DIR = "fuse-backing"


class FileServer:
    def __init__(self, engine: Engine, mode: str, events, state_dir: str,  # noqa: ANN001
                 roots: list[tuple[int, str, str]], trash_dir: str,
                 fast_open: bool = False) -> None:
        self.engine = engine
        self.mode = mode
        self.events = events
        self.state_dir = state_dir
        self.roots = {str(i): (path.rstrip("/") or "/", backing) for i, path, backing in roots}
        self.trash_dir = trash_dir
        # reads answered with backing fds (openfast.c): then no writeback cache, so
        # that a write is in the backing file once the write call returns
        self.fast_open = fast_open
        # the monitor's native thread: its lookups (made for a caller's open) are
        # decided but neither logged nor held; a caller's own retry is. The same for the
        # monitor's main thread (kernelopen.py walks names through the caller's root)
        self.native_tid = 0
        self._own_tid = os.getpid()
        # the monitor's threads open files for callers (openself.c): whom a request is
        # for, and whether the request being decided is one of ours (never held then)
        self._acting = None
        self._acted = None
        self._preapproved: set[tuple[int, str, str]] = set()
        self._read_rules: list = []
        self._write_rules: list = []
        self.fuse_dir = os.path.join(state_dir, FUSE_DIR)
        self.backing_dir = os.path.join(state_dir, BACKING_DIR)
        self.setup = True
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._cancel = None
        audit = engine.policy.audit
        self._log_allowed = audit.log_allowed
        self.held = HeldQueue()  # approvals: taken by the monitor's loop

    # -- life ----------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        os.makedirs(self.fuse_dir, 0o700, exist_ok=True)
        os.makedirs(self.backing_dir, 0o700, exist_ok=True)
        if self.trash_dir:
            from .. import jsonio

            days = self.engine.policy.audit.retention_days
            if days:
                purge_old_trash(os.path.dirname(self.trash_dir), days * 86400.0)
            os.makedirs(self.trash_dir, 0o700, exist_ok=True)
            with open(os.path.join(self.trash_dir, ROOTS_FILE), "w") as f:
                f.write(jsonio.dumps({n: [p, b] for n, (p, b) in self.roots.items()}))
        for name, (_, backing) in self.roots.items():
            if backing.startswith(self.state_dir + "/"):
                os.makedirs(backing, 0o755, exist_ok=True)  # a tmpfs's disk stand-in
            target = os.path.join(self.backing_dir, name)
            os.makedirs(target, 0o700, exist_ok=True)
            # rbind: volumes and rootfs submounts stay visible to the server
            m.mount(backing, target, None, m.MS_BIND | m.MS_REC)
            m.mount(None, target, None, m.MS_PRIVATE | m.MS_REC)
        self._thread = threading.Thread(target=self._run, name="fusefs", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise OSError(110, "the FUSE server did not come up")
        if self._error is not None:
            raise OSError(5, f"the FUSE server failed: {self._error}")

    def _run(self) -> None:
        try:
            import trio

            from ..fusefs.mount import serve_async
            from ..fusefs.passthrough import Passthrough, scan_hardlinks

            # names of hardlinks already in the image: a file denied under one name
            # must not be reachable through another the mount has not looked up yet
            links = scan_hardlinks(self.backing_dir, "/")
            ops = Passthrough(self.backing_dir, self.decide, self._emit, prefix="/",
                              trash_dir=self.trash_dir or None, hardlinks=links,
                              writeback_cache=not self.fast_open)
            if self.fast_open:
                from .execfast import acted_for, acting_for

                self._acting = acting_for
                self._acted = acted_for
                ops.caller_of = self._caller_of

            async def main() -> None:
                self.held.trio_token = trio.lowlevel.current_trio_token()
                with trio.CancelScope() as scope:
                    self._cancel = scope
                    async with trio.open_nursery() as nursery:
                        await nursery.start(serve_async, ops, self.fuse_dir)
                        self._ready.set()

            trio.run(main)
        except BaseException as e:  # noqa: BLE001 - reported by start() or as an event
            self._error = e
            if self._ready.is_set():
                self.events.emit("monitor_warning", fields={
                    "message": f"the FUSE server stopped: {type(e).__name__}: {e}"})
            self._ready.set()

    def running(self) -> None:
        """The container's own process is about to run: every operation is decided."""
        self.setup = False

    def stop(self) -> None:
        for target in (self.fuse_dir, *[os.path.join(self.backing_dir, n)
                                         for n in self.roots]):
            try:
                m.umount(target, m.MNT_DETACH)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(2.0)
        self.held.close()
        if self.trash_dir:
            drop_empty_trash(self.trash_dir)

    # -- the native open path ---------------------------------------------------------------
    def fast_open_config(self, kernel: list[str] | None = None) -> bytes | None:
        """openfast.c's configuration: None when the policy's globs are too complex.
        `kernel`: the kernel subtrees whose opens the monitor decides (kernelopen.py)."""
        from .openfast import build_config

        fuse = [(path, os.path.join(self.backing_dir, n)) for n, (path, _) in self.roots.items()]
        # the native side reports rules by index into these
        self._read_rules = self.engine.file_globs_for("read")[1]
        self._write_rules = self.engine.file_globs_for("write")[1]
        return build_config(self.engine, fuse, os.stat(self.fuse_dir).st_dev,
                            self._log_allowed, kernel or [])

    def fast_open_event(self, rec) -> None:  # noqa: ANN001 - an execfast.Record (FILE_OPEN)
        """The file_open event of an open the native side settled (a read answered with
        a backing fd: its bytes are not counted, the reads never reach the server)."""
        from .openfast import open_event

        self.events.emit("file_open", **open_event(rec, self._read_rules,
                                                   self._write_rules))

    # -- decisions -----------------------------------------------------------------------
    def _container_path(self, path: str | None) -> str | None:
        if path is None:
            return None
        where = split_server_path(self.roots, path)
        return where[0] if where else "/" + path.lstrip("/")

    def _server_path(self, container_path: str) -> str | None:
        best = None
        for name, (base, _) in self.roots.items():
            if container_path == base or container_path.startswith(base.rstrip("/") + "/"):
                if best is None or len(base) > len(self.roots[best][0]):
                    best = name
        if best is None:
            return None
        base = self.roots[best][0]
        rest = container_path[len(base):].lstrip("/") if base != "/" else \
            container_path.lstrip("/")
        return f"/{best}/{rest}" if rest else f"/{best}"

    def _caller_of(self, pid: int) -> int:
        caller = self._acting(pid) if self._acting is not None and pid else 0
        return caller or pid

    def preapprove(self, pid: int, op: str, path: str) -> None:
        """A person approved `op` on `path` (container path) for `pid`: the monitor's
        open made for it next is allowed once."""
        self._preapproved.add((pid, op, path))

    def decide(self, op: str, path: str, path2: str | None, pid: int):  # noqa: ANN201
        from ..fusefs.verdict import ALLOW, Verdict

        if self.setup:
            return ALLOW
        cpath = self._container_path(path)
        if cpath is None or path.strip("/") == "":
            return ALLOW  # the FUSE mount's own root: only the server sees it
        d = self.engine.decide("file", FileQuery(op, cpath, self._container_path(path2)))
        decision = d.decision
        if decision == "approve" and pid and self._acted is not None and self._acted(pid):
            if (pid, op, cpath) in self._preapproved:
                self._preapproved.discard((pid, op, cpath))
                return Verdict.allow(log=True, decision=decision, rule=d.rule)
            # a monitor thread must not wait for a person: the monitor holds the open
            return Verdict.deny(log=False, errno=errno.EDEADLK)
        if pid and (pid == self.native_tid or pid == self._own_tid):
            return ALLOW if decision in ("allow", "audit") else Verdict.deny(log=False)
        if decision in ("allow", "audit"):
            return Verdict.allow(log=self._log_allowed or decision == "audit",
                                 decision=decision, rule=d.rule) \
                if (self._log_allowed or decision == "audit") else ALLOW
        if self.mode == "audit":
            return Verdict.allow(log=True, decision=decision, rule=d.rule,
                                 message=d.message)
        if decision == "redirect" and d.redirect:
            target = self._server_path(d.redirect)
            if target is None:
                return Verdict.deny(rule=d.rule, message=f"redirect target {d.redirect} "
                                                         "is outside the mediated tree")
            return Verdict.redirect_to(target, rule=d.rule, message=d.message)
        if decision == "soft_delete":
            return Verdict.soft_delete(rule=d.rule, message=d.message)
        if decision == "approve":
            ask = self.held.hold(op, cpath, pid, d)
            return Verdict.approve(ask.wait, rule=d.rule, message=d.message)
        return Verdict.deny(rule=d.rule, message=d.message)

    def _emit(self, ev: dict) -> None:
        ev = dict(ev)
        etype = ev.pop("type", "file_op")
        for key in ("path", "path2"):
            if ev.get(key):
                ev[key] = self._container_path(ev[key])
        self.events.emit(etype, **ev)
