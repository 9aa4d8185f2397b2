"""`run`: create, start, wait and delete in one command."""

from __future__ import annotations

from ..linux import caps
from .create import create
from .delete import destroy, kill_and_wait
from .options import CreateOptions, GlobalOptions
from .start import release_fifo
from .wait import wait_forwarding


def run(g: GlobalOptions, opts: CreateOptions, detach: bool = False,
        keep: bool = False) -> int:
    if not detach:
        caps.set_child_subreaper()
    state = create(g, opts)
    try:
        release_fifo(state)
    except BaseException:
        kill_and_wait(state)
        destroy(g, state)
        raise
    if detach:
        return 0
    code = wait_forwarding(state.pid)
    if not keep:
        if state.status() != "stopped":
            kill_and_wait(state)
        destroy(g, state)
    return code
