"""`update`: change a running container's cgroup resources."""

from __future__ import annotations

from ..cgroups.manager import CgroupSet
from ..errors import ContainerError
from . import state as st
from .options import GlobalOptions


def merge_resources(current: dict, change: dict) -> dict:
    """runc layers the new LinuxResources over the old, one level deep per controller."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in current.items()}
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


def update(g: GlobalOptions, cid: str, change: dict) -> None:
    state = st.load(g.root, cid)
    with st.Lock(state.dir):
        if state.status() == "stopped":
            raise ContainerError("container not running", "id")
        config = state.config()
        linux = config.setdefault("linux", {})
        # devices are replaced, not merged: the new rule list stands alone
        merged = merge_resources(linux.get("resources") or {}, change)
        for warning in CgroupSet.from_state(state.data.get("cgroup")).apply_resources(merged):
            g.log.warning(warning)
        linux["resources"] = merged
        state.save_config(config)
