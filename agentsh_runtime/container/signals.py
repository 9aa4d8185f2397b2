"""Signalling container processes without racing pid reuse."""

from __future__ import annotations

import _signal
import os

from ..cgroups.manager import CgroupSet
from ..linux import proc
from ..spec.signals import SIGCONT, SIGKILL
from . import state as st


def signal_init(state: st.State, sig: int) -> None:
    """pidfd first, then check the start time, so a recycled pid is never hit."""
    pid = state.pid
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        raise ProcessLookupError(3, "no such process") from None
    try:
        if not proc.is_alive(pid, state.data.get("init_start")):
            raise ProcessLookupError(3, "no such process")
        _signal.pidfd_send_signal(pidfd, sig)
    finally:
        os.close(pidfd)


def container_pids(state: st.State) -> list[int]:
    pids = CgroupSet.from_state(state.data.get("cgroup")).pids()
    if not pids and state.data.get("namespaces", {}).get("pid") == "":
        pids = proc.children_pids_in_ns(f"/proc/{state.pid}/ns/pid")
    return pids


def signal_all(state: st.State, sig: int) -> None:
    cg = CgroupSet.from_state(state.data.get("cgroup"))
    frozen = sig == SIGKILL and state.status() == "paused"
    for pid in container_pids(state):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    if frozen:
        _thaw(cg)
    elif sig == SIGKILL:
        for pid in container_pids(state):
            try:
                os.kill(pid, SIGCONT)
            except ProcessLookupError:
                pass


def _thaw(cg: CgroupSet) -> None:
    path = cg.freezer_state_file()
    if not path:
        return
    try:
        with open(path, "w") as f:
            f.write("THAWED" if path.endswith("freezer.state") else "0")
    except OSError:
        pass
