"""The approvals socket of a tracer: `agentsh-runtime approvals --socket PATH` lists and
answers held operations through it. One JSON request per connection, as the monitor's
control socket: {"op": "approvals" | "approve" | "deny" | "ping", "req": ..., "reason": ...}.
The socket is created mode 0600 (the tracer's user only)."""

from __future__ import annotations

import os
import socket
import threading

from .. import jsonio


class ApprovalsSocket:
    def __init__(self, path: str, tracer) -> None:  # noqa: ANN001 - a Tracer
        self.path, self.tracer = path, tracer
        self.stopping = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        old = os.umask(0o177)
        try:
            if os.path.exists(path) and _stale(path):
                os.unlink(path)
            self.sock.bind(path)
        finally:
            os.umask(old)
        self.sock.listen(8)
        self._thread = threading.Thread(target=self._serve, name="approvals", daemon=True)
        self._thread.start()

    def close(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    buf = b""
                    while not buf.endswith(b"\n"):
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        buf += chunk
                    reply = self.handle(jsonio.loads(buf.decode().strip() or "{}"))
                except (OSError, ValueError) as e:
                    reply = {"ok": False, "error": str(e)}
                try:
                    conn.sendall((jsonio.dumps(reply) + "\n").encode())
                except OSError:
                    pass
            if self.stopping:
                # `delete`: the events first; our exit then takes every tracee with us
                # (PTRACE_O_EXITKILL)
                self.tracer.events.flush()
                self.close()
                os._exit(0)

    def handle(self, req: dict) -> dict:
        op = req.get("op")
        if op == "approvals":
            return {"ok": True, "pending": self.tracer.pending_list()}
        if op in ("approve", "deny"):
            rid = str(req.get("req"))
            reason = str(req.get("reason") or f"{op}d by an operator")
            if not self.tracer.answer(rid, op == "approve", reason):
                return {"ok": False, "error": f"no pending request {rid}"}
            return {"ok": True}
        if op == "stop":
            self.stopping = True
            return {"ok": True}
        if op == "ping":
            return {"ok": True, "pid": os.getpid()}
        return {"ok": False, "error": f"unknown op {op!r}"}


def _stale(path: str) -> bool:
    """A socket file nobody listens on any more (a tracer that was killed)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return False
    except OSError:
        return True
    finally:
        s.close()


def request(path: str, req: dict, timeout: float = 5.0) -> dict:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall((jsonio.dumps(req) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    return jsonio.loads(buf.decode() or "{}")  # type: ignore[return-value]
