"""`start`: release the init blocked on exec.fifo."""

from __future__ import annotations

import os
import time

from ..errors import ContainerError
from ..linux import proc
from . import notify
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
        host = notify.host_socket()
        sock = None
        if host and os.path.isdir(os.path.join(state.dir, notify.DIR)):
            sock = notify.bind(state.dir)
        release_fifo(state)
        if sock is not None:
            notify.forward_ready(sock, host, state.pid, state.data.get("init_start"))


def release_fifo(state: st.State) -> None:
    try:
        fd = os.open(state.fifo_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ContainerError("cannot start an already running container", "id") from None
    # Non-blocking reads: EAGAIN while the init holds the fifo open and has not
    # written yet, EOF while it has not opened it yet (or is gone).
    delay = 0.0002
    try:
        while True:
            try:
                if os.read(fd, 16):
                    break
            except BlockingIOError:
                pass
            if not proc.is_alive(state.pid, state.data.get("init_start")):
                raise ContainerError("container process is already dead", "id")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    finally:
        os.close(fd)
    os.unlink(state.fifo_path)
