"""Newline-delimited JSON messages over a pair of pipes between parent and child."""

from __future__ import annotations

import os

from .. import jsonio


class Channel:
    __slots__ = ("rfd", "wfd", "_buf")

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd, self.wfd = rfd, wfd
        self._buf = b""

    def send(self, msg: dict) -> None:
        data = (jsonio.dumps(msg) + "\n").encode()
        while data:
            data = data[os.write(self.wfd, data):]

    def recv(self) -> dict | None:
        """The next message, or None at end of file."""
        while b"\n" not in self._buf:
            chunk = os.read(self.rfd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return jsonio.loads(line)  # type: ignore[return-value]

    def close(self) -> None:
        for fd in (self.rfd, self.wfd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.rfd = self.wfd = -1
