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


def _capped_by_policy(state: st.State, resources: dict) -> dict:
    """POLICY.md: `update` cannot raise a limit above the policy's (the stricter wins)."""
    import os

    from ..policy.limits import merge_into_linux_resources
    from .policy_setup import load_policy_text

    with open(os.path.join(state.dir, "policy.yaml")) as f:
        policy = load_policy_text(f.read(), "policy")
    return merge_into_linux_resources(resources, policy.resource_limits,
                                      _devices(resources))


def _devices(resources: dict) -> list[tuple[int, int]]:
    out = []
    for key in ("throttleReadBpsDevice", "throttleWriteBpsDevice"):
        for dev in (resources.get("blockIO") or {}).get(key) or []:
            out.append((int(dev["major"]), int(dev["minor"])))
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
        if state.data.get("policy"):
            merged = _capped_by_policy(state, merged)
        for warning in CgroupSet.from_state(state.data.get("cgroup")).apply_resources(merged):
            g.log.warning(warning)
        linux["resources"] = merged
        state.save_config(config)
