"""resource_limits' time limits in ptrace mode: command_timeout (each exec'd command),
session_timeout (the first process, and so everything), idle_timeout (no traced
syscall for that long). A thread of its own sleeps until the next deadline and kills
with SIGKILL (any thread may signal; only the tracing thread may ptrace)."""

from __future__ import annotations

import heapq
import os
import threading
import time

from ..linux import proc


class TimeLimits:
    def __init__(self, limits, events) -> None:  # noqa: ANN001 - model.ResourceLimits
        self.command = limits.command_timeout if limits else None
        self.session = limits.session_timeout if limits else None
        self.idle = limits.idle_timeout if limits else None
        self.events = events
        self.root = 0
        self.last_activity = time.monotonic()
        self._heap: list[tuple[float, int, int | None, str]] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return bool(self.command or self.session or self.idle)

    def start(self, root: int) -> None:
        if not self.active:
            return
        self.root = root
        if self.session:
            self._push(self.session, root, "session_timeout")
        self._thread = threading.Thread(target=self._run, name="time-limits", daemon=True)
        self._thread.start()

    def exec_started(self, pid: int) -> None:
        if self.command and pid != self.root:
            self._push(self.command, pid, "command_timeout")

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()

    def _push(self, seconds: float, pid: int, limit: str) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, pid,
                                        proc.start_time(pid), limit))
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._stop:
                now = time.monotonic()
                wait = 1.0
                if self._heap:
                    wait = min(wait, self._heap[0][0] - now)
                if self.idle:
                    idle_left = self.last_activity + self.idle - now
                    if idle_left <= 0:
                        self.idle = None
                        self._kill(self.root, proc.start_time(self.root), "idle_timeout",
                                   now - self.last_activity)
                        continue
                    wait = min(wait, idle_left)
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                deadline, pid, started, limit = heapq.heappop(self._heap)
                seconds = self.command if limit == "command_timeout" else self.session
                self._kill(pid, started, limit, seconds or 0.0)

    def _kill(self, pid: int, started: int | None, limit: str, seconds: float) -> None:
        if not proc.is_alive(pid, started):
            return
        try:
            os.kill(pid, 9)
        except OSError:
            return
        self.events.emit("command_killed", pid=pid, comm=proc.comm_of(pid),
                         policy={"decision": "deny", "rule": f"resource_limits.{limit}"},
                         effective_action="blocked",
                         fields={"limit": limit, "after_s": round(seconds, 1),
                                 "container": pid == self.root, "mode": "ptrace"})
        self.events.flush()
