"""sd_notify from inside the container, passed through as runc does.

create: when NOTIFY_SOCKET is set, a `notify` directory in the state dir is
bind-mounted read-only at /run/notify and the container gets
NOTIFY_SOCKET=/run/notify/notify.sock. start: bind that socket, release the
init, wait for the container's READY=, and forward it with MAINPID to the
caller's NOTIFY_SOCKET.
"""

from __future__ import annotations

import os
import time

from ..linux import proc
from ..spec.model import Mount, Spec

DIR = "notify"
SOCK = "notify.sock"
IN_CONTAINER = "/run/notify"


def host_socket() -> str | None:
    return os.environ.get("NOTIFY_SOCKET") or None


def prepare(spec: Spec, state_dir: str) -> None:
    """Add the socket's directory and env to the spec (create)."""
    assert spec.process is not None
    path = os.path.join(state_dir, DIR)
    os.mkdir(path, 0o755)
    spec.mounts.append(Mount({"destination": IN_CONTAINER, "source": path, "type": "bind",
                              "options": ["bind", "nosuid", "noexec", "nodev", "ro"]},
                             "mounts[notify]"))
    spec.process.env.append(f"NOTIFY_SOCKET={IN_CONTAINER}/{SOCK}")


def bind(state_dir: str):  # noqa: ANN201 - a socket.socket
    import socket

    path = os.path.join(state_dir, DIR, SOCK)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o777)
    return sock


def forward_ready(sock, host: str, pid: int, started: int | None) -> None:  # noqa: ANN001
    """Wait for READY= from the container, then tell the host's socket with MAINPID."""
    import socket

    sock.settimeout(0.1)
    try:
        while proc.is_alive(pid, started):
            try:
                data = sock.recv(4096)
            except TimeoutError:
                continue
            for line in data.split(b"\n"):
                if line.startswith(b"READY="):
                    out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    try:
                        out.connect(host)
                        out.send(line + b"\n")
                        out.send(f"MAINPID={pid}\n".encode())
                    finally:
                        out.close()
                    return
            time.sleep(0)
    finally:
        sock.close()
