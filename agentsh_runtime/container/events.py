"""`events`: cgroup stats once or every interval, and OOM kills as they happen."""

from __future__ import annotations

import time

from ..cgroups.manager import CgroupSet
from ..errors import ContainerError
from . import state as st
from .options import GlobalOptions


def stats_event(state: st.State) -> dict:
    from ..cgroups.stats import read_stats

    return {"type": "stats", "id": state.id,
            "data": read_stats(CgroupSet.from_state(state.data.get("cgroup")))}


def events(g: GlobalOptions, cid: str, interval: float, once: bool, emit) -> None:  # noqa: ANN001
    from ..cgroups.stats import oom_kill_count

    state = st.load(g.root, cid)
    if state.status() == "stopped":
        raise ContainerError("container not running", "id")
    if once:
        emit(stats_event(state))
        return
    cg = CgroupSet.from_state(state.data.get("cgroup"))
    ooms = oom_kill_count(cg)
    next_stats = 0.0
    while True:
        running = state.status() != "stopped"
        # counted after the status so a kill that stopped the container is still reported
        count = oom_kill_count(cg)
        if count > ooms:
            emit({"type": "oom", "id": cid, "data": {}})
            ooms = count
        if not running:
            return
        now = time.monotonic()
        if now >= next_stats:
            emit(stats_event(state))
            next_stats = now + interval
        time.sleep(min(0.2, interval))
