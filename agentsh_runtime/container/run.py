"""`run`: create, start, wait and delete in one command."""

from __future__ import annotations

from ..linux import caps
from .create import create
from .delete import destroy, kill_and_wait
from .options import CreateOptions, GlobalOptions
from .start import after_start, release_fifo
from .wait import wait_forwarding


def _wants_terminal(bundle: str) -> bool:
    import os

    from ..spec.load import read_json

    try:
        raw = read_json(os.path.join(bundle, "config.json"), "config.json")
    except Exception:  # noqa: BLE001 - create reports a bad config properly
        return False
    return bool((raw.get("process") or {}).get("terminal"))


def run(g: GlobalOptions, opts: CreateOptions, detach: bool = False,
        keep: bool = False) -> int:
    if not detach:
        caps.set_child_subreaper()
    pair = None
    if not detach and not opts.console_socket and _wants_terminal(opts.bundle):
        from .ttyproxy import ConsolePair

        pair = ConsolePair()
        opts.console_fd = pair.child_fd()
    state = create(g, opts)
    master = -1
    try:
        if pair is not None:
            master = pair.receive_master()
        release_fifo(state)
        after_start(g, state)
    except BaseException:
        kill_and_wait(state)
        destroy(g, state)
        raise
    if detach:
        return 0
    if master >= 0:
        from .ttyproxy import proxy_until_exit

        code = proxy_until_exit(master, state.pid)
    else:
        code = wait_forwarding(state.pid)
    if not keep:
        if state.status() != "stopped":
            kill_and_wait(state)
        destroy(g, state)
    return code
