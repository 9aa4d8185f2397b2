"""`state`, `list` and `ps`: reading containers without changing them."""

from __future__ import annotations

from . import state as st
from .options import GlobalOptions
from .signals import container_pids


def state_of(g: GlobalOptions, cid: str) -> dict:
    return st.load(g.root, cid).oci_state()


def list_all(g: GlobalOptions) -> list[dict]:
    out = []
    for cid in st.list_ids(g.root):
        try:
            out.append(st.load(g.root, cid).oci_state())
        except Exception:  # noqa: BLE001 - a container deleted while we listed
            continue
    return out


def pids_of(g: GlobalOptions, cid: str) -> list[int]:
    state = st.load(g.root, cid)
    if state.status() == "stopped":
        return []
    return container_pids(state)
