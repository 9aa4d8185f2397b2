"""The caller's side of runc's --console-socket protocol (contract §2.1).

The test listens on an AF_UNIX stream socket; the runtime connects and sends the
pty master with one SCM_RIGHTS message whose data is the pty name.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path


class ConsoleSocket:
    def __init__(self) -> None:
        # sun_path is limited to 108 bytes: keep it short, outside pytest's long tmp paths.
        self.dir = Path(tempfile.mkdtemp(prefix="cs-", dir="/tmp"))
        self.path = self.dir / "console.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        self.sock.listen(8)
        self.master: int | None = None
        self.payload: bytes = b""
        self.fds: list[int] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            self.sock.settimeout(30)
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(30)
                msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
                self.payload = msg
                self.fds = list(fds)
                if fds:
                    self.master = fds[0]
        except BaseException as e:  # noqa: BLE001 - reported by wait()
            self.error = e

    def wait(self, timeout: float = 15.0) -> int:
        """Wait for the master fd; returns it."""
        self._thread.join(timeout)
        if self.error is not None:
            raise AssertionError(f"console socket: {self.error!r}")
        if self.master is None:
            raise AssertionError("the runtime did not send a pty master on the console socket")
        return self.master

    def write(self, data: bytes) -> None:
        assert self.master is not None
        os.write(self.master, data)

    def read_until(self, needle: bytes | None = None, timeout: float = 10.0) -> bytes:
        """Read from the master until needle appears, EOF/EIO (slave closed) or timeout."""
        assert self.master is not None
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO once every slave fd is closed
                break
            if not chunk:
                break
            out += chunk
            if needle is not None and needle in out:
                break
        return out

    def close(self) -> None:
        self.sock.close()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []
        self.master = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> ConsoleSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
