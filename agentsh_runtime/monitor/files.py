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

import os
import threading

from ..linux import mount as m
from ..policy.engine import Engine, FileQuery

FUSE_DIR = "fuse"
BACKING_DIR = "fuse-backing"


class FileServer:
    def __init__(self, engine: Engine, mode: str, events, state_dir: str,  # noqa: ANN001
                 roots: list[tuple[int, str, str]], trash_dir: str) -> None:
        self.engine = engine
        self.mode = mode
        self.events = events
        self.state_dir = state_dir
        self.roots = {str(i): (path.rstrip("/") or "/", backing) for i, path, backing in roots}
        self.trash_dir = trash_dir
        self.fuse_dir = os.path.join(state_dir, FUSE_DIR)
        self.backing_dir = os.path.join(state_dir, BACKING_DIR)
        self.setup = True
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._trio_token = None
        self._cancel = None
        audit = engine.policy.audit
        self._log_allowed = audit.log_allowed

    # -- life ----------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        os.makedirs(self.fuse_dir, 0o700, exist_ok=True)
        os.makedirs(self.backing_dir, 0o700, exist_ok=True)
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
                              trash_dir=self.trash_dir or None, hardlinks=links)

            async def main() -> None:
                self._trio_token = trio.lowlevel.current_trio_token()
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

    # -- decisions -----------------------------------------------------------------------
    def _container_path(self, path: str | None) -> str | None:
        if path is None:
            return None
        rest = path.lstrip("/")
        name, _, tail = rest.partition("/")
        root = self.roots.get(name)
        if root is None:
            return "/" + rest  # the FUSE root itself: not visible in the container
        base = root[0]
        if not tail:
            return base
        return (base.rstrip("/") + "/" + tail) if base != "/" else "/" + tail

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

    def decide(self, op: str, path: str, path2: str | None, pid: int):  # noqa: ANN201
        from ..fusefs.verdict import ALLOW, Verdict

        if self.setup:
            return ALLOW
        cpath = self._container_path(path)
        if cpath is None or path.strip("/") == "":
            return ALLOW  # the FUSE mount's own root: only the server sees it
        d = self.engine.decide("file", FileQuery(op, cpath, self._container_path(path2)))
        decision = d.decision
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
            # held file operations are not wired to the approval queue yet: fail closed
            return Verdict.deny(rule=d.rule, message=(d.message or "") +
                                " (file approvals: refused until answered approvals "
                                "reach the FUSE server)")
        return Verdict.deny(rule=d.rule, message=d.message)

    def _emit(self, ev: dict) -> None:
        ev = dict(ev)
        etype = ev.pop("type", "file_op")
        for key in ("path", "path2"):
            if ev.get(key):
                ev[key] = self._container_path(ev[key])
        self.events.emit(etype, **ev)
