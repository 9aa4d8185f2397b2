"""Operations a trio thread of the monitor (the FUSE server, the network proxy) holds for
a person's answer: handed to the monitor's main loop, which queues them with the held
execs, and woken when answered."""

from __future__ import annotations

import os
from collections import deque


class HeldOp:
    """One held operation; `resolve` comes from the monitor's thread."""

    __slots__ = ("op", "path", "pid", "rule", "message", "timeout", "_queue", "_event",
                 "answer")

    def __init__(self, queue: HeldQueue, op: str, path: str, pid: int, d) -> None:  # noqa: ANN001 - a policy Decision
        self.op, self.path, self.pid = op, path, pid
        self.rule, self.message, self.timeout = d.rule, d.message, d.timeout
        self._queue = queue
        self._event = None
        self.answer = False

    async def wait(self) -> bool:
        import trio

        self._event = trio.Event()
        self._queue.put(self)
        await self._event.wait()
        return self.answer

    def resolve(self, allow: bool) -> None:
        self.answer = allow
        import trio

        try:
            trio.from_thread.run_sync(self._event.set, trio_token=self._queue.trio_token)
        except (RuntimeError, trio.RunFinishedError):
            pass  # the thread is gone: the operation failed with it


class HeldQueue:
    """`fd` turns readable when held operations wait to be taken by the monitor."""

    def __init__(self) -> None:
        self.trio_token = None  # the holding thread's, once its trio loop runs
        self._asks: deque[HeldOp] = deque()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    @property
    def fd(self) -> int:
        return self._wake_r

    def hold(self, op: str, path: str, pid: int, d) -> HeldOp:  # noqa: ANN001
        return HeldOp(self, op, path, pid, d)

    def put(self, ask: HeldOp) -> None:
        self._asks.append(ask)
        try:
            os.write(self._wake_w, b"!")
        except BlockingIOError:
            pass

    def take(self) -> list[HeldOp]:
        try:
            os.read(self._wake_r, 4096)
        except BlockingIOError:
            pass
        out = []
        while self._asks:
            out.append(self._asks.popleft())
        return out

    def close(self) -> None:
        while self._asks:
            self._asks.popleft().answer = False
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
