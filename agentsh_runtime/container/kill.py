"""`kill`: send a signal to the init, or to every process with --all."""

from __future__ import annotations

from ..errors import ContainerError
from . import state as st
from .options import GlobalOptions
from .signals import signal_all, signal_init


def kill(g: GlobalOptions, cid: str, sig: int, all_processes: bool = False) -> None:
    state = st.load(g.root, cid)
    status = state.status()
    if status == "stopped" and not all_processes:
        raise ContainerError("container not running", "id")
    if all_processes:
        signal_all(state, sig)
        return
    try:
        signal_init(state, sig)
    except ProcessLookupError:
        raise ContainerError("container not running", "id") from None
