"""`start`: release the init blocked on exec.fifo."""

from __future__ import annotations

import os
import time

from ..errors import ContainerError
from ..linux import proc
from . import state as st
from .options import GlobalOptions


def start(g: GlobalOptions, cid: str) -> None:
    state = st.load(g.root, cid)
    with st.Lock(state.dir):
        status = state.status()
        if status == "stopped":
            raise ContainerError("cannot start a container that has stopped", "id")
        if status != "created":
            raise ContainerError("cannot start an already running container", "id")
        host = os.environ.get("NOTIFY_SOCKET")
        sock = None
        if host:
            from . import notify

            if os.path.isdir(os.path.join(state.dir, notify.DIR)):
                sock = notify.bind(state.dir)
        release_fifo(state)
        after_start(g, state)
        if sock is not None:
            notify.forward_ready(sock, host, state.pid, state.data.get("init_start"))


def after_start(g: GlobalOptions, state: st.State) -> None:
    hooks = state.data.get("hooks") or {}
    if hooks.get("poststart"):
        from ..hooks.runner import run_hooks_logged

        # runtime-spec 1.2 (what we declare): a poststart failure is a warning.
        run_hooks_logged(hooks, "poststart", dict(state.oci_state(), status="running"),
                         g.log.warning)


def release_fifo(state: st.State) -> None:
    try:
        fd = os.open(state.fifo_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ContainerError("cannot start an already running container", "id") from None
    # Non-blocking reads: EAGAIN while the init holds the fifo open and has not
    # written yet, EOF while it has not opened it yet (or is gone).
    delay = 0.0002
    data = b""
    try:
        while True:
            try:
                data = os.read(fd, 4096)
                if data:
                    break
            except BlockingIOError:
                pass
            if not proc.is_alive(state.pid, state.data.get("init_start")):
                raise ContainerError("container process is already dead", "id")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        if data.startswith(b"E"):
            # a startContainer hook failed: the init reported it and exits
            while True:
                try:
                    more = os.read(fd, 4096)
                except BlockingIOError:
                    time.sleep(0.001)
                    continue
                if not more:
                    break
                data += more
            os.unlink(state.fifo_path)
            raise ContainerError(data[1:].decode(errors="replace"), "hooks.startContainer")
    finally:
        os.close(fd)
    os.unlink(state.fifo_path)
