"""The runtime-spec seccomp-notify hand-off: the listener fd to the agent at listenerPath.

config-linux.md, "seccomp": when a SCMP_ACT_NOTIFY rule is used the runtime connects
to `listenerPath` (AF_UNIX, SOCK_STREAM), sends exactly one container process state
per connection, with the listener fd attached by SCM_RIGHTS and named in `fds`,
then closes the connection; a failure to send is an error. The message is the
`ContainerProcessState` (specs-go/state.go):

    {"ociVersion": ..., "fds": ["seccompFd"], "pid": <container process, as the
     runtime sees it>, "metadata": <listenerMetadata, left out when empty>,
     "state": {"ociVersion", "id", "status", "pid", "bundle", "annotations"}}

runc sends it from the host side during create, with status "creating".

`listenerPath` is a host path: connect before pivot_root, or from the parent.
`connect` and `send` are split so that an init which loads its filter after
pivot_root can connect early and send after `install`. Uses `_socket` rather
than `socket` (whose enum-based import costs ~8 ms).
"""

from __future__ import annotations

import _socket
import os
import sys

from ..errors import SetupError
from ..jsonio import dumps

SECCOMP_FD_NAME = "seccompFd"
_FIELD = "linux.seccomp.listenerPath"


def process_state(state: dict, pid: int, metadata: str | None = None,
                  oci_version: str | None = None) -> bytes:
    """The ContainerProcessState JSON for `state` (the runtime-spec state object)."""
    msg: dict = {
        "ociVersion": oci_version or state.get("ociVersion", ""),
        "fds": [SECCOMP_FD_NAME],
        "pid": pid,
    }
    if metadata:
        msg["metadata"] = metadata
    msg["state"] = state
    return dumps(msg).encode()


def connect(listener_path: str, timeout: float | None = 5.0) -> _socket.socket:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        sock.settimeout(timeout)
        sock.connect(listener_path)
    except OSError as e:
        sock.close()
        raise SetupError(f"cannot connect to the seccomp agent at {listener_path}: "
                         f"{e.strerror or e}", _FIELD) from None
    return sock


def send(sock: _socket.socket, payload: bytes, listener_fd: int,
         listener_path: str = "") -> None:
    """Send `payload` with `listener_fd` attached, then close the connection."""
    try:
        anc = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, listener_fd.to_bytes(4, sys.byteorder))]
        n = sock.sendmsg([payload], anc)
        view = memoryview(payload)[n:]
        while view:  # a stream socket may take less at once; the fd went with the first part
            view = view[sock.send(view):]
    except OSError as e:
        raise SetupError(f"cannot send the seccomp listener to the agent at {listener_path}: "
                         f"{e.strerror or e}", _FIELD) from None
    finally:
        sock.close()


def send_state(listener_path: str, listener_fd: int, state: dict, pid: int,
               metadata: str | None = None, oci_version: str | None = None,
               close_fd: bool = True, timeout: float | None = 5.0) -> None:
    """Connect, send the process state and the listener fd, close; then (by default)
    close our copy of the listener fd, so only the agent holds it."""
    try:
        payload = process_state(state, pid, metadata, oci_version)
        send(connect(listener_path, timeout), payload, listener_fd, listener_path)
    finally:
        if close_fd:
            os.close(listener_fd)
