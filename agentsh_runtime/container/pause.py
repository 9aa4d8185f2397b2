"""`pause` and `resume`: the freezer."""

from __future__ import annotations

from ..cgroups.manager import CgroupSet
from ..errors import ContainerError
from . import state as st
from .options import GlobalOptions


def pause(g: GlobalOptions, cid: str) -> None:
    state = st.load(g.root, cid)
    with st.Lock(state.dir):
        status = state.status()
        if status not in ("running", "created"):
            raise ContainerError("container not running", "id")
        CgroupSet.from_state(state.data.get("cgroup")).freeze()


def resume(g: GlobalOptions, cid: str) -> None:
    state = st.load(g.root, cid)
    with st.Lock(state.dir):
        if state.status() != "paused":
            raise ContainerError("container not paused", "id")
        CgroupSet.from_state(state.data.get("cgroup")).thaw()
